package storetest

import (
	"context"
	"errors"
	"kaspi-amocrm/pkg/store"
	"testing"
)

// runSchema is the contract of the schema and the locks: migrating is
// idempotent and exclusive, and a named lock excludes other handles.
func runSchema(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("Migrate_TwiceIsANoOpAndSchemaIsCurrent", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		v, err := db.Migrate(ctx)
		must(t, err)
		cur, latest, dirty, err := db.SchemaStatus(ctx)
		must(t, err)
		if v != latest || cur != latest || dirty || latest == 0 {
			t.Fatalf("version %d, status %d/%d dirty=%v", v, cur, latest, dirty)
		}
		must(t, db.CheckSchema(ctx))
	})

	t.Run("Migrate_BusyWhileAnotherProcessMigrates", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		release, ok, err := second(t, db).TryLock(ctx, "migrate")
		must(t, err)
		if !ok {
			t.Fatal("lock not taken")
		}
		defer release()
		if _, err := db.Migrate(ctx); !errors.Is(err, store.ErrMigrationBusy) {
			t.Fatalf("want ErrMigrationBusy, got %v", err)
		}
	})

	t.Run("TryLock_ExcludesAnotherHandleUntilReleased", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		db2 := second(t, db)
		rel, ok, err := db.TryLock(ctx, "cron")
		must(t, err)
		if !ok {
			t.Fatal("first lock not taken")
		}
		if _, ok2, err := db2.TryLock(ctx, "cron"); err != nil || ok2 {
			t.Fatalf("second handle got a held lock: ok=%v err=%v", ok2, err)
		}
		relOther, okOther, err := db2.TryLock(ctx, "other")
		must(t, err)
		if !okOther {
			t.Fatal("a different name must not be blocked")
		}
		relOther()
		rel()
		rel() // releasing twice is harmless
		rel2, ok2, err := db2.TryLock(ctx, "cron")
		must(t, err)
		if !ok2 {
			t.Fatal("lock not free after release")
		}
		rel2()
	})
}
