// Package hosting holds the web server files shipped in the hosting tree;
// its test checks what the root .htaccess denies by name.
package hosting

import (
	"os"
	"regexp"
	"testing"
)

// The root .htaccess denies the private files by name in every folder:
// .env, databases with SQLite's -wal/-shm/-journal, logs; never a .cgi.
func TestHtaccess_DeniesPrivateFilesByName(t *testing.T) {
	data, err := os.ReadFile(".htaccess")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<FilesMatch "([^"]+)">`).FindSubmatch(data)
	if m == nil {
		t.Fatal("no FilesMatch in .htaccess")
	}
	deny := regexp.MustCompile(string(m[1]))
	for _, name := range []string{".env", "kaspi_amocrm.sqlite", "kaspi_amocrm.sqlite-wal", "kaspi_amocrm.sqlite-shm",
		"kaspi_amocrm.sqlite-journal", "shop.db", "shop.db-wal", "2026-12-03.log", "scheduler.log", ".git", "dump.sql", ".env~"} {
		if !deny.MatchString(name) {
			t.Errorf("%s is not denied", name)
		}
	}
	for _, name := range []string{"cron.cgi", "oauth_callback.cgi", "INSTALL.md"} {
		if deny.MatchString(name) {
			t.Errorf("%s is denied", name)
		}
	}
}
