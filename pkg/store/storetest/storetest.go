// Package storetest opens throwaway databases for tests: SQLite always,
// MariaDB/MySQL and PostgreSQL when KA_TEST_MYSQL_DSN / KA_TEST_PGSQL_DSN
// name a server, e.g. root@tcp(127.0.0.1:3306)/ and
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable. Each
// database gets a random name, is created on the server and dropped when
// the test ends. Run is the conformance suite every store must pass.
package storetest

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"testing"

	"kaspi-amocrm/pkg/store"
)

// Environment variables naming the test servers.
const (
	EnvMySQL = "KA_TEST_MYSQL_DSN"
	EnvPgSQL = "KA_TEST_PGSQL_DSN"
)

// Drivers lists the databases to test against: sqlite always, mysql and
// pgsql when their DSN variable is set.
func Drivers(t testing.TB) []string {
	t.Helper()
	out := []string{store.DriverSQLite}
	if os.Getenv(EnvMySQL) != "" {
		out = append(out, store.DriverMySQL)
	}
	if os.Getenv(EnvPgSQL) != "" {
		out = append(out, store.DriverPgSQL)
	}
	return out
}

// ForEach runs fn as a subtest per driver on a fresh migrated store.
func ForEach(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, drv := range Drivers(t) {
		t.Run(drv, func(t *testing.T) {
			fn(t, Open(t, drv))
		})
	}
}

// Open returns a store on a fresh, migrated database of the driver, closed
// and dropped when the test ends.
func Open(t testing.TB, driver string) *store.DB {
	t.Helper()
	_, cfg := OpenEmpty(t, driver)
	db := OpenConfig(t, cfg)
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", driver, err)
	}
	return db
}

// OpenConfig opens another store handle on an existing database (closed
// when the test ends).
func OpenConfig(t testing.TB, cfg store.Config) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("open %s: %v", cfg.Driver, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// OpenEmpty creates an empty database and returns a raw connection to it
// (for building fixtures by hand, e.g. a PHP-made schema) and the Config
// that opens it with store.Open. Both go away when the test ends.
func OpenEmpty(t testing.TB, driver string) (*sql.DB, store.Config) {
	t.Helper()
	cfg, drop, err := CreateDatabase(context.Background(), driver, t.TempDir(), "ka_test_")
	if errors.Is(err, ErrNoServer) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	// Registered before the store's own cleanup, so it runs after it
	// (cleanups run last-in first-out): the database is idle by then.
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	s := OpenConfig(t, cfg)
	return s.SQL(), cfg
}
