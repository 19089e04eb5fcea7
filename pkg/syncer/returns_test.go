package syncer_test

import (
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

// A completed order can still be returned: it stays tracked for the
// return window, the return moves the deal through the status map (status
// beats state) with a note saying it is a return, and RETURNED is final.
func TestReconcile_ReturnAfterCompletionMovesTheDeal(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{
			"COMPLETED": domain.StatusWon, "ARCHIVE": domain.StatusWon,
			"KASPI_DELIVERY_RETURN_REQUESTED": amofake.StatusConfirmed, "RETURNED": domain.StatusLost,
		}
		code := "700000901"
		id := e.deal(code)
		e.setStatus(code, domain.StateArchive, domain.StatusCompleted, "")
		e.clock.Advance(10 * time.Minute)
		e.reconcile()
		if l := e.leadNow(id); l.StatusID != domain.StatusWon {
			t.Fatalf("completed deal at %d", l.StatusID)
		}
		if rec := e.record(code); !rec.Tracked || rec.CompletedAt.IsZero() {
			t.Fatalf("a completed order is no longer watched for a return: tracked %v, completed at %v", rec.Tracked, rec.CompletedAt)
		}

		// Three weeks later (outside the 14-day sweep) the buyer returns it.
		e.clock.Advance(21 * 24 * time.Hour)
		e.setStatus(code, domain.StateArchive, domain.StatusKaspiDeliveryReturnRequested, "")
		s := e.reconcile()
		if l := e.leadNow(id); l.StatusID != amofake.StatusConfirmed || s.Refreshed == 0 {
			t.Fatalf("returned order's deal at %d: %s", l.StatusID, s)
		}
		notes := strings.Join(e.notesOf(id), "\n")
		if !strings.Contains(notes, "возврат заказа") {
			t.Fatalf("notes do not say it is a return:\n%s", notes)
		}

		e.clock.Advance(2 * time.Hour)
		e.setStatus(code, domain.StateArchive, domain.StatusReturned, "")
		e.reconcile()
		if l := e.leadNow(id); l.StatusID != domain.StatusLost {
			t.Fatalf("returned deal at %d", l.StatusID)
		}
		if e.record(code).Tracked {
			t.Fatal("RETURNED is final, yet the order is still tracked")
		}
	})
}

// After the return window a completed order is no longer watched.
func TestReconcile_CompletedOrderUntrackedAfterTheReturnWindow(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"COMPLETED": domain.StatusWon}
		e.cfg.ReturnWindow = 5 * 24 * time.Hour
		code := "700000911"
		e.deal(code)
		e.setStatus(code, domain.StateArchive, domain.StatusCompleted, "")
		e.clock.Advance(10 * time.Minute)
		e.reconcile()
		if !e.record(code).Tracked {
			t.Fatal("untracked at once")
		}
		e.clock.Advance(4 * 24 * time.Hour)
		e.reconcile()
		if !e.record(code).Tracked {
			t.Fatal("untracked inside the window")
		}
		e.clock.Advance(2 * 24 * time.Hour)
		e.reconcile()
		if e.record(code).Tracked {
			t.Fatal("still tracked after the window")
		}
	})
}

// A tracked order created inside the sweep's 14 days that the sweep did
// not return is asked about by code in the same run, even when it was
// checked recently (the hourly refresh would come too late).
func TestReconcile_OrderMissedBySweepIsRefreshedByCode(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"COMPLETED": domain.StatusWon, "KASPI_DELIVERY_RETURN_REQUESTED": amofake.StatusConfirmed}
		code := "700000921"
		id := e.deal(code)
		e.setStatus(code, domain.StateArchive, domain.StatusCompleted, "")
		e.clock.Advance(10 * time.Minute)
		e.reconcile()
		e.clock.Advance(10 * time.Minute) // well inside the hourly refresh interval
		e.setStatus(code, domain.StateArchive, domain.StatusKaspiDeliveryReturnRequested, "")
		e.kf.Unlist(code)
		s := e.reconcile()
		if l := e.leadNow(id); l.StatusID != amofake.StatusConfirmed || s.Refreshed != 1 {
			t.Fatalf("deal at %d after a return the sweep missed: %s", l.StatusID, s)
		}
	})
}
