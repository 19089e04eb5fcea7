package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
)

// t0 is the suite's clock: times are passed in, never read inside the store.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func order(code string, creationMs int64) domain.Order {
	return domain.Order{
		ID: "id-" + code, Code: code, State: domain.StateNew, Status: domain.StatusApprovedByBank,
		CreationMs: creationMs, TotalPrice: 12990,
		Customer:    domain.Customer{Name: "Айгерим Сапарова 🙂", Phone: "7011234567"},
		Address:     &domain.Address{Formatted: "Алматы, ул. Абая 1"},
		Lines:       []domain.Line{{EntryNumber: 1, SKU: "SKU-1", Name: "Чайник", Quantity: 1, BasePrice: 12990, TotalPrice: 12990}},
		LinesLoaded: true,
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Run is the store contract. open must return a fresh, migrated store on
// an empty database each time it is called (subtests run in parallel,
// each on its own database); the suite opens second handles on the same
// database with store.Open(db.Config()).
func Run(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()
	second := func(t *testing.T, db *store.DB) *store.DB {
		t.Helper()
		return OpenConfig(t, db.Config())
	}

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

	t.Run("Settings_WatermarkRoundTrip", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		if _, ok, err := db.Setting(ctx, "last_creation_ms"); err != nil || ok {
			t.Fatalf("absent key: ok=%v err=%v", ok, err)
		}
		must(t, db.SetSetting(ctx, "last_creation_ms", "1700000000000"))
		must(t, db.SetSetting(ctx, "last_creation_ms", "1700000000000")) // same value again
		must(t, db.SetSetting(ctx, "last_creation_ms", "1700000099999"))
		v, ok, err := db.Setting(ctx, "last_creation_ms")
		if err != nil || !ok || v != "1700000099999" {
			t.Fatalf("got %q ok=%v err=%v", v, ok, err)
		}
		must(t, db.SetSetting(ctx, "empty", ""))
		if v, ok, _ := db.Setting(ctx, "empty"); !ok || v != "" {
			t.Fatalf("empty value: %q %v", v, ok)
		}
	})

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

	t.Run("Caches_ContactsAndElements", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		must(t, db.PutContact(ctx, "+77011234567", 1))
		must(t, db.PutContact(ctx, "+77011234567", 2)) // replaced
		must(t, db.PutContact(ctx, "+77020000000", 3))
		m, err := db.ContactIDs(ctx, []string{"+77011234567", "+77020000000", "+70000000000"})
		must(t, err)
		if len(m) != 2 || m["+77011234567"] != 2 || m["+77020000000"] != 3 {
			t.Fatalf("contacts %v", m)
		}
		must(t, db.ForgetContact(ctx, 2))
		if m, _ := db.ContactIDs(ctx, []string{"+77011234567"}); len(m) != 0 {
			t.Fatalf("forgotten contact still there: %v", m)
		}
		must(t, db.PutElement(ctx, 10, "SKU-1", 100))
		must(t, db.PutElement(ctx, 10, "SKU-1", 101))
		must(t, db.PutElement(ctx, 20, "SKU-1", 200))
		must(t, db.PutElement(ctx, 10, "Артикул 2", 102))
		e, err := db.ElementIDs(ctx, 10, []string{"SKU-1", "Артикул 2", "none"})
		must(t, err)
		if len(e) != 2 || e["SKU-1"] != 101 || e["Артикул 2"] != 102 {
			t.Fatalf("elements %v", e)
		}
		must(t, db.ForgetElement(ctx, 10, 101))
		e, _ = db.ElementIDs(ctx, 10, []string{"SKU-1"})
		e20, _ := db.ElementIDs(ctx, 20, []string{"SKU-1"})
		if len(e) != 0 || e20["SKU-1"] != 200 {
			t.Fatalf("forget element: %v %v", e, e20)
		}
	})

	t.Run("ContactIndex_LowestIDEditsForgetAndState", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		const a, b, c = "+77011234567", "+77020000000", "+77030000000"
		if st, err := db.ContactIndexState(ctx); err != nil || st != (domain.ContactIndexState{}) {
			t.Fatalf("fresh state %+v %v", st, err)
		}
		st := domain.ContactIndexState{NextPage: 2, Contacts: 250, Watermark: 1700000000}
		must(t, db.IndexContacts(ctx, []domain.IndexedContact{
			{ID: 30, Phones: []string{a, a}}, {ID: 10, Phones: []string{a, b}}, {ID: 20}}, st))
		got, err := db.ContactIndexState(ctx)
		must(t, err)
		if got != st {
			t.Fatalf("state %+v, want %+v", got, st)
		}
		m, err := db.IndexedContactIDs(ctx, []string{a, b, c})
		must(t, err)
		if len(m) != 2 || m[a] != 10 || m[b] != 10 {
			t.Fatalf("lowest id wins: %v", m)
		}
		// Contact 10 is edited: a moves out, c moves in; its cached phone
		// a no longer points at it, its cached c stays.
		must(t, db.PutContact(ctx, a, 10))
		must(t, db.PutContact(ctx, c, 10))
		must(t, db.PutContact(ctx, b, 99))
		st.Complete, st.Mode = true, domain.IndexModeFilter
		must(t, db.IndexContacts(ctx, []domain.IndexedContact{{ID: 10, Phones: []string{b, c}}}, st))
		m, _ = db.IndexedContactIDs(ctx, []string{a, b, c})
		if m[a] != 30 || m[b] != 10 || m[c] != 10 {
			t.Fatalf("after edit: %v", m)
		}
		cached, _ := db.ContactIDs(ctx, []string{a, b, c})
		if len(cached) != 2 || cached[c] != 10 || cached[b] != 99 {
			t.Fatalf("cache after edit: %v", cached)
		}
		// amoCRM refuses 30: gone from both.
		must(t, db.ForgetContact(ctx, 30))
		if m, _ := db.IndexedContactIDs(ctx, []string{a}); len(m) != 0 {
			t.Fatalf("forgotten contact still indexed: %v", m)
		}
		// Many contacts in one call (more than one statement's worth).
		var many []domain.IndexedContact
		for i := range 450 {
			many = append(many, domain.IndexedContact{ID: int64(1000 + i), Phones: []string{fmt.Sprintf("+7705%07d", i)}})
		}
		must(t, db.IndexContacts(ctx, many, st))
		m, _ = db.IndexedContactIDs(ctx, []string{"+77050000000", "+77050000449"})
		if m["+77050000000"] != 1000 || m["+77050000449"] != 1449 {
			t.Fatalf("many: %v", m)
		}
		tooLarge := domain.ContactIndexState{Mode: domain.IndexModeTooLarge, CheckedAt: 5}
		must(t, db.ClearContactIndex(ctx, tooLarge))
		if m, _ := db.IndexedContactIDs(ctx, []string{b, "+77050000000"}); len(m) != 0 {
			t.Fatalf("cleared index: %v", m)
		}
		if got, _ := db.ContactIndexState(ctx); got != tooLarge {
			t.Fatalf("state after clear %+v", got)
		}
		if cached, _ := db.ContactIDs(ctx, []string{c}); cached[c] != 10 {
			t.Fatalf("clearing the index dropped the cache: %v", cached)
		}
	})

	t.Run("StatusMapping_UpsertListToggleDelete", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		id1, err := db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: "COMPLETED", AmoPipelineID: 7, AmoStatusID: 142, IsActive: true}, t0)
		must(t, err)
		id2, err := db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: "COMPLETED", AmoPipelineID: 8, AmoStatusID: 142, IsActive: true}, t0)
		must(t, err)
		id3, err := db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: "CANCELLED", AmoPipelineID: 7, AmoStatusID: 143,
			AmoResponsibleUserID: 55, SortOrder: 3, IsActive: true}, t0)
		must(t, err)
		again, err := db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: "COMPLETED", AmoPipelineID: 7, AmoStatusID: 300, IsActive: true}, t0.Add(time.Hour))
		must(t, err)
		if again != id1 || id1 == id2 || id2 == id3 || id1 == 0 {
			t.Fatalf("ids %d %d %d again %d", id1, id2, id3, again)
		}
		all, err := db.ListStatusMappings(ctx, store.StatusMappingFilter{})
		must(t, err)
		if len(all) != 3 {
			t.Fatalf("list %d", len(all))
		}
		one, _ := db.ListStatusMappings(ctx, store.StatusMappingFilter{KaspiStatus: "COMPLETED", PipelineID: 7})
		if len(one) != 1 || one[0].AmoStatusID != 300 || !one[0].CreatedAt.Equal(t0) || one[0].UpdatedAt.IsZero() {
			t.Fatalf("filtered %+v", one)
		}
		// On PostgreSQL the PHP version's trigger stamps updated_at with the
		// server clock; elsewhere the time passed in is kept.
		if db.Driver() != store.DriverPgSQL && !one[0].UpdatedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("updated_at %v", one[0].UpdatedAt)
		}
		c, _ := db.ListStatusMappings(ctx, store.StatusMappingFilter{KaspiStatus: "CANCELLED", PipelineID: 7})
		if len(c) != 1 || c[0].AmoResponsibleUserID != 55 || c[0].SortOrder != 3 || !c[0].IsActive {
			t.Fatalf("cancelled %+v", c)
		}
		ok, err := db.SetStatusMappingActive(ctx, id2, false, t0)
		must(t, err)
		if !ok {
			t.Fatal("toggle existing row said false")
		}
		if ok, _ := db.SetStatusMappingActive(ctx, id2, false, t0); !ok {
			t.Fatal("toggle to the same value must still find the row")
		}
		if ok, _ := db.SetStatusMappingActive(ctx, 999999, true, t0); ok {
			t.Fatal("toggle of a missing row said true")
		}
		active, _ := db.ListStatusMappings(ctx, store.StatusMappingFilter{OnlyActive: true})
		if len(active) != 2 {
			t.Fatalf("only active: %d", len(active))
		}
		st, err := db.StatusMappingCounts(ctx)
		must(t, err)
		if st != (store.StatusMappingStats{Total: 3, Active: 2, Inactive: 1}) {
			t.Fatalf("stats %+v", st)
		}
		am, err := db.ActiveStatusMappings(ctx, 7)
		must(t, err)
		if len(am) != 2 || am["COMPLETED"] != 300 || am["CANCELLED"] != 143 {
			t.Fatalf("active map %v", am)
		}
		if am, _ := db.ActiveStatusMappings(ctx, 8); len(am) != 0 {
			t.Fatalf("inactive row mapped: %v", am)
		}
		ok, err = db.DeleteStatusMapping(ctx, id3)
		must(t, err)
		if !ok {
			t.Fatal("delete said false")
		}
		if ok, _ := db.DeleteStatusMapping(ctx, id3); ok {
			t.Fatal("second delete said true")
		}
	})

	t.Run("RunLog_NewestFirstPerTask", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		a, err := db.StartRun(ctx, "fetch_new", t0)
		must(t, err)
		must(t, db.FinishRun(ctx, a, true, "2 new", t0.Add(time.Second)))
		b, _ := db.StartRun(ctx, "reconcile", t0.Add(time.Minute))
		c, _ := db.StartRun(ctx, "fetch_new", t0.Add(2*time.Minute))
		must(t, db.FinishRun(ctx, c, false, "amoCRM 402", t0.Add(3*time.Minute)))
		runs, err := db.LastRuns(ctx, "fetch_new", 10)
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

	t.Run("Token_SaveAndRead", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		if _, err := db.Token(ctx, "amocrm"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("absent token: %v", err)
		}
		must(t, db.SaveToken(ctx, "amocrm", domain.Token{AccessToken: "a1", RefreshToken: "r1", ExpiresAt: 100}))
		must(t, db.SaveToken(ctx, "amocrm", domain.Token{AccessToken: "a2", RefreshToken: "r2", ExpiresAt: 200}))
		tok, err := db.Token(ctx, "amocrm")
		must(t, err)
		if tok != (domain.Token{AccessToken: "a2", RefreshToken: "r2", ExpiresAt: 200}) {
			t.Fatalf("token %+v", tok)
		}
	})

	t.Run("UpdateToken_TwoConcurrentRefreshers_OneRefreshApplied", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		db2 := second(t, db)
		must(t, db.SaveToken(ctx, "amocrm", domain.Token{AccessToken: "a1", RefreshToken: "r1", ExpiresAt: 100}))
		var mu sync.Mutex
		refreshes := 0
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for i, h := range []*store.DB{db, db2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- h.UpdateToken(ctx, "amocrm", func(cur domain.Token, found bool) (*domain.Token, error) {
					if !found || cur.RefreshToken != "r1" {
						return nil, nil // someone refreshed already: use theirs
					}
					// Stand in for the network call, so the other updater
					// arrives while the row is held.
					time.Sleep(50 * time.Millisecond)
					mu.Lock()
					refreshes++
					mu.Unlock()
					return &domain.Token{AccessToken: fmt.Sprintf("a2-%d", i), RefreshToken: fmt.Sprintf("r2-%d", i), ExpiresAt: 200}, nil
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			must(t, err)
		}
		if refreshes != 1 {
			t.Fatalf("%d refreshes applied, want exactly 1", refreshes)
		}
		tok, _ := db.Token(ctx, "amocrm")
		if tok.RefreshToken != "r2-0" && tok.RefreshToken != "r2-1" {
			t.Fatalf("token %+v", tok)
		}
	})

	t.Run("UpdateToken_FnErrorSavesNothing_AbsentRowInserted", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		boom := errors.New("refresh rejected")
		err := db.UpdateToken(ctx, "amocrm", func(cur domain.Token, found bool) (*domain.Token, error) {
			if found {
				t.Error("found a row in an empty table")
			}
			return &domain.Token{AccessToken: "x"}, boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("fn error not returned: %v", err)
		}
		if _, err := db.Token(ctx, "amocrm"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("saved despite error: %v", err)
		}
		must(t, db.UpdateToken(ctx, "amocrm", func(domain.Token, bool) (*domain.Token, error) {
			return &domain.Token{AccessToken: "a", RefreshToken: "r", ExpiresAt: 1}, nil
		}))
		if tok, _ := db.Token(ctx, "amocrm"); tok.AccessToken != "a" {
			t.Fatalf("token %+v", tok)
		}
	})

	runActions(t, open)
}
