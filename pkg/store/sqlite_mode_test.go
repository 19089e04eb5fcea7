package store_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
)

// The SQLite file (tokens, buyers' names and phones) and its -wal/-shm are
// created owner-only, even under a permissive umask.
func TestSQLite_FileIsCreatedOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "storage", "kaspi_amocrm.sqlite")
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, SQLitePath: path})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveToken(ctx, "amocrm", domain.Token{AccessToken: "a", RefreshToken: "r", ExpiresAt: time.Now().Unix()}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s is %v", filepath.Base(f), st.Mode().Perm())
		}
	}
}
