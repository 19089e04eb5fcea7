package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/migrations"
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

// A migration that failed before it took effect is simply run again. The
// versions need not be consecutive: recovery goes back to the migration
// before, not to version-1.
func TestMigrate_DirtyBeforeMigrationTookEffect(t *testing.T) {
	ctx := context.Background()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		latest, _ := db.LatestVersion()
		// Undo what the last migration made (the table or column it adds) and mark it dirty.
		undo, check := latestMigrationUndo(t, db.Driver(), latest)
		if db.Driver() == store.DriverSQLite {
			// SQLite's DROP COLUMN answers "no such column" for a column
			// the migrations added until VACUUM has rewritten the file.
			if _, err := db.SQL().Exec("VACUUM"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := db.SQL().Exec(undo); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec(check); err == nil {
			t.Fatalf("%q did not undo the migration", undo)
		}
		setDirty(t, db, latest)
		v, err := db.Migrate(ctx)
		if err != nil || v != latest {
			t.Fatalf("recover: %d %v", v, err)
		}
		if _, err := db.SQL().Exec(check); err != nil {
			t.Fatalf("not back after %q: %v", undo, err)
		}
	})
}

// latestMigrationUndo reads what the newest migration adds (a table or a
// column) and returns the statement that drops it and a query that fails
// until it is there; a newest migration of another kind needs this test
// adapted.
func latestMigrationUndo(t *testing.T, driver string, version uint) (undo, check string) {
	t.Helper()
	dir := driver
	entries, err := fs.ReadDir(migrations.FS, dir)
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("%06d_", version)
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		b, err := fs.ReadFile(migrations.FS, dir+"/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		if m := regexp.MustCompile(`(?i)CREATE TABLE\s+(\w+)`).FindSubmatch(b); m != nil {
			return "DROP TABLE " + string(m[1]), "SELECT COUNT(*) FROM " + string(m[1])
		}
		if m := regexp.MustCompile(`(?i)ALTER TABLE\s+(\w+)\s+ADD COLUMN\s+(\w+)`).FindSubmatch(b); m != nil {
			return "ALTER TABLE " + string(m[1]) + " DROP COLUMN " + string(m[2]), "SELECT " + string(m[2]) + " FROM " + string(m[1])
		}
		t.Fatalf("migration %s adds no table or column: adapt this test to undo what it does", e.Name())
	}
	t.Fatalf("no migration %d for %s", version, driver)
	return "", ""
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
