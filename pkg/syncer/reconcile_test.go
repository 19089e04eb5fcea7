package syncer_test

import (
	"context"
	"fmt"
	"path"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

// deal creates one order's deal through fetch_new and returns its lead id.
func (e *env) deal(code string) int64 {
	e.t.Helper()
	e.add(e.order(code, time.Hour, "7011234567"))
	e.fetch()
	return e.lead(code).ID
}

func (e *env) setStatus(code, state, status, reason string) {
	e.t.Helper()
	if err := e.kf.SetStatus(code, state, status, reason); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) leadNow(id int64) amofake.Lead {
	e.t.Helper()
	l, ok := e.amo.Lead(id)
	if !ok {
		e.t.Fatalf("lead %d gone", id)
	}
	return l
}

func TestReconcile_EachMappedTransitionMovesTheDealAndWritesANote(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{
			"PICKUP": amofake.StatusConfirmed, "KASPI_DELIVERY": amofake.StatusInDelivery, "COMPLETED": domain.StatusWon,
		}
		id := e.deal("700000001")
		steps := []struct {
			state, status string
			want          int64
			note          string
		}{
			{domain.StatePickup, domain.StatusAcceptedByMerchant, amofake.StatusConfirmed,
				"Kaspi: статус изменён с «Одобрен банком» (APPROVED_BY_BANK, NEW) на «Принят продавцом» (ACCEPTED_BY_MERCHANT, PICKUP)"},
			{domain.StateKaspiDelivery, domain.StatusAcceptedByMerchant, amofake.StatusInDelivery,
				"на «Принят продавцом» (ACCEPTED_BY_MERCHANT, KASPI_DELIVERY)"},
			{domain.StateArchive, domain.StatusCompleted, domain.StatusWon, "на «Выдан покупателю» (COMPLETED, ARCHIVE)"},
		}
		for i, st := range steps {
			e.clock.Advance(10 * time.Minute)
			e.setStatus("700000001", st.state, st.status, "")
			s := e.reconcile()
			l := e.leadNow(id)
			if l.StatusID != st.want || l.PipelineID != amofake.PipelineID || s.Moved != 1 || s.Notes != 1 {
				t.Fatalf("step %d: lead in %d/%d, want %d; %s", i, l.PipelineID, l.StatusID, st.want, s)
			}
			notes := e.notesOf(id)
			if last := notes[len(notes)-1]; !strings.Contains(last, st.note) {
				t.Fatalf("step %d note:\n%s\nwant %q", i, last, st.note)
			}
			r := e.record("700000001")
			if r.Status != st.status || r.State != st.state || r.AmoStatusID != st.want {
				t.Fatalf("step %d record: %s/%s amo %d", i, r.State, r.Status, r.AmoStatusID)
			}
		}
		// A completed order is watched for a return for the return window,
		// then finished: nothing more is asked of amoCRM or of Kaspi by code.
		if r := e.record("700000001"); !r.Tracked {
			t.Fatal("a completed order is no longer watched for a return")
		}
		e.clock.Advance(31 * 24 * time.Hour)
		e.reconcile()
		if r := e.record("700000001"); r.Tracked {
			t.Fatal("a completed order is still tracked after the return window")
		}
		e.clock.Advance(2 * time.Hour)
		before := e.amoRequests()
		if s := e.reconcile(); s.Refreshed != 0 || e.amoRequests() != before {
			t.Fatalf("finished order still worked on: %s", s)
		}
	})
}

func TestReconcile_CancelledOrderGoesToLostWithPipelineAndTheReasonInTheNote(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"CANCELLED": domain.StatusLost, "ARCHIVE": amofake.StatusConfirmed}
		id := e.deal("700000011")
		e.setStatus("700000011", domain.StateArchive, domain.StatusCancelled, "MERCHANT_OUT_OF_STOCK")
		e.clock.Advance(10 * time.Minute)
		e.reconcile()
		l := e.leadNow(id)
		if l.StatusID != domain.StatusLost || l.PipelineID != amofake.PipelineID { // status match beats state match
			t.Fatalf("lead %d/%d", l.PipelineID, l.StatusID)
		}
		notes := e.notesOf(id)
		if !strings.Contains(notes[len(notes)-1], "Причина отмены: нет товара в наличии") {
			t.Fatalf("note: %s", notes[len(notes)-1])
		}
		if e.record("700000011").Tracked {
			t.Fatal("cancelled order still tracked")
		}
	})
}

func TestReconcile_UnmappedChangeLeavesTheDealWhereItIs(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"COMPLETED": domain.StatusWon}
		id := e.deal("700000021")
		e.setStatus("700000021", domain.StateDelivery, domain.StatusAcceptedByMerchant, "")
		e.clock.Advance(10 * time.Minute)
		s := e.reconcile()
		if l := e.leadNow(id); l.StatusID != amofake.StatusNewOrder || s.Moved != 0 {
			t.Fatalf("unmapped change moved the deal to %d: %s", l.StatusID, s)
		}
		if s.Notes != 1 || e.record("700000021").Status != domain.StatusAcceptedByMerchant {
			t.Fatalf("change not noted or recorded: %s", s)
		}
	})
}

func TestReconcile_ManagersManualMoveIsNotUndone(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{
			"PICKUP": amofake.StatusConfirmed, "DELIVERY": amofake.StatusConfirmed, "COMPLETED": domain.StatusWon,
		}
		id := e.deal("700000031")
		e.setStatus("700000031", domain.StatePickup, domain.StatusAcceptedByMerchant, "")
		e.clock.Advance(10 * time.Minute)
		e.reconcile()
		if err := e.amo.MoveLead(id, amofake.PipelineID, amofake.StatusInDelivery); err != nil { // the manager's own move
			t.Fatal(err)
		}
		e.clock.Advance(10 * time.Minute)
		e.reconcile()                                                                       // nothing changed at Kaspi
		e.setStatus("700000031", domain.StateDelivery, domain.StatusAcceptedByMerchant, "") // maps to where we already put it
		e.clock.Advance(10 * time.Minute)
		s := e.reconcile()
		if l := e.leadNow(id); l.StatusID != amofake.StatusInDelivery || s.Moved != 0 {
			t.Fatalf("the manager's move was undone: lead in %d; %s", l.StatusID, s)
		}
		e.setStatus("700000031", domain.StateArchive, domain.StatusCompleted, "") // a new mapped status
		e.clock.Advance(10 * time.Minute)
		e.reconcile()
		if l := e.leadNow(id); l.StatusID != domain.StatusWon {
			t.Fatalf("completed order's deal in %d", l.StatusID)
		}
	})
}

func TestReconcile_PartialCancellationUpdatesThePriceWithANote(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		o := e.order("700000041", time.Hour, "7011234567",
			domain.Line{SKU: "A", Name: "Смартфон", Quantity: 1, BasePrice: 100000},
			domain.Line{SKU: "B", Name: "Чехол", Quantity: 1, BasePrice: 5000})
		e.add(o)
		e.fetch()
		id := e.lead("700000041").ID
		if err := e.kf.RemoveLine("700000041", 1); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(10 * time.Minute)
		e.reconcile()
		if l := e.leadNow(id); l.Price != 100000 {
			t.Fatalf("price %d", l.Price)
		}
		notes := e.notesOf(id)
		if !strings.Contains(notes[len(notes)-1], "Kaspi: сумма заказа изменена с 105 000 ₸ на 100 000 ₸") {
			t.Fatalf("note: %s", notes[len(notes)-1])
		}
		if s := e.reconcile(); s.AmoRequests != 0 {
			t.Fatalf("price change applied twice: %s", s)
		}
	})
}

func TestReconcile_TwentyDayOldOpenOrderIsRefreshedByCode(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"COMPLETED": domain.StatusWon}
		e.add(e.order("700000051", 20*24*time.Hour, "7011234567"))
		e.cfg.Since = e.clock.Now().Add(-21 * 24 * time.Hour)
		e.fetch()
		e.cfg.Since = time.Time{}
		id := e.lead("700000051").ID
		e.setStatus("700000051", domain.StateArchive, domain.StatusCompleted, "")
		e.clock.Advance(2 * time.Hour)
		s := e.reconcile()
		if s.Refreshed != 1 || e.leadNow(id).StatusID != domain.StatusWon {
			t.Fatalf("%s; lead in %d", s, e.leadNow(id).StatusID)
		}
		found := false
		for _, r := range e.kf.Requests() {
			if r.Query.Get("filter[orders][code]") == "700000051" {
				found = true
			}
		}
		if !found {
			t.Fatal("not looked up by code")
		}
	})
}

func TestReconcile_OrderAppearingThreeHoursAfterItsCreationGetsItsDeal(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		late := e.order("700000061", 0, "7011234567")
		e.add(late)
		if err := e.kf.SetVisibleAt(late.Code, e.clock.Now().Add(3*time.Hour+10*time.Minute)); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(3*time.Hour + 5*time.Minute)
		e.add(e.order("700000062", 0, "7021234567")) // newer orders keep the watermark moving
		e.fetch()
		e.clock.Advance(10 * time.Minute)
		e.fetch()
		if _, ok := e.leadsByCode()[late.Code]; ok {
			t.Fatal("fetch_new's look-back reached it; the test proves nothing")
		}
		s := e.reconcile()
		if s.Found != 1 || s.Created != 1 {
			t.Fatalf("%s", s)
		}
		e.lead(late.Code)
	})
}

// A late order that Kaspi already shows as accepted gets its deal and is
// placed in its mapped stage by the same reconcile, with no change note.
func TestReconcile_DealItCreatesIsPlacedInTheMappedStageAtOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"DELIVERY": amofake.StatusConfirmed}
		late := e.order("700000065", 0, "7011234567")
		late.State, late.Status = domain.StateDelivery, domain.StatusAcceptedByMerchant
		e.add(late)
		if err := e.kf.SetVisibleAt(late.Code, e.clock.Now().Add(4*time.Hour)); err != nil {
			t.Fatal(err)
		}
		e.fetch()
		e.clock.Advance(4*time.Hour + time.Minute)
		s := e.reconcile()
		l := e.lead(late.Code)
		if s.Created != 1 || s.Moved != 1 || l.StatusID != amofake.StatusConfirmed || l.PipelineID != amofake.PipelineID {
			t.Fatalf("%s; deal in status %d, want %d", s, l.StatusID, amofake.StatusConfirmed)
		}
		for _, n := range e.amo.Notes() {
			if strings.Contains(n.Text, "Kaspi: статус изменён") {
				t.Fatalf("a placement is not a change: %q", n.Text)
			}
		}
		e.clock.Advance(10 * time.Minute)
		if s := e.reconcile(); s.Moved != 0 || s.AmoRequests != 0 {
			t.Fatalf("the next reconcile moved it again: %s", s)
		}
	})
}

func TestReconcile_RetriesAnOrderThatFailed(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("700000071", time.Hour, "7011234567"))
		e.poison("700000071")
		e.fetch()
		e.crmOverride = nil
		e.clock.Advance(time.Minute)
		if s := e.reconcile(); s.Created != 1 || s.Pending != 0 {
			t.Fatalf("%s", s)
		}
		e.lead("700000071")
	})
}

func TestReconcile_QuietShopCostsOneKaspiRequestPerStatePageAndNoAmoRequest(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"COMPLETED": domain.StatusWon, "CANCELLED": domain.StatusLost}
		states := []string{domain.StateNew, domain.StatePickup, domain.StateDelivery, domain.StateKaspiDelivery}
		for i := range 300 {
			o := e.order(fmt.Sprintf("8%08d", i), time.Duration(i+1)*time.Minute, fmt.Sprintf("70%08d", 11234567+i%50))
			o.State = states[i%len(states)]
			if o.State != domain.StateNew {
				o.Status = domain.StatusAcceptedByMerchant
			}
			e.add(o)
		}
		for s := e.fetch(); s.Pending > 0; s = e.fetch() {
		}
		e.clock.Advance(10 * time.Minute)
		e.reconcile() // the first sweep after the deals were made
		e.clock.Advance(10 * time.Minute)
		amoBefore, kaspiBefore := e.amoRequests(), e.kf.RequestCount()
		s := e.reconcile()
		if n := e.amoRequests() - amoBefore; n != 0 || s.AmoRequests != 0 {
			t.Fatalf("quiet run made %d amoCRM requests: %s", n, s)
		}
		// 75 orders per state: one page each; ARCHIVE and SIGN_REQUIRED are empty.
		if n := e.kf.RequestCount() - kaspiBefore; n != len(domain.AllStates) {
			t.Fatalf("quiet run made %d Kaspi requests, want %d", n, len(domain.AllStates))
		}
	})
}

func TestReconcile_AdoptedPHPRowsMakeNoSpuriousNotesOrMoves(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"NEW": amofake.StatusConfirmed, "COMPLETED": domain.StatusWon}
		ctx := context.Background()
		// Rows as the PHP version left them: kaspi_status holds the state,
		// no Kaspi status, no creation time, no snapshot.
		quiet := e.order("700000081", time.Hour, "7011234567")
		done := e.order("700000082", time.Hour, "7011234567")
		e.add(quiet, done)
		quietLead := e.amo.AddLead(amofake.Lead{Name: "Kaspi Order 700000081", Price: 1000, StatusID: amofake.StatusInDelivery})
		doneLead := e.amo.AddLead(amofake.Lead{Name: "Kaspi Order 700000082", Price: 1000, StatusID: amofake.StatusInDelivery})
		e.phpRow(ctx, quiet.Code, "NEW", quietLead)
		e.phpRow(ctx, done.Code, "NEW", doneLead)
		e.setStatus(done.Code, domain.StateArchive, domain.StatusCompleted, "")

		s := e.reconcile()
		if l := e.leadNow(quietLead); l.StatusID != amofake.StatusInDelivery || len(e.notesOf(quietLead)) != 0 {
			t.Fatalf("unchanged PHP row: lead moved to %d or noted %v", l.StatusID, e.notesOf(quietLead))
		}
		if l := e.leadNow(doneLead); l.StatusID != domain.StatusWon || len(e.notesOf(doneLead)) != 1 {
			t.Fatalf("changed PHP row: lead in %d, notes %v", l.StatusID, e.notesOf(doneLead))
		}
		if s.Moved != 1 || s.Notes != 1 || s.Created != 0 {
			t.Fatalf("%s", s)
		}
		// The next quiet run leaves the adopted deal alone too.
		e.clock.Advance(10 * time.Minute)
		before := e.amoRequests()
		e.reconcile()
		if e.amoRequests() != before || e.leadNow(quietLead).StatusID != amofake.StatusInDelivery {
			t.Fatal("second run touched the adopted deal")
		}
	})
}

func TestReconcile_StatusMappingRowsOfTheDatabaseApplyAndEnvWins(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		for status, id := range map[string]int64{"PICKUP": amofake.StatusInDelivery, "COMPLETED": amofake.StatusConfirmed} {
			if _, err := e.db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: status, AmoPipelineID: amofake.PipelineID,
				AmoStatusID: id, IsActive: true}, e.clock.Now()); err != nil {
				t.Fatal(err)
			}
		}
		e.cfg.StatusMap = map[string]int64{"COMPLETED": domain.StatusWon}
		id := e.deal("700000091")
		e.setStatus("700000091", domain.StatePickup, domain.StatusAcceptedByMerchant, "")
		e.clock.Advance(10 * time.Minute)
		e.reconcile()
		if l := e.leadNow(id); l.StatusID != amofake.StatusInDelivery {
			t.Fatalf("database mapping not applied: %d", l.StatusID)
		}
		e.setStatus("700000091", domain.StateArchive, domain.StatusCompleted, "")
		e.clock.Advance(10 * time.Minute)
		e.reconcile()
		if l := e.leadNow(id); l.StatusID != domain.StatusWon {
			t.Fatalf(".env did not win: %d", l.StatusID)
		}
	})
}

func TestReconcile_DeletedDealIsReportedOnceAndNoLongerTracked(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"PICKUP": amofake.StatusConfirmed}
		id := e.deal("700000101")
		if err := e.amo.DeleteLead(id); err != nil {
			t.Fatal(err)
		}
		e.setStatus("700000101", domain.StatePickup, domain.StatusAcceptedByMerchant, "")
		e.clock.Advance(10 * time.Minute)
		e.reconcile()
		e.setStatus("700000101", domain.StateArchive, domain.StatusCompleted, "")
		e.clock.Advance(10 * time.Minute)
		e.reconcile()
		if n := strings.Count(e.out.String(), "удалили в amoCRM"); n != 1 {
			t.Fatalf("reported %d times:\n%s", n, e.out.String())
		}
		if e.record("700000101").Tracked {
			t.Fatal("still tracked")
		}
	})
}

func TestReconcile_DryRunWritesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"PICKUP": amofake.StatusConfirmed}
		id := e.deal("700000111")
		e.setStatus("700000111", domain.StatePickup, domain.StatusAcceptedByMerchant, "")
		e.clock.Advance(10 * time.Minute)
		e.cfg.DryRun = true
		e.reconcile()
		if e.leadNow(id).StatusID != amofake.StatusNewOrder || len(e.notesOf(id)) != 1 {
			t.Fatal("dry run changed the deal")
		}
		if e.record("700000111").Status != domain.StatusApprovedByBank {
			t.Fatal("dry run changed the ledger")
		}
		if !strings.Contains(e.out.String(), "была бы перенесена в этап") {
			t.Fatalf("output:\n%s", e.out.String())
		}
	})
}

// phpRow writes an orders_map row the way the PHP version did.
func (e *env) phpRow(ctx context.Context, code, state string, leadID int64) {
	e.t.Helper()
	q := "INSERT INTO orders_map (order_code, kaspi_order_id, kaspi_status, lead_id, total_price, created_at) VALUES (?, ?, ?, ?, ?, ?)"
	if e.db.Driver() == "pgsql" {
		q = "INSERT INTO orders_map (order_code, kaspi_order_id, kaspi_status, lead_id, total_price, created_at) VALUES ($1, $2, $3, $4, $5, $6)"
	}
	if _, err := e.db.SQL().ExecContext(ctx, q, code, "php-"+code, state, leadID, 1000, "2025-07-01 10:00:00"); err != nil {
		e.t.Fatal(err)
	}
}

func TestReconcile_RefusedMoveIsReportedOnceNeverAnEndless400(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		// A status of another pipeline: amoCRM refuses the move.
		e.cfg.StatusMap = map[string]int64{"PICKUP": amofake.OtherStatusFirst}
		id := e.deal("700000121")
		e.setStatus("700000121", domain.StatePickup, domain.StatusAcceptedByMerchant, "")
		e.clock.Advance(10 * time.Minute)
		s := e.reconcile()
		if s.Failed != 1 || s.Notes != 1 || !strings.Contains(e.out.String(), "заказ 700000121: amoCRM не обновил сделку #") {
			t.Fatalf("%s\n%s", s, e.out.String())
		}
		if e.leadNow(id).StatusID != amofake.StatusNewOrder {
			t.Fatal("moved anyway")
		}
		e.clock.Advance(10 * time.Minute)
		before := e.amoRequests()
		if s := e.reconcile(); s.AmoRequests != 0 || e.amoRequests() != before {
			t.Fatalf("the refused move was tried again: %s", s)
		}
	})
}

// A change note amoCRM applied but whose answer was lost is not written
// again by the next run; only that change's notes are read back, and a run
// after a clean write reads none.
func TestReconcile_ChangeNoteWhoseAnswerWasLostIsWrittenOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"PICKUP": amofake.StatusConfirmed}
		lost := e.deal("700000091")
		e.clock.Advance(10 * time.Minute)
		e.setStatus("700000091", domain.StatePickup, domain.StatusAcceptedByMerchant, "")
		e.amo.InjectFault(amofake.Fault{Method: "POST", Path: "/api/v4/leads/notes", Kind: amofake.FaultGhost})
		e.reconcile()
		if n := notesWith(e.notesOf(lost), "статус изменён"); n != 1 {
			t.Fatalf("the ghost write left %d change notes, want 1", n)
		}
		if r := e.record("700000091"); r.Status == domain.StatusAcceptedByMerchant {
			t.Fatal("a change whose note write failed was recorded")
		}

		clean := e.deal("700000092")
		e.clock.Advance(10 * time.Minute)
		e.setStatus("700000092", domain.StatePickup, domain.StatusAcceptedByMerchant, "")
		before := len(e.amo.Requests())
		s := e.reconcile()
		if n := notesWith(e.notesOf(lost), "статус изменён"); n != 1 {
			t.Fatalf("the lost answer's change note written %d times: %q", n, e.notesOf(lost))
		}
		if n := notesWith(e.notesOf(clean), "статус изменён"); n != 1 || s.Notes != 1 {
			t.Fatalf("the other change: %d notes; %s", n, s)
		}
		if r := e.record("700000091"); r.Status != domain.StatusAcceptedByMerchant || r.AmoStatusID != amofake.StatusConfirmed {
			t.Fatalf("record %s/%s amo %d", r.State, r.Status, r.AmoStatusID)
		}
		if n := noteReads(e.amo.Requests()[before:]); n != 1 {
			t.Fatalf("%d note listings, want 1 (only the unsure change)", n)
		}

		e.clock.Advance(10 * time.Minute)
		e.setStatus("700000092", domain.StateArchive, domain.StatusCompleted, "")
		before = len(e.amo.Requests())
		e.reconcile()
		if n := noteReads(e.amo.Requests()[before:]); n != 0 {
			t.Fatalf("%d note listings after clean writes, want 0", n)
		}
	})
}

// noteReads counts the requests that list a deal's notes.
func noteReads(reqs []amofake.RequestLog) int {
	n := 0
	for _, r := range reqs {
		if ok, _ := path.Match("/api/v4/leads/*/notes", r.Path); ok && r.Method == "GET" {
			n++
		}
	}
	return n
}
