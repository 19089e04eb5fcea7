package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

func setDirty(t *testing.T, db *store.DB, version uint) {
	t.Helper()
	val := "1"
	if db.Driver() == store.DriverPgSQL {
		val = "true"
	}
	if _, err := db.SQL().Exec("UPDATE schema_migrations SET version = " + itoa(version) + ", dirty = " + val); err != nil {
		t.Fatal(err)
	}
}

func itoa(v uint) string { return strconv.FormatUint(uint64(v), 10) }

func t0() time.Time { return time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC) }

// A crash after a migration ran but before golang-migrate marked it clean
// leaves the version dirty with the change in place. On MySQL and
// PostgreSQL the rerun's "already exists" error code proves it, and the
// version is marked clean; SQLite reports no such code, so the user gets
// the exact fix.
func TestMigrate_DirtyAfterAppliedMigration(t *testing.T) {
	ctx := context.Background()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		latest, _ := db.LatestVersion()
		setDirty(t, db, latest)
		if err := db.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaBehind) {
			t.Fatalf("dirty schema must count as behind: %v", err)
		}
		v, err := db.Migrate(ctx)
		if db.Driver() == store.DriverSQLite {
			var de *store.DirtyError
			if !errors.As(err, &de) || de.Version != latest || !strings.Contains(de.Fix, "UPDATE schema_migrations SET dirty = 0") {
				t.Fatalf("want a DirtyError with the fix, got %v", err)
			}
			return
		}
		if err != nil || v != latest {
			t.Fatalf("recover: %d %v", v, err)
		}
		if err := db.CheckSchema(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// A migration that failed before it took effect is simply run again.
func TestMigrate_DirtyBeforeMigrationTookEffect(t *testing.T) {
	ctx := context.Background()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		// The last migration adds orders_map.completed_at: undo it and
		// mark it dirty (the version before it is not latest-1: versions
		// have gaps).
		// A query first: SQLite's DROP COLUMN on a pooled connection whose
		// schema predates the migration answers "no such column".
		var n int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM orders_map WHERE completed_at IS NULL").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec("ALTER TABLE orders_map DROP COLUMN completed_at"); err != nil {
			t.Fatal(err)
		}
		latest, _ := db.LatestVersion()
		setDirty(t, db, latest)
		v, err := db.Migrate(ctx)
		if err != nil || v != latest {
			t.Fatalf("recover: %d %v", v, err)
		}
		if _, err := db.SQL().Exec("UPDATE orders_map SET completed_at = NULL"); err != nil {
			t.Fatalf("completed_at not back: %v", err)
		}
	})
}

func TestSchemaStatus_BehindUntilMigrated(t *testing.T) {
	ctx := context.Background()
	for _, driver := range storetest.Drivers(t) {
		t.Run(driver, func(t *testing.T) {
			_, cfg := storetest.OpenEmpty(t, driver)
			db := storetest.OpenConfig(t, cfg)
			cur, latest, dirty, err := db.SchemaStatus(ctx)
			if err != nil || cur != 0 || latest == 0 || dirty {
				t.Fatalf("empty: %d %d %v %v", cur, latest, dirty, err)
			}
			if err := db.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaBehind) {
				t.Fatalf("empty database must be behind: %v", err)
			}
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := db.CheckSchema(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SQL().Exec("UPDATE schema_migrations SET version = 3"); err != nil {
				t.Fatal(err)
			}
			if err := db.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaBehind) {
				t.Fatalf("older version must be behind: %v", err)
			}
		})
	}
}

func TestOpen_ErrorNamesServerNeverPassword(t *testing.T) {
	ctx := context.Background()
	for _, cfg := range []store.Config{
		{Driver: "mysql", Host: "127.0.0.1", Port: "1", Name: "shop", User: "u", Pass: "s3cret-pass"},
		{Driver: "postgres", Host: "127.0.0.1", Port: "1", Name: "shop", User: "u", Pass: "s3cret-pass"},
	} {
		_, err := store.Open(ctx, cfg)
		if err == nil {
			t.Fatalf("%s: connected to a closed port", cfg.Driver)
		}
		msg := err.Error()
		if !strings.Contains(msg, "127.0.0.1:1") || strings.Contains(msg, "s3cret") || strings.Contains(msg, "\n") {
			t.Errorf("%s: %q", cfg.Driver, msg)
		}
	}
	for _, drv := range []string{"", "oracle"} {
		if _, err := store.Open(ctx, store.Config{Driver: drv}); err == nil || !strings.Contains(err.Error(), "driver") {
			t.Errorf("driver %q: %v", drv, err)
		}
	}
}
