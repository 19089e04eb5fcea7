package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
)

// runActions is the contract of the Kaspi action ledger: an action is begun
// once per order whatever races, and the accept candidates are exactly the
// orders with a deal that Kaspi still shows waiting for the merchant.
func runActions(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("KaspiActions_BegunOnceAndMoved", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		if _, err := db.KaspiAction(ctx, "A", domain.ActionAccept); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("absent action: %v", err)
		}
		ok, err := db.BeginAction(ctx, "A", domain.ActionAccept, t0)
		must(t, err)
		if !ok {
			t.Fatal("the first BeginAction reported false")
		}
		again, err := db.BeginAction(ctx, "A", domain.ActionAccept, t0.Add(time.Minute))
		must(t, err)
		if again {
			t.Fatal("an action was begun twice")
		}
		other, err := db.BeginAction(ctx, "A", domain.ActionCancel, t0)
		must(t, err)
		if !other {
			t.Fatal("another action of the same order is independent")
		}
		a, err := db.KaspiAction(ctx, "A", domain.ActionAccept)
		must(t, err)
		if a.State != domain.ActionIntent || a.Tries != 1 || !a.CreatedAt.Equal(t0) {
			t.Fatalf("begun: %+v", a)
		}
		must(t, db.SetActionState(ctx, "A", domain.ActionAccept, domain.ActionIntent, "", true, t0.Add(time.Minute)))
		must(t, db.SetActionState(ctx, "A", domain.ActionAccept, domain.ActionRefused, "Заказ отменён покупателем", false, t0.Add(2*time.Minute)))
		a, err = db.KaspiAction(ctx, "A", domain.ActionAccept)
		must(t, err)
		if a.State != domain.ActionRefused || a.Tries != 2 || a.Detail != "Заказ отменён покупателем" || !a.UpdatedAt.Equal(t0.Add(2*time.Minute)) {
			t.Fatalf("moved: %+v", a)
		}
		if err := db.SetActionState(ctx, "B", domain.ActionAccept, domain.ActionDone, "", false, t0); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unknown action row: %v", err)
		}
	})

	t.Run("KaspiActions_ConcurrentBegin_OneWins", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		handles := []*store.DB{db, OpenConfig(t, db.Config()), OpenConfig(t, db.Config())}
		var mu sync.Mutex
		wins := 0
		var wg sync.WaitGroup
		for i := range 9 {
			wg.Add(1)
			go func(h *store.DB) {
				defer wg.Done()
				ok, err := h.BeginAction(ctx, "RACE", domain.ActionAccept, t0)
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			}(handles[i%len(handles)])
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d processes began the same action, want 1", wins)
		}
	})

	t.Run("KaspiActions_AcceptCandidates", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		accepted := order("ACC", 500)
		accepted.Status, accepted.State = domain.StatusAcceptedByMerchant, domain.StatePickup
		_, err := db.Ingest(ctx, []domain.Order{order("NOLEAD", 100), order("OLD", 200), order("NEW", 300),
			order("DONE", 400), accepted, order("INTENT", 600), order("UNTRACKED", 700), order("LINKING", 800)}, t0)
		must(t, err)
		for i, code := range []string{"OLD", "NEW", "DONE", "ACC", "INTENT", "UNTRACKED", "LINKING"} {
			must(t, db.SetLead(ctx, code, int64(100+i), t0))
		}
		// A deal still on its way (products not linked) is not accepted yet.
		must(t, db.SetStep(ctx, []string{"OLD", "NEW", "DONE", "ACC", "INTENT", "UNTRACKED"}, domain.StepDone, t0))
		must(t, db.SetSynced(ctx, "UNTRACKED", domain.StateNew, domain.StatusApprovedByBank, 0, false, t0))
		for code, state := range map[string]domain.ActionState{"DONE": domain.ActionDone, "INTENT": domain.ActionIntent} {
			_, err := db.BeginAction(ctx, code, domain.ActionAccept, t0)
			must(t, err)
			must(t, db.SetActionState(ctx, code, domain.ActionAccept, state, "", false, t0))
		}
		recs, err := db.AcceptCandidates(ctx, 10)
		must(t, err)
		var got []string
		for _, r := range recs {
			got = append(got, r.Code)
		}
		want := []string{"OLD", "NEW", "INTENT"} // not NOLEAD, DONE, ACC, UNTRACKED, LINKING
		if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
			t.Fatalf("candidates %v, want %v (a complete deal, tracked, APPROVED_BY_BANK, no settled accept; oldest first)", got, want)
		}
		if recs, _ := db.AcceptCandidates(ctx, 1); len(recs) != 1 || recs[0].Code != "OLD" {
			t.Fatalf("limit 1: %v", recs)
		}
	})

	t.Run("KaspiActions_StageLedger", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		_, err := db.Ingest(ctx, []domain.Order{order("L1", 100), order("L2", 200), order("NOLEAD", 300)}, t0)
		must(t, err)
		must(t, db.SetLead(ctx, "L1", 501, t0))
		must(t, db.SetLead(ctx, "L2", 502, t0))
		byLead, err := db.RecordsByLead(ctx, []int64{501, 502, 999, 0})
		must(t, err)
		if len(byLead) != 2 || byLead[501].Code != "L1" || byLead[502].Code != "L2" {
			t.Fatalf("records by lead: %+v", byLead)
		}
		for i, code := range []string{"L1", "L2"} {
			_, err := db.BeginAction(ctx, code, domain.ActionAssemble, t0)
			must(t, err)
			must(t, db.SetActionState(ctx, code, domain.ActionAssemble, domain.ActionWaiting, "waybill", false, t0.Add(time.Duration(2-i)*time.Minute)))
		}
		_, err = db.BeginAction(ctx, "L1", domain.ActionCancel, t0)
		must(t, err)
		waiting, err := db.ActionsInState(ctx, domain.ActionAssemble, domain.ActionWaiting, 10)
		must(t, err)
		if len(waiting) != 2 || waiting[0].Code != "L2" || waiting[1].Code != "L1" || waiting[0].Detail != "waybill" {
			t.Fatalf("waiting assembles (oldest change first): %+v", waiting)
		}
		intents, err := db.ActionsInState(ctx, "", domain.ActionIntent, 10)
		must(t, err)
		if len(intents) != 1 || intents[0].Action != domain.ActionCancel {
			t.Fatalf("intents of every action: %+v", intents)
		}
		must(t, db.SetActionState(ctx, "L1", domain.ActionCancel, domain.ActionRefused, "отказ", true, t0))
		must(t, db.RestartAction(ctx, "L1", domain.ActionCancel, t0.Add(time.Hour)))
		a, err := db.KaspiAction(ctx, "L1", domain.ActionCancel)
		must(t, err)
		if a.State != domain.ActionIntent || a.Tries != 1 || a.Detail != "" || !a.UpdatedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("restarted: %+v", a)
		}
		if err := db.RestartAction(ctx, "NOLEAD", domain.ActionCancel, t0); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("restart of an unknown row: %v", err)
		}
	})
}
