package syncer_test

import (
	"context"
	"fmt"
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
		ctx := context.Background()
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
		_ = ctx
	})
}
