package runlock_test

import (
	"context"
	"testing"

	"kaspi-amocrm/pkg/runlock"
	"kaspi-amocrm/pkg/store/storetest"
)

// Two hosts (separate storage folders, so separate lock files) sharing one
// database: the database lock alone keeps the second run out. Runs on
// SQLite always and on MariaDB/PostgreSQL when their DSNs are set.
func TestTryAcquire_DatabaseLockExcludesAnotherHost(t *testing.T) {
	ctx := context.Background()
	for _, drv := range storetest.Drivers(t) {
		t.Run(drv, func(t *testing.T) {
			dbA := storetest.Open(t, drv)
			dbB := storetest.OpenConfig(t, dbA.Config()) // another connection pool: another host
			hostA, hostB := t.TempDir(), t.TempDir()

			release, ok, err := runlock.TryAcquire(ctx, hostA, dbA)
			if err != nil || !ok {
				t.Fatalf("host A: ok=%v err=%v", ok, err)
			}
			if _, ok, err := runlock.TryAcquire(ctx, hostB, dbB); err != nil || ok {
				t.Fatalf("host B while A runs: ok=%v err=%v, want busy", ok, err)
			}
			release()
			releaseB, ok, err := runlock.TryAcquire(ctx, hostB, dbB)
			if err != nil || !ok {
				t.Fatalf("host B after A: ok=%v err=%v", ok, err)
			}
			releaseB()
		})
	}
}
