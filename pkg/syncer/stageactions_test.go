package syncer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
	"kaspi-amocrm/pkg/syncer"
)

// KASPI_ACTIONS: a manager moves a deal into a stage and Kaspi follows,
// exactly once, never blind, with a note on the deal for every outcome.

// The action stages of the tests.
const (
	stageAccept   = amofake.StatusConfirmed
	stageAssemble = amofake.StatusInDelivery
	stageComplete = domain.StatusWon
	stageCancel   = domain.StatusLost
)

// stageFields are the deal fields the actions read and write.
type stageFields struct{ code, parcels, waybill, reason int64 }

// stageActions turns the stage actions on, with the account in the
// filters alpha (filters honoured) unless the test says otherwise.
func (e *env) stageActions() stageFields {
	f := stageFields{
		code:    e.amo.AddField("leads", "Код покупателя", "", "text"),
		parcels: e.amo.AddField("leads", "Мест", "", "numeric"),
		waybill: e.amo.AddField("leads", "Накладная", "", "url"),
		reason:  e.amo.AddField("leads", "Причина отмены Kaspi", "", "text"),
	}
	e.cfg.Actions = domain.ActionSettings{
		Stages: map[string]int64{domain.ActionAccept: stageAccept, domain.ActionAssemble: stageAssemble,
			domain.ActionComplete: stageComplete, domain.ActionCancel: stageCancel},
		CancelReason: domain.DefaultCancelReason, CodeFieldID: f.code, ParcelsFieldID: f.parcels,
		WaybillFieldID: f.waybill, CancelReasonFieldID: f.reason, MaxPerRun: 50, Keys: domain.DefaultActionKeys,
	}
	e.amo.SetFilters(true)
	return f
}

// move moves an order's deal by hand, as a manager.
func (e *env) move(code string, status int64) {
	e.t.Helper()
	if err := e.amo.MoveLead(e.lead(code).ID, amofake.PipelineID, status); err != nil {
		e.t.Fatal(err)
	}
}

// setField writes a deal field as a manager would.
func (e *env) setField(code string, field int64, value any) {
	e.t.Helper()
	fv := domain.FieldValue{FieldID: field}
	if value != nil {
		fv.Values = []domain.FieldItem{{Value: value}}
	}
	if err := e.crm.UpdateLeads(context.Background(), []domain.LeadUpdate{{ID: e.lead(code).ID, Fields: []domain.FieldValue{fv}}}); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) fieldOf(code string, field int64) string {
	for _, f := range e.lead(code).Fields {
		if f.ID == field && len(f.Values) > 0 && f.Values[0].Value != nil {
			return fmt.Sprint(f.Values[0].Value)
		}
	}
	return ""
}

func (e *env) stageAction(code, action string) domain.KaspiAction {
	e.t.Helper()
	a, err := e.db.KaspiAction(context.Background(), code, action)
	if err != nil {
		e.t.Fatalf("%s of %s: %v", action, code, err)
	}
	return a
}

// kaspiOrder is the order as the fake Kaspi has it.
func (e *env) kaspiOrder(code string) domain.Order {
	e.t.Helper()
	o, ok := e.kf.Order(code)
	if !ok {
		e.t.Fatalf("no order %s at Kaspi", code)
	}
	return o
}

// accepted puts an order in Kaspi as accepted by the merchant.
func (e *env) accepted(code string, kaspiDelivery bool) domain.Order {
	o := e.order(code, time.Hour, "70112345"+code[len(code)-2:])
	o.Status = domain.StatusAcceptedByMerchant
	o.State = domain.StateDelivery
	if kaspiDelivery {
		o.State, o.IsKaspiDelivery = domain.StateKaspiDelivery, true
	}
	return o
}

// cost is what one run cost beyond a quiet run of the same task.
type cost struct{ amo, kaspiReads, kaspiPosts int }

func (e *env) measure(run func() syncer.Summary) (cost, syncer.Summary) {
	amo, reads, posts := e.amoRequests(), e.kf.RequestCount(), e.kaspiPosts()
	s := run()
	c := cost{amo: e.amoRequests() - amo, kaspiPosts: e.kaspiPosts() - posts}
	c.kaspiReads = e.kf.RequestCount() - reads - c.kaspiPosts
	return c, s
}

func TestStageActions_QuietRunCostsOneAmoRequestAndNoKaspiWrite(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("820001", time.Hour, "7011234567"))
		e.fetch()
		e.stageActions()
		e.fetch() // the first check
		e.clock.Advance(10 * time.Minute)
		quietOff := func() cost {
			saved := e.cfg.Actions
			e.cfg.Actions = domain.ActionSettings{}
			c, _ := e.measure(e.fetch)
			e.cfg.Actions = saved
			return c
		}
		base := quietOff()
		c, s := e.measure(e.fetch)
		if c.amo-base.amo != 1 || c.kaspiPosts != 0 || c.kaspiReads != base.kaspiReads || s.Result != domain.ResultOK {
			t.Fatalf("quiet run with stage actions: %+v (without: %+v), %s; want exactly one more amoCRM request and no Kaspi request", c, base, s)
		}
		// So does a reconcile.
		e.cfg.Actions = domain.ActionSettings{}
		rb, _ := e.measure(e.reconcile)
		e.stageActions()
		rc, _ := e.measure(e.reconcile)
		if rc.amo-rb.amo != 1 || rc.kaspiPosts != 0 || rc.kaspiReads != rb.kaspiReads {
			t.Fatalf("quiet reconcile: %+v, without actions %+v", rc, rb)
		}
	})
}

func TestStageActions_EveryActionOnce_WithItsNoteAndCost(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.stageActions()
		e.add(e.order("820010", time.Hour, "7011234510"), e.accepted("820011", true), e.accepted("820012", false), e.accepted("820013", false))
		e.fetch()
		e.fetch()
		e.clock.Advance(time.Minute)
		quiet, _ := e.measure(e.fetch)
		report := map[string]cost{}
		step := func(name string, do func()) {
			t.Helper()
			do()
			c, s := e.measure(e.fetch)
			if s.Result != domain.ResultOK {
				t.Fatalf("%s: %s", name, s)
			}
			c.amo -= quiet.amo
			c.kaspiReads -= quiet.kaspiReads
			report[name] = c
			t.Logf("%-26s amoCRM %d, Kaspi reads %d, Kaspi POSTs %d", name, c.amo, c.kaspiReads, c.kaspiPosts)
		}

		e.clock.Advance(time.Minute)
		step("accept", func() { e.move("820010", stageAccept) })
		if o := e.kaspiOrder("820010"); o.Status != domain.StatusAcceptedByMerchant {
			t.Fatalf("accept: %s/%s", o.State, o.Status)
		}
		if a := e.stageAction("820010", domain.ActionAccept); a.State != domain.ActionDone || a.Tries != 1 {
			t.Fatalf("accept row %+v", a)
		}

		step("assemble", func() { e.move("820011", stageAssemble); e.setField("820011", f.parcels, 2) })
		if e.kf.Parcels("820011") != 2 || !e.kaspiOrder("820011").Assembled {
			t.Fatalf("assemble: %d parcels", e.kf.Parcels("820011"))
		}
		if a := e.stageAction("820011", domain.ActionAssemble); a.State != domain.ActionWaiting {
			t.Fatalf("assemble row %+v", a)
		}
		e.clock.Advance(kaspifake.DefaultWaybillDelay / 2)
		step("waybill poll (not ready)", func() {})
		e.clock.Advance(kaspifake.DefaultWaybillDelay)
		step("waybill poll (ready)", func() {})
		wb := e.kaspiOrder("820011").Waybill
		if wb == "" || e.fieldOf("820011", f.waybill) != wb || notesWith(e.notesOf(e.lead("820011").ID), wb) != 1 {
			t.Fatalf("waybill %q: field %q, notes %q", wb, e.fieldOf("820011", f.waybill), e.notesOf(e.lead("820011").ID))
		}
		if a := e.stageAction("820011", domain.ActionAssemble); a.State != domain.ActionDone {
			t.Fatalf("assemble row after the waybill %+v", a)
		}

		step("complete: code request", func() { e.move("820012", stageComplete) })
		sent, ok := e.kf.SentCode("820012")
		if !ok || notesWith(e.notesOf(e.lead("820012").ID), "Kaspi отправил покупателю код; впишите его в поле «Код покупателя»") != 1 {
			t.Fatalf("code request: sent %v, notes %q", ok, e.notesOf(e.lead("820012").ID))
		}
		step("complete: with the code", func() { e.setField("820012", f.code, sent) })
		if o := e.kaspiOrder("820012"); o.Status != domain.StatusCompleted {
			t.Fatalf("complete: %s/%s", o.State, o.Status)
		}

		e.setField("820013", f.reason, "Нет в наличии")
		step("cancel", func() { e.move("820013", stageCancel) })
		if o := e.kaspiOrder("820013"); o.Status != domain.StatusCancelled || o.CancellationReason != "MERCHANT_OUT_OF_STOCK" {
			t.Fatalf("cancel: %s/%s %s", o.State, o.Status, o.CancellationReason)
		}

		want := map[string]cost{
			"accept":                   {amo: 1, kaspiReads: 1, kaspiPosts: 1}, // the change note
			"assemble":                 {amo: 1, kaspiReads: 1, kaspiPosts: 1}, // the note
			"waybill poll (not ready)": {amo: 0, kaspiReads: 1},
			"waybill poll (ready)":     {amo: 2, kaspiReads: 1},                // field + note
			"complete: code request":   {amo: 2, kaspiReads: 1, kaspiPosts: 1}, // field name + note
			"complete: with the code":  {amo: 1, kaspiReads: 1, kaspiPosts: 1}, // the note
			"cancel":                   {amo: 1, kaspiReads: 1, kaspiPosts: 1},
		}
		for name, w := range want {
			if report[name] != w {
				t.Errorf("%s cost %+v, want %+v", name, report[name], w)
			}
		}
		// Each outcome is one note; nothing is repeated by later runs.
		posts, notes := e.kaspiPosts(), len(e.amo.Notes())
		e.clock.Advance(time.Minute)
		e.fetch()
		e.reconcile()
		e.reconcile()
		if e.kaspiPosts() != posts || len(e.amo.Notes()) != notes {
			t.Fatalf("later runs: %d POSTs (was %d), %d notes (was %d)", e.kaspiPosts(), posts, len(e.amo.Notes()), notes)
		}
		for _, code := range []string{"820010", "820012", "820013"} {
			if n := notesWith(e.notesOf(e.lead(code).ID), "статус изменён"); n != 0 {
				t.Fatalf("%s: a change note besides the action's: %q", code, e.notesOf(e.lead(code).ID))
			}
		}
	})
}

// A crash (kill -9) between the recorded intent and Kaspi's answer: the
// next run reads the order, sends nothing when Kaspi shows the target,
// and sends once when it does not.
func TestStageActions_AfterACrashBetweenIntentAndAnswer(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.stageActions()
		e.add(e.accepted("820101", false), e.accepted("820102", false))
		e.fetch()
		e.fetch()
		e.clock.Advance(time.Minute)
		e.move("820101", stageCancel)
		e.move("820102", stageCancel)
		for _, code := range []string{"820101", "820102"} {
			if ok, err := e.db.BeginAction(ctx, code, domain.ActionCancel, e.clock.Now()); err != nil || !ok {
				t.Fatalf("begin %s: %v %v", code, ok, err)
			}
		}
		// 820101's POST reached Kaspi before the process died; 820102's did not.
		if err := e.kf.SetStatus("820101", domain.StateArchive, domain.StatusCancelled, "BUYER_CANCELLATION_BY_MERCHANT"); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Hour) // the deals are not touched again
		e.reconcile()              // its sweep sees 820101 cancelled first
		if n := e.kaspiPosts(); n != 1 {
			t.Fatalf("%d POSTs, want 1 (only the order Kaspi still showed open)", n)
		}
		if a := e.stageAction("820101", domain.ActionCancel); a.State != domain.ActionDone || a.Tries != 1 {
			t.Fatalf("820101: %+v", a)
		}
		if a := e.stageAction("820102", domain.ActionCancel); a.State != domain.ActionDone || a.Tries != 2 {
			t.Fatalf("820102: %+v", a)
		}
		if o := e.kaspiOrder("820102"); o.Status != domain.StatusCancelled {
			t.Fatalf("820102 at Kaspi: %s", o.Status)
		}
		for _, code := range []string{"820101", "820102"} {
			if n := notesWith(e.notesOf(e.lead(code).ID), "Kaspi: заказ отменён"); n != 1 || notesWith(e.notesOf(e.lead(code).ID), "статус изменён") != 0 {
				t.Fatalf("%s notes %q", code, e.notesOf(e.lead(code).ID))
			}
		}
		e.fetch()
		e.reconcile()
		if n := e.kaspiPosts(); n != 1 {
			t.Fatalf("later runs posted: %d", n)
		}
	})
}

// An unknown outcome (a 5xx) keeps the intent; the next run settles it by
// reading the order, whether or not the deal changed since.
func TestStageActions_UnknownOutcomeSettledByRereading(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.stageActions()
		e.add(e.order("820110", time.Hour, "7011234510"))
		e.fetch()
		e.fetch()
		e.clock.Advance(time.Minute)
		e.move("820110", stageAccept)
		e.kf.Fail(kaspifake.EndpointAction, kaspifake.ServerError(), 1)
		e.fetch()
		if a := e.stageAction("820110", domain.ActionAccept); a.State != domain.ActionIntent || e.kaspiPosts() != 1 {
			t.Fatalf("after a 5xx: %+v, %d POSTs", a, e.kaspiPosts())
		}
		e.clock.Advance(time.Hour)
		e.fetch()
		if a := e.stageAction("820110", domain.ActionAccept); a.State != domain.ActionDone || a.Tries != 2 || e.kaspiPosts() != 2 {
			t.Fatalf("settled: %+v, %d POSTs", a, e.kaspiPosts())
		}
	})
}

// The buyer cancels between the manager's move and our action: refused,
// noted, a warning, and no retry on later runs.
func TestStageActions_BuyerCancelledBeforeTheAction(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.stageActions()
		e.add(e.accepted("820201", true))
		e.fetch()
		e.fetch()
		e.clock.Advance(time.Minute)
		e.move("820201", stageAssemble)
		if err := e.kf.BuyerCancel("820201"); err != nil {
			t.Fatal(err)
		}
		s := e.fetch()
		if e.kaspiPosts() != 0 || s.KaspiRefused != 1 || s.Result != domain.ResultWarn || !strings.Contains(strings.Join(s.Reasons, " "), "820201") {
			t.Fatalf("%s (%v): %d POSTs; want a refusal in the result and no POST", s, s.Reasons, e.kaspiPosts())
		}
		if a := e.stageAction("820201", domain.ActionAssemble); a.State != domain.ActionRefused {
			t.Fatalf("row %+v", a)
		}
		lead := e.lead("820201")
		if n := notesWith(e.notesOf(lead.ID), "не выполнено"); n != 1 {
			t.Fatalf("notes %q", e.notesOf(lead.ID))
		}
		if lead.StatusID != stageAssemble {
			t.Fatalf("the deal was moved to %d; a refusal leaves it where the manager put it (no map)", lead.StatusID)
		}
		for range 3 {
			e.clock.Advance(time.Minute)
			e.fetch()
			e.reconcile()
		}
		if e.kaspiPosts() != 0 || notesWith(e.notesOf(lead.ID), "не выполнено") != 1 {
			t.Fatalf("retried: %d POSTs, notes %q", e.kaspiPosts(), e.notesOf(lead.ID))
		}
	})
}

// A refusal is retried only after the deal left the action's stage and came
// back; any other edit of the deal does not retry it.
func TestStageActions_RefusedRetriedOnlyAfterLeavingAndComingBack(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.stageActions()
		e.add(e.order("820301", time.Hour, "7011234501"))
		e.fetch()
		e.fetch()
		e.clock.Advance(time.Minute)
		e.move("820301", stageAccept)
		e.kf.Fail(kaspifake.EndpointAction, kaspifake.Fault{Status: 400}, 1)
		if s := e.fetch(); s.KaspiRefused != 1 || e.kaspiPosts() != 1 {
			a, err := e.db.KaspiAction(context.Background(), "820301", domain.ActionAccept)
			t.Fatalf("refusal: %s, %d POSTs; %+v %v; %v", s, e.kaspiPosts(), a, err, e.notesOf(e.lead("820301").ID))
		}
		e.clock.Advance(time.Minute)
		e.setField("820301", f.parcels, 3) // an edit, not a move
		e.fetch()
		if e.kaspiPosts() != 1 {
			t.Fatalf("an edit retried the refused action")
		}
		e.clock.Advance(time.Minute)
		e.move("820301", amofake.StatusNewOrder)
		e.fetch()
		if a := e.stageAction("820301", domain.ActionAccept); a.State != domain.ActionRearmed || e.kaspiPosts() != 1 {
			t.Fatalf("out of the stage: %+v, %d POSTs", a, e.kaspiPosts())
		}
		e.clock.Advance(time.Minute)
		e.move("820301", stageAccept)
		e.fetch()
		if a := e.stageAction("820301", domain.ActionAccept); a.State != domain.ActionDone || e.kaspiPosts() != 2 {
			t.Fatalf("back in the stage: %+v, %d POSTs", a, e.kaspiPosts())
		}
		if o := e.kaspiOrder("820301"); o.Status != domain.StatusAcceptedByMerchant {
			t.Fatalf("at Kaspi: %s", o.Status)
		}
		// Done is done: out and back again sends nothing.
		e.clock.Advance(time.Minute)
		e.move("820301", amofake.StatusNewOrder)
		e.fetch()
		e.clock.Advance(time.Minute)
		e.move("820301", stageAccept)
		e.fetch()
		if e.kaspiPosts() != 2 {
			t.Fatalf("a done action repeated: %d POSTs", e.kaspiPosts())
		}
	})
}

// More actions pending than KASPI_ACTIONS_MAX_PER_RUN: none is taken, the
// run is an error asking for --confirm-actions; confirmed, all are taken.
func TestStageActions_SafetySwitch(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.stageActions()
		e.cfg.Actions.MaxPerRun = 2
		e.add(e.accepted("820401", false), e.accepted("820402", false), e.accepted("820403", false))
		e.fetch()
		e.fetch()
		e.clock.Advance(time.Minute)
		for _, code := range []string{"820401", "820402", "820403"} {
			e.move(code, stageCancel)
		}
		notes := len(e.amo.Notes())
		// A dry run lists all three and says the real run would stop.
		e.cfg.DryRun = true
		e.out.Reset()
		e.fetch()
		if out := e.out.String(); strings.Count(out, "было бы выполнено: отмена заказа") != 3 || !strings.Contains(out, "--confirm-actions") {
			t.Fatalf("dry run output:\n%s", out)
		}
		e.cfg.DryRun = false
		s, err := syncer.FetchNew(context.Background(), e.cfg, e.deps())
		var held *syncer.ActionsHeldError
		if !errors.As(err, &held) || s.Result != domain.ResultError || !strings.Contains(s.Reasons[0], "--confirm-actions") ||
			!strings.Contains(s.Reasons[0], "KASPI_ACTIONS_MAX_PER_RUN=2") {
			t.Fatalf("err %v, %s %v", err, s.Result, s.Reasons)
		}
		if e.kaspiPosts() != 0 || len(e.amo.Notes()) != notes {
			t.Fatalf("held run acted: %d POSTs, %d notes (was %d)", e.kaspiPosts(), len(e.amo.Notes()), notes)
		}
		if _, err := syncer.Reconcile(context.Background(), e.cfg, e.deps()); !errors.As(err, &held) {
			t.Fatalf("the next run is held as well: %v", err)
		}
		e.cfg.ConfirmActions = true
		if s := e.fetch(); s.KaspiActions != 3 || e.kaspiPosts() != 3 {
			t.Fatalf("confirmed: %s, %d POSTs", s, e.kaspiPosts())
		}
	})
}

// --dry-run lists every action it would take and takes none.
func TestStageActions_DryRunListsAndTakesNone(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.stageActions()
		e.add(e.order("820501", time.Hour, "7011234501"), e.accepted("820502", false))
		e.fetch()
		e.fetch()
		e.clock.Advance(time.Minute)
		e.move("820501", stageAccept)
		e.move("820502", stageComplete)
		e.cfg.DryRun = true
		e.out.Reset()
		notes := len(e.amo.Notes())
		e.fetch()
		out := e.out.String()
		for _, want := range []string{"заказ 820501 (сделка #", "принятие заказа", "заказ 820502", "выдача заказа"} {
			if !strings.Contains(out, want) {
				t.Fatalf("dry run output lacks %q:\n%s", want, out)
			}
		}
		if e.kaspiPosts() != 0 || len(e.amo.Notes()) != notes {
			t.Fatalf("dry run acted: %d POSTs, %d notes (was %d)", e.kaspiPosts(), len(e.amo.Notes()), notes)
		}
		if _, err := e.db.KaspiAction(context.Background(), "820501", domain.ActionAccept); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("dry run recorded an action: %v", err)
		}
		e.cfg.DryRun = false
		if e.fetch(); e.kaspiPosts() != 2 {
			t.Fatalf("the real run after the dry one: %d POSTs", e.kaspiPosts())
		}
	})
}

// No ping-pong: a deal our own reconcile moved into an action stage (a
// cancelled order mapped into 143 = the cancel stage) triggers nothing.
func TestStageActions_NoPingPong(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.stageActions()
		e.cfg.StatusMap = map[string]int64{"CANCELLED": domain.StatusLost, "ACCEPTED_BY_MERCHANT": stageAssemble}
		e.add(e.accepted("820601", false), e.order("820602", time.Hour, "7011234502"))
		e.fetch()
		e.fetch()
		e.reconcile()
		e.clock.Advance(time.Minute)
		if err := e.kf.BuyerCancel("820601"); err != nil {
			t.Fatal(err)
		}
		// A manager accepts 820602: the map moves the accepted order into
		// the assemble stage, which must not assemble it.
		e.move("820602", stageAccept)
		e.reconcile()
		if l := e.lead("820601"); l.StatusID != domain.StatusLost {
			t.Fatalf("the map did not move the cancelled deal: %d", l.StatusID)
		}
		if l := e.lead("820602"); l.StatusID != stageAssemble {
			t.Fatalf("the map did not move the accepted deal: %d", l.StatusID)
		}
		posts := e.kaspiPosts()
		notes601 := len(e.notesOf(e.lead("820601").ID))
		for range 2 {
			e.clock.Advance(time.Minute)
			e.reconcile()
			e.fetch()
		}
		if e.kaspiPosts() != posts || posts != 1 {
			t.Fatalf("POSTs %d then %d; want the one accept only", posts, e.kaspiPosts())
		}
		if _, err := e.db.KaspiAction(context.Background(), "820601", domain.ActionCancel); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("a cancel was recorded for a deal our reconcile moved: %v", err)
		}
		if _, err := e.db.KaspiAction(context.Background(), "820602", domain.ActionAssemble); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("an assemble was recorded for a deal our reconcile moved: %v", err)
		}
		if n := len(e.notesOf(e.lead("820601").ID)); n != notes601 {
			t.Fatalf("notes of the cancelled deal grew: %q", e.notesOf(e.lead("820601").ID))
		}
	})
}

// Completion: a wrong code is noted with Kaspi's reason and cleared; after
// three wrong codes the completion stops until the deal is moved out and
// back, which asks Kaspi for a new code. Kaspi Delivery orders are not
// completed by the shop.
func TestStageActions_CompleteWrongCodes_AndKaspiDelivery(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.stageActions()
		e.add(e.accepted("820701", false), e.accepted("820702", true))
		e.fetch()
		e.fetch()
		e.clock.Advance(time.Minute)
		e.move("820701", stageComplete)
		e.move("820702", stageComplete)
		if s := e.fetch(); s.Result != domain.ResultOK {
			t.Fatalf("code request run: %s %v", s, s.Reasons)
		}
		if e.kaspiPosts() != 1 {
			t.Fatalf("%d POSTs; want the code request only (Kaspi Delivery is Kaspi's)", e.kaspiPosts())
		}
		if n := notesWith(e.notesOf(e.lead("820702").ID), "завершает сам Kaspi"); n != 1 {
			t.Fatalf("Kaspi Delivery note: %q", e.notesOf(e.lead("820702").ID))
		}
		lead := e.lead("820701").ID
		for i := 1; i <= 3; i++ {
			e.clock.Advance(time.Minute)
			e.setField("820701", f.code, "0000x")
			e.fetch()
			if got := e.fieldOf("820701", f.code); got != "" {
				t.Fatalf("try %d: the code field was not cleared: %q", i, got)
			}
			if n := notesWith(e.notesOf(lead), kaspifake.TitleWrongCode); n != i {
				t.Fatalf("try %d: notes %q", i, e.notesOf(lead))
			}
		}
		if a := e.stageAction("820701", domain.ActionComplete); a.State != domain.ActionRefused {
			t.Fatalf("after 3 wrong codes: %+v", a)
		}
		posts := e.kaspiPosts()
		e.clock.Advance(time.Minute)
		e.setField("820701", f.code, "1111")
		e.fetch()
		if e.kaspiPosts() != posts {
			t.Fatalf("a fourth code was tried without a new code request")
		}
		// Out and back: a new code is requested, and the right one completes.
		e.clock.Advance(time.Minute)
		e.setField("820701", f.code, nil)
		e.move("820701", amofake.StatusNewOrder)
		e.fetch()
		e.clock.Advance(time.Minute)
		e.move("820701", stageComplete)
		e.fetch()
		code, ok := e.kf.SentCode("820701")
		if !ok || e.kaspiPosts() != posts+1 {
			t.Fatalf("no new code request: %v, %d POSTs", ok, e.kaspiPosts()-posts)
		}
		e.clock.Advance(time.Minute)
		e.setField("820701", f.code, code)
		e.fetch()
		if o := e.kaspiOrder("820701"); o.Status != domain.StatusCompleted {
			t.Fatalf("not completed: %s", o.Status)
		}
	})
}

// Cancel sends the reason of the deal's field, else KASPI_CANCEL_REASON,
// and the amoCRM loss reason's name as the comment.
func TestStageActions_CancelReasonAndComment(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.stageActions()
		e.cfg.Actions.CancelReason = "BUYER_NOT_REACHABLE"
		e.add(e.accepted("820801", false))
		e.fetch()
		e.fetch()
		e.clock.Advance(time.Minute)
		if err := e.amo.MoveLead(e.lead("820801").ID, amofake.PipelineID, domain.StatusLost); err != nil {
			t.Fatal(err)
		}
		if err := e.amo.SetLossReason(e.lead("820801").ID, amofake.LossReasonID); err != nil {
			t.Fatal(err)
		}
		e.fetch()
		o := e.kaspiOrder("820801")
		if o.Status != domain.StatusCancelled || o.CancellationReason != "BUYER_NOT_REACHABLE" || e.kf.CancellationComment("820801") != "Отменён покупателем" {
			t.Fatalf("cancel: %s %s %q", o.Status, o.CancellationReason, e.kf.CancellationComment("820801"))
		}
	})
}

// An account outside the filters alpha ignores filter[statuses] and
// filter[updated_at]: said once in the log, then found by reading the
// leads latest change first, still one request on a quiet run.
func TestStageActions_FiltersIgnored_Fallback(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.stageActions()
		e.amo.SetFilters(false)
		e.add(e.order("820901", time.Hour, "7011234501"), e.order("820902", time.Hour, "7011234502"))
		e.fetch()
		e.fetch()
		e.clock.Advance(time.Hour)
		e.fetch()
		e.clock.Advance(time.Minute)
		e.move("820901", stageAccept)
		e.fetch()
		if o := e.kaspiOrder("820901"); o.Status != domain.StatusAcceptedByMerchant {
			t.Fatalf("not accepted with the filters ignored: %s", o.Status)
		}
		if o := e.kaspiOrder("820902"); o.Status != domain.StatusApprovedByBank {
			t.Fatalf("a deal outside the stages was acted on: %s", o.Status)
		}
		if n := strings.Count(e.logs.String(), "ignored the lead filters"); n != 1 {
			t.Fatalf("said %d times", n)
		}
		e.clock.Advance(time.Hour)
		e.fetch()
		e.clock.Advance(time.Minute)
		c, _ := e.measure(e.fetch)
		e.cfg.Actions = domain.ActionSettings{}
		base, _ := e.measure(e.fetch)
		if c.amo-base.amo != 1 || c.kaspiPosts != 0 {
			t.Fatalf("quiet run with the fallback: %+v, without actions %+v", c, base)
		}
		if n := strings.Count(e.logs.String(), "ignored the lead filters"); n != 1 {
			t.Fatalf("said %d times", n)
		}
	})
}

// A stage of KASPI_ACTIONS that the pipeline lacks, or its incoming
// stage, is a configuration error naming the key: nothing is done.
func TestStageActions_UnknownStageIsASettingError(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.stageActions()
		e.add(e.accepted("821001", false))
		e.fetch()
		for _, bad := range []int64{99999999, amofake.StatusUnsorted} {
			e.cfg.Actions.Stages[domain.ActionCancel] = bad
			_, err := syncer.Reconcile(context.Background(), e.cfg, e.deps())
			var se *domain.SettingError
			if !errors.As(err, &se) || se.Key != "KASPI_ACTIONS" || !strings.Contains(se.Value, "cancel:") {
				t.Fatalf("stage %d: %v", bad, err)
			}
		}
		if e.kaspiPosts() != 0 {
			t.Fatalf("%d POSTs", e.kaspiPosts())
		}
	})
}

// The answer to a completion with the buyer's code is lost: the next run
// reads the order and, Kaspi still showing it open, completes it with the
// same code; it does not ask the buyer for a new one.
func TestStageActions_CompletionAnswerLost(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		f := e.stageActions()
		e.add(e.accepted("821101", false))
		e.fetch()
		e.fetch()
		e.clock.Advance(time.Minute)
		e.move("821101", stageComplete)
		e.fetch()
		sent, ok := e.kf.SentCode("821101")
		if !ok {
			t.Fatal("no code sent")
		}
		e.clock.Advance(time.Minute)
		e.setField("821101", f.code, sent)
		e.kf.Fail(kaspifake.EndpointAction, kaspifake.ServerError(), 1)
		e.fetch()
		if a := e.stageAction("821101", domain.ActionComplete); a.State != domain.ActionIntent || a.Detail != "code" {
			t.Fatalf("after the lost answer: %+v", a)
		}
		e.clock.Advance(time.Hour)
		e.fetch()
		if o := e.kaspiOrder("821101"); o.Status != domain.StatusCompleted {
			t.Fatalf("not completed: %s", o.Status)
		}
		if n := notesWith(e.notesOf(e.lead("821101").ID), "Kaspi отправил покупателю код"); n != 1 {
			t.Fatalf("code notes %d", n)
		}
		if e.kaspiPosts() != 3 {
			t.Fatalf("%d POSTs, want code request + lost completion + completion (no new code request)", e.kaspiPosts())
		}
	})
}

// A manager who moves a new deal into an action stage before reconcile
// has placed it by the status map is not overruled: the placement would
// take the deal out of the stage and the command would be lost.
func TestStageActions_FirstPlacementDoesNotUndoAManagersMove(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.stageActions()
		e.cfg.StatusMap = map[string]int64{"DELIVERY": amofake.StatusConfirmed, "CANCELLED": domain.StatusLost}
		e.add(e.accepted("822001", false))
		e.fetch()
		e.fetch()
		e.clock.Advance(time.Minute)
		e.move("822001", stageCancel) // before any reconcile placed the deal
		e.clock.Advance(time.Minute)
		s := e.reconcile()
		if o := e.kaspiOrder("822001"); o.Status != domain.StatusCancelled {
			t.Fatalf("the manager's cancel was lost: Kaspi shows %s; deal in %d; %s %q", o.Status, e.lead("822001").StatusID, s, s.Reasons)
		}
		if l := e.lead("822001"); l.StatusID != stageCancel {
			t.Fatalf("deal moved to %d", l.StatusID)
		}
		// Without a pending command the placement goes on as before.
		e.add(e.accepted("822002", false))
		e.fetch()
		e.clock.Advance(time.Minute)
		e.reconcile()
		if l := e.lead("822002"); l.StatusID != amofake.StatusConfirmed {
			t.Fatalf("a deal left where fetch_new made it was not placed: %d", l.StatusID)
		}
	})
}
