package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

// A run's result and reason survive the run log; rows written before the
// result columns existed read as ok or error from their ok flag.
func TestRunLog_KeepsResultAndReason(t *testing.T) {
	ctx := context.Background()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		a, _ := db.StartRun(ctx, "fetch_new", t0())
		if err := db.FinishRunResult(ctx, a, domain.RunEnd{Result: domain.ResultWarn, Reason: "заказ 1 отложен: «x»", Summary: "sum", AmoRequests: 42}, t0().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		b, _ := db.StartRun(ctx, "fetch_new", t0().Add(time.Minute))
		if err := db.FinishRun(ctx, b, false, "old style", t0().Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().Exec("UPDATE run_log SET result = NULL WHERE id = " + strconv.FormatInt(b, 10)); err != nil {
			t.Fatal(err)
		}
		runs, err := db.LastRuns(ctx, "fetch_new", 5)
		if err != nil || len(runs) != 2 {
			t.Fatalf("runs %v %v", runs, err)
		}
		if runs[1].Result != domain.ResultWarn || runs[1].Reason != "заказ 1 отложен: «x»" || !runs[1].OK || runs[1].AmoRequests != 42 {
			t.Errorf("warn run read back as %+v (a warn run did its job: ok flag set)", runs[1])
		}
		if runs[0].Result != domain.ResultError || runs[0].OK {
			t.Errorf("legacy failed run read back as %+v", runs[0])
		}
	})
}

// Set-aside orders are counted and listed until they are done; the deal
// creation time is kept once, for the last deal and the deals per day.
func TestLedger_SetAsideAndDeals(t *testing.T) {
	ctx := context.Background()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		now := t0()
		if _, err := db.Ingest(ctx, []domain.Order{{ID: "k1", Code: "1001", State: "NEW"}, {ID: "k2", Code: "1002", State: "NEW"},
			{ID: "k3", Code: "1003", State: "NEW"}}, now); err != nil {
			t.Fatal(err)
		}
		if n, _, err := db.SetAsideCount(ctx); err != nil || n != 0 {
			t.Fatalf("fresh ledger: %d set aside, %v", n, err)
		}
		must(t, db.SetAside(ctx, "1001", "first", now.Add(time.Minute), false, now))
		must(t, db.SetAside(ctx, "1002", "second", now.Add(time.Minute), false, now.Add(time.Second)))
		must(t, db.SetAside(ctx, "1003", "stuck", now.Add(time.Minute), true, now))
		n, why, err := db.SetAsideCount(ctx)
		if err != nil || n != 2 || why != "second" {
			t.Fatalf("SetAsideCount = %d %q %v, want 2 waiting (quarantine apart), newest reason", n, why, err)
		}
		recs, err := db.SetAsideRecords(ctx, 10)
		if err != nil || len(recs) != 3 {
			t.Fatalf("SetAsideRecords = %d %v, want the 2 waiting and the quarantined one", len(recs), err)
		}
		if _, ok, err := db.LastDeal(ctx); ok || err != nil {
			t.Fatalf("no deal yet: %v %v", ok, err)
		}
		must(t, db.SetLead(ctx, "1001", 501, now.Add(time.Hour)))
		must(t, db.SetLead(ctx, "1002", 502, now.Add(25*time.Hour)))
		must(t, db.SetLead(ctx, "1001", 501, now.Add(48*time.Hour))) // set again: the first time stays
		must(t, db.SetStep(ctx, []string{"1001", "1002"}, domain.StepDone, now.Add(49*time.Hour)))
		if n, _, _ := db.SetAsideCount(ctx); n != 0 {
			t.Errorf("done orders still counted as set aside: %d", n)
		}
		d, ok, err := db.LastDeal(ctx)
		if err != nil || !ok || d.Code != "1002" || d.LeadID != 502 || !d.CreatedAt.Equal(now.Add(25*time.Hour)) {
			t.Errorf("LastDeal = %+v %v %v", d, ok, err)
		}
		times, err := db.DealTimes(ctx, now)
		if err != nil || len(times) != 2 || !times[0].Equal(now.Add(time.Hour)) {
			t.Errorf("DealTimes = %v %v", times, err)
		}
		if times, _ := db.DealTimes(ctx, now.Add(2*time.Hour)); len(times) != 1 {
			t.Errorf("DealTimes since +2h = %v", times)
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
