package storetest

import (
	"context"
	"errors"
	"fmt"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
	"slices"
	"sync"
	"testing"
	"time"
)

// runOrders is the contract of the order ledger: ingest, refresh, the
// steps of an order, set-aside and retry, and what the sync asks for.
func runOrders(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("Ingest_InsertsOnlyUnknownCodesAndKeepsSnapshot", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		ins, err := db.Ingest(ctx, []domain.Order{order("B", 2000), order("A", 1000), order("A", 1000)}, t0)
		must(t, err)
		if !slices.Equal(ins, []string{"A", "B"}) {
			t.Fatalf("inserted %v", ins)
		}
		must(t, db.SetLead(ctx, "A", 555, t0))
		changed := order("A", 1000)
		changed.State = domain.StateArchive
		ins, err = db.Ingest(ctx, []domain.Order{changed, order("C", 3000)}, t0.Add(time.Minute))
		must(t, err)
		if !slices.Equal(ins, []string{"C"}) {
			t.Fatalf("second ingest inserted %v", ins)
		}
		r, err := db.Record(ctx, "A")
		must(t, err)
		if r.LeadID != 555 || r.Step != domain.StepLeadCreated || r.State != domain.StateNew {
			t.Fatalf("known row was touched: %+v", r)
		}
		r, err = db.Record(ctx, "B")
		must(t, err)
		want := order("B", 2000)
		if r.Step != domain.StepNew || r.LeadID != 0 || r.KaspiID != "id-B" || r.State != domain.StateNew ||
			r.Status != domain.StatusApprovedByBank || r.CreationMs != 2000 || r.TotalPrice != 12990 ||
			!r.Tracked || r.Quarantined || r.Attempts != 0 || !r.CreatedAt.Equal(t0) || !r.NextAttemptAt.IsZero() {
			t.Fatalf("new row: %+v", r)
		}
		if r.Order == nil || r.Order.Customer.Name != want.Customer.Name || len(r.Order.Lines) != 1 ||
			r.Order.Lines[0].Name != "Чайник" || r.Order.Address.Formatted != want.Address.Formatted {
			t.Fatalf("snapshot: %+v", r.Order)
		}
		if _, err := db.Record(ctx, "nope"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unknown code: %v", err)
		}
		m, err := db.Records(ctx, []string{"A", "C", "nope"})
		must(t, err)
		if len(m) != 2 || m["C"].Code != "C" {
			t.Fatalf("records: %v", m)
		}
	})

	t.Run("Ingest_RecordsTheKaspiStore", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		one, two := order("S1", 1000), order("S2", 2000)
		two.StoreNo = 2
		_, err := db.Ingest(ctx, []domain.Order{one, two}, t0)
		must(t, err)
		_, err = db.AdoptLeads(ctx, []domain.AdoptedLead{{Code: "S3", LeadID: 7, StoreNo: 3}, {Code: "S4", LeadID: 8}}, t0)
		must(t, err)
		// A row written without a store (the PHP version) is store 1.
		_, err = db.SQL().ExecContext(ctx, "INSERT INTO orders_map (order_code, kaspi_order_id, kaspi_status, lead_id, created_at) VALUES ('S5', 'k5', 'NEW', 0, '2025-03-01 10:00:00')")
		must(t, err)
		m, err := db.Records(ctx, []string{"S1", "S2", "S3", "S4", "S5"})
		must(t, err)
		for code, want := range map[string]int{"S1": 1, "S2": 2, "S3": 3, "S4": 1, "S5": 1} {
			if m[code].StoreNo != want {
				t.Errorf("%s: store %d, want %d", code, m[code].StoreNo, want)
			}
		}
	})

	t.Run("Ingest_ConcurrentFromTwoConnections_OneRowPerCode", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		db2 := second(t, db)
		var orders []domain.Order
		for i := range 40 {
			orders = append(orders, order(fmt.Sprintf("C%03d", i), int64(1000+i)))
		}
		var mu sync.Mutex
		count := map[string]int{}
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for w, h := range []*store.DB{db, db2, db, db2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				batch := slices.Clone(orders)
				if w%2 == 1 {
					slices.Reverse(batch)
				}
				ins, err := h.Ingest(ctx, batch, t0)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				for _, c := range ins {
					count[c]++
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(count) != len(orders) {
			t.Fatalf("inserted %d codes, want %d", len(count), len(orders))
		}
		for c, n := range count {
			if n != 1 {
				t.Fatalf("code %s reported inserted %d times", c, n)
			}
		}
		var rows int
		must(t, db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM orders_map").Scan(&rows))
		if rows != len(orders) {
			t.Fatalf("%d rows, want %d", rows, len(orders))
		}
	})

	t.Run("UpdateOrder_RefreshesKaspiFieldsOnly", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		_, err := db.Ingest(ctx, []domain.Order{order("A", 1000)}, t0)
		must(t, err)
		must(t, db.SetLead(ctx, "A", 77, t0))
		o := order("A", 0) // Kaspi left creation out: keep ours
		o.State, o.Status, o.TotalPrice = domain.StateArchive, domain.StatusCompleted, 500.6
		must(t, db.UpdateOrder(ctx, o, t0.Add(time.Hour)))
		r, err := db.Record(ctx, "A")
		must(t, err)
		if r.State != domain.StateArchive || r.Status != domain.StatusCompleted || r.TotalPrice != 501 ||
			r.CreationMs != 1000 || r.LeadID != 77 || r.Step != domain.StepLeadCreated || !r.CheckedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("after update: %+v", r)
		}
		if err := db.UpdateOrder(ctx, order("nope", 1), t0); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("unknown code: %v", err)
		}
	})

	t.Run("Steps_LeadContactLinkedDone", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		_, err := db.Ingest(ctx, []domain.Order{order("A", 1000), order("B", 2000)}, t0)
		must(t, err)
		must(t, db.SetStep(ctx, []string{"A", "B"}, domain.StepLeadRequested, t0))
		must(t, db.SetContact(ctx, "A", "+77011234567", 9001, t0))
		must(t, db.SetLead(ctx, "A", 42, t0))
		must(t, db.SetAside(ctx, "A", "link failed", t0.Add(time.Minute), false, t0))
		must(t, db.SetStep(ctx, []string{"A"}, domain.StepLinked, t0))
		r, _ := db.Record(ctx, "A")
		if r.Step != domain.StepLinked || r.LeadID != 42 || r.Phone != "+77011234567" || r.ContactID != 9001 || r.Attempts != 1 {
			t.Fatalf("linked: %+v", r)
		}
		must(t, db.SetStep(ctx, []string{"A"}, domain.StepDone, t0.Add(time.Second)))
		r, _ = db.Record(ctx, "A")
		if r.Step != domain.StepDone || r.Attempts != 0 || r.LastError != "" || !r.NextAttemptAt.IsZero() || r.Quarantined {
			t.Fatalf("done must clear the failure fields: %+v", r)
		}
		if !r.UpdatedAt.Equal(t0.Add(time.Second)) {
			t.Fatalf("updated_at %v", r.UpdatedAt)
		}
		if r, _ := db.Record(ctx, "B"); r.Step != domain.StepLeadRequested {
			t.Fatalf("B: %+v", r)
		}
		for _, err := range []error{
			db.SetLead(ctx, "nope", 1, t0), db.SetContact(ctx, "nope", "", 0, t0),
			db.SetAside(ctx, "nope", "x", t0, false, t0), db.SetSynced(ctx, "nope", "", "", 0, true, t0),
		} {
			if !errors.Is(err, domain.ErrNotFound) {
				t.Fatalf("unknown code: %v", err)
			}
		}
	})

	t.Run("SetAside_BackoffAndQuarantine", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		_, err := db.Ingest(ctx, []domain.Order{order("A", 1000), order("B", 2000)}, t0)
		must(t, err)
		next := t0.Add(10 * time.Minute)
		must(t, db.SetAside(ctx, "A", "first", next, false, t0))
		must(t, db.SetAside(ctx, "A", "second: 400 Неверный запрос", next, false, t0))
		r, _ := db.Record(ctx, "A")
		if r.Attempts != 2 || r.LastError != "second: 400 Неверный запрос" || !r.NextAttemptAt.Equal(next) || r.Step != domain.StepNew {
			t.Fatalf("set aside: %+v", r)
		}
		codes := func(rs []domain.Record) []string {
			var out []string
			for _, r := range rs {
				out = append(out, r.Code)
			}
			return out
		}
		due, err := db.Due(ctx, t0, 10, false)
		must(t, err)
		if !slices.Equal(codes(due), []string{"B"}) {
			t.Fatalf("due before backoff ends: %v", codes(due))
		}
		due, _ = db.Due(ctx, next, 10, false)
		if !slices.Equal(codes(due), []string{"A", "B"}) {
			t.Fatalf("due when backoff ends: %v", codes(due))
		}
		must(t, db.SetAside(ctx, "B", "broken", t0, true, t0))
		due, _ = db.Due(ctx, next, 10, false)
		if !slices.Equal(codes(due), []string{"A"}) {
			t.Fatalf("quarantined row must be left out: %v", codes(due))
		}
		due, _ = db.Due(ctx, next, 10, true)
		if !slices.Equal(codes(due), []string{"A", "B"}) {
			t.Fatalf("withQuarantined: %v", codes(due))
		}
		q, err := db.QuarantinedRecords(ctx, 10)
		must(t, err)
		if !slices.Equal(codes(q), []string{"B"}) || !q[0].Quarantined {
			t.Fatalf("quarantined records: %v", codes(q))
		}
		counts, err := db.StepCounts(ctx)
		must(t, err)
		if counts["new"] != 1 || counts["quarantined"] != 1 || len(counts) != 2 {
			t.Fatalf("step counts %v", counts)
		}
	})

	t.Run("Due_OldestCreationFirstUnknownLastDoneNever", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		_, err := db.Ingest(ctx, []domain.Order{order("late", 3000), order("unknown", 0), order("early", 1000),
			order("mid", 2000), order("finished", 500)}, t0)
		must(t, err)
		must(t, db.SetStep(ctx, []string{"finished"}, domain.StepDone, t0))
		due, err := db.Due(ctx, t0, 10, false)
		must(t, err)
		var got []string
		for _, r := range due {
			got = append(got, r.Code)
		}
		if !slices.Equal(got, []string{"early", "mid", "late", "unknown"}) {
			t.Fatalf("order %v", got)
		}
		due, _ = db.Due(ctx, t0, 2, false)
		if len(due) != 2 || due[0].Code != "early" {
			t.Fatalf("limit: %v", due)
		}
	})

	t.Run("Stale_TrackedDoneLeastRecentlyCheckedFirst", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		_, err := db.Ingest(ctx, []domain.Order{order("A", 1), order("B", 2), order("C", 3), order("D", 4), order("E", 5)}, t0)
		must(t, err)
		must(t, db.SetStep(ctx, []string{"A", "B", "C", "D"}, domain.StepDone, t0))
		must(t, db.SetSynced(ctx, "A", domain.StateDelivery, domain.StatusAcceptedByMerchant, 111, true, t0.Add(2*time.Hour)))
		must(t, db.SetSynced(ctx, "B", domain.StateNew, domain.StatusApprovedByBank, 0, true, t0.Add(1*time.Hour)))
		must(t, db.SetSynced(ctx, "C", domain.StateArchive, domain.StatusCompleted, 142, false, t0.Add(1*time.Hour)))
		stale, err := db.Stale(ctx, t0.Add(3*time.Hour), 10)
		must(t, err)
		var got []string
		for _, r := range stale {
			got = append(got, r.Code)
		}
		// D checked at ingest (t0), then B (t0+1h), then A (t0+2h); C untracked; E not done.
		if !slices.Equal(got, []string{"D", "B", "A"}) {
			t.Fatalf("stale %v", got)
		}
		if stale, _ := db.Stale(ctx, t0.Add(90*time.Minute), 10); len(stale) != 2 {
			t.Fatalf("checkedBefore must cut: %d", len(stale))
		}
		a, _ := db.Record(ctx, "A")
		if a.AmoStatusID != 111 || a.State != domain.StateDelivery || a.Status != domain.StatusAcceptedByMerchant || !a.Tracked {
			t.Fatalf("synced A: %+v", a)
		}
		must(t, db.SetSynced(ctx, "A", domain.StateDelivery, domain.StatusAcceptedByMerchant, 0, true, t0.Add(4*time.Hour)))
		if a, _ := db.Record(ctx, "A"); a.AmoStatusID != 111 {
			t.Fatalf("amo status 0 must keep the old one: %d", a.AmoStatusID)
		}
		if c, _ := db.Record(ctx, "C"); c.Tracked || c.AmoStatusID != 142 {
			t.Fatalf("C: %+v", c)
		}
	})

	t.Run("DropSnapshots_OnlyOldDoneRows", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		_, err := db.Ingest(ctx, []domain.Order{order("old", 1), order("recent", 2), order("pending", 3)}, t0)
		must(t, err)
		must(t, db.SetContact(ctx, "old", "+77011234567", 5, t0))
		must(t, db.SetLead(ctx, "old", 10, t0))
		must(t, db.SetStep(ctx, []string{"old"}, domain.StepDone, t0))
		must(t, db.SetStep(ctx, []string{"recent"}, domain.StepDone, t0.Add(48*time.Hour)))
		n, err := db.DropSnapshots(ctx, t0.Add(24*time.Hour))
		must(t, err)
		if n != 1 {
			t.Fatalf("dropped %d", n)
		}
		r, _ := db.Record(ctx, "old")
		if r.Order != nil || r.Phone != "" || r.LeadID != 10 || r.ContactID != 5 || r.KaspiID != "id-old" {
			t.Fatalf("old after drop: %+v", r)
		}
		if r, _ := db.Record(ctx, "recent"); r.Order == nil {
			t.Fatal("recent snapshot dropped")
		}
		if r, _ := db.Record(ctx, "pending"); r.Order == nil {
			t.Fatal("pending snapshot dropped")
		}
		if n, _ := db.DropSnapshots(ctx, t0.Add(24*time.Hour)); n != 0 {
			t.Fatalf("second drop: %d", n)
		}
	})

	t.Run("Times_StoredUTCToTheSecond", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		almaty := time.FixedZone("Asia/Almaty", 5*3600)
		now := time.Date(2025, 6, 1, 23, 30, 15, 999_000_000, almaty)
		_, err := db.Ingest(ctx, []domain.Order{order("A", 1)}, now)
		must(t, err)
		r, _ := db.Record(ctx, "A")
		if !r.CreatedAt.Equal(now.Truncate(time.Second)) || r.CreatedAt.Location() != time.UTC {
			t.Fatalf("created_at %v, want %v UTC", r.CreatedAt, now.Truncate(time.Second).UTC())
		}
	})
}
