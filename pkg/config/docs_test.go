package config

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// .env.example and INSTALL.md name the same supported database versions,
// and INSTALL quotes the CGI failure line of Apache 2.4 as well as 2.2's.
func TestDocs_AgreeOnVersionsAndQuoteApacheLogLines(t *testing.T) {
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	env, install := read(".env.example"), read("INSTALL.md")
	versions := map[string]*regexp.Regexp{
		"MariaDB 10.6":   regexp.MustCompile(`MariaDB\**\s*(\(|)10\.6`),
		"MySQL 5.7":      regexp.MustCompile(`MySQL\**\s*(\(|)5\.7`),
		"PostgreSQL 9.2": regexp.MustCompile(`PostgreSQL\**\s*(\(|)9\.2`),
	}
	for name, re := range versions {
		if !re.MatchString(env) {
			t.Errorf(".env.example does not name %s", name)
		}
		if !re.MatchString(install) {
			t.Errorf("INSTALL.md does not name %s", name)
		}
	}
	for _, line := range []string{"End of script output before headers", "Premature end of script headers"} {
		if !regexp.MustCompile(regexp.QuoteMeta(line)).MatchString(install) {
			t.Errorf("INSTALL.md does not quote %q", line)
		}
	}
}
