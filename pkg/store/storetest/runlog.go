package storetest

import (
	"context"
	"errors"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
	"testing"
	"time"
)

// runRunLog is the contract of the run log behind the status page.
func runRunLog(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("RunLog_NewestFirstPerTask", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		a, err := db.StartRun(ctx, domain.TaskFetchNew, t0)
		must(t, err)
		must(t, db.FinishRun(ctx, a, true, "2 new", t0.Add(time.Second)))
		b, _ := db.StartRun(ctx, domain.TaskReconcile, t0.Add(time.Minute))
		c, _ := db.StartRun(ctx, domain.TaskFetchNew, t0.Add(2*time.Minute))
		must(t, db.FinishRun(ctx, c, false, "amoCRM 402", t0.Add(3*time.Minute)))
		runs, err := db.LastRuns(ctx, domain.TaskFetchNew, 10)
		must(t, err)
		if len(runs) != 2 || runs[0].ID != c || runs[0].OK || runs[0].Summary != "amoCRM 402" ||
			runs[1].ID != a || !runs[1].OK || !runs[1].FinishedAt.Equal(t0.Add(time.Second)) || !runs[1].StartedAt.Equal(t0) {
			t.Fatalf("runs %+v", runs)
		}
		all, _ := db.LastRuns(ctx, "", 2)
		if len(all) != 2 || all[0].ID != c || all[1].ID != b || !all[1].FinishedAt.IsZero() {
			t.Fatalf("all runs %+v", all)
		}
		n, err := db.PruneRuns(ctx, t0.Add(90*time.Second))
		must(t, err)
		if n != 2 {
			t.Fatalf("pruned %d", n)
		}
		if err := db.FinishRun(ctx, 999999, true, "", t0); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("finish unknown run: %v", err)
		}
	})
}
