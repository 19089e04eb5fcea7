package syncer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
)

// KASPI_AUTO_ACCEPT: each order waiting for the merchant is accepted in
// Kaspi once its deal is complete, at most once, never blindly after an
// unknown outcome, never when the buyer has cancelled.

// kaspiPosts counts the status changes the fake Kaspi received.
func (e *env) kaspiPosts() int {
	n := 0
	for _, r := range e.kf.Requests() {
		if r.Endpoint == kaspifake.EndpointAction {
			n++
		}
	}
	return n
}

func (e *env) autoAccept() {
	e.cfg.AutoAccept = true
	e.cfg.StatusMap = map[string]int64{"DELIVERY": amofake.StatusConfirmed, "CANCELLED": domain.StatusLost}
}

func (e *env) action(code string) domain.KaspiAction {
	e.t.Helper()
	a, err := e.db.KaspiAction(context.Background(), code, domain.ActionAccept)
	if err != nil {
		e.t.Fatalf("accept of %s: %v", code, err)
	}
	return a
}

func notesWith(notes []string, part string) int {
	n := 0
	for _, t := range notes {
		if strings.Contains(t, part) {
			n++
		}
	}
	return n
}

func TestAutoAccept_InTheRunThatMakesTheDeal_Once(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.autoAccept()
		e.add(e.order("810001", time.Hour, "7011234567"), e.order("810002", time.Hour, "7019876543"))
		s := e.fetch()
		if s.Created != 2 || s.Accepted != 2 || s.KaspiRefused != 0 {
			t.Fatalf("summary %+v: want 2 deals and 2 accepted", s)
		}
		for _, code := range []string{"810001", "810002"} {
			o, _ := e.kf.Order(code)
			if o.Status != domain.StatusAcceptedByMerchant || o.State != domain.StateDelivery {
				t.Fatalf("%s at Kaspi: %s/%s", code, o.State, o.Status)
			}
			l := e.lead(code)
			if l.StatusID != amofake.StatusConfirmed {
				t.Fatalf("deal of %s in status %d, want the mapped %d", code, l.StatusID, amofake.StatusConfirmed)
			}
			notes := e.notesOf(l.ID)
			if notesWith(notes, "принят автоматически") != 1 || notesWith(notes, "статус изменён") != 0 {
				t.Fatalf("notes of %s: %q; want one accept note and no change note", code, notes)
			}
			if a := e.action(code); a.State != domain.ActionDone || a.Tries != 1 {
				t.Fatalf("action %+v", a)
			}
		}
		if n := e.kaspiPosts(); n != 2 {
			t.Fatalf("%d status changes sent, want 2", n)
		}
		// Later runs do nothing more: no POST, no note, no move.
		notesBefore := len(e.amo.Notes())
		if s := e.fetch(); s.Accepted != 0 {
			t.Fatalf("second fetch accepted %d", s.Accepted)
		}
		if s := e.reconcile(); s.Moved != 0 || s.Notes != 0 {
			t.Fatalf("reconcile after the accept: %+v; the change our action caused is not noted twice", s)
		}
		if n := e.kaspiPosts(); n != 2 || len(e.amo.Notes()) != notesBefore {
			t.Fatalf("after more runs: %d POSTs, %d notes (was %d)", n, len(e.amo.Notes()), notesBefore)
		}
	})
}

func TestAutoAccept_OffByDefault_AndANothingToDoRunCostsNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("810010", time.Hour, "7011234567"))
		e.fetch()
		if n := e.kaspiPosts(); n != 0 {
			t.Fatalf("%d status changes without KASPI_AUTO_ACCEPT", n)
		}
		// Turned on later: the waiting order is accepted by the next run.
		e.autoAccept()
		if s := e.fetch(); s.Accepted != 1 {
			t.Fatalf("accepted %d, want the order waiting since before", s.Accepted)
		}
		before := e.kf.RequestCount()
		amoBefore := e.amoRequests()
		e.fetch()
		e.fetch()
		listing := e.kf.RequestCount() - before
		e.cfg.AutoAccept = false
		before = e.kf.RequestCount()
		e.fetch()
		e.fetch()
		if got := e.kf.RequestCount() - before; got != listing {
			t.Fatalf("quiet runs cost %d Kaspi requests with auto-accept, %d without", listing, got)
		}
		if e.amoRequests() != amoBefore {
			t.Fatalf("quiet runs made %d amoCRM requests", e.amoRequests()-amoBefore)
		}
	})
}

func TestAutoAccept_BuyerCancelledFirst_NotAccepted(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("810020", time.Hour, "7011234567"))
		e.fetch() // the deal, before auto-accept is on
		if err := e.kf.BuyerCancel("810020"); err != nil {
			t.Fatal(err)
		}
		e.autoAccept()
		s := e.fetch()
		if s.Accepted != 0 || s.KaspiRefused != 0 || e.kaspiPosts() != 0 {
			t.Fatalf("a cancelled order was acted on: %+v, %d POSTs", s, e.kaspiPosts())
		}
		if _, err := e.db.KaspiAction(context.Background(), "810020", domain.ActionAccept); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("an accept was recorded for a cancelled order: %v", err)
		}
		// The deal follows the cancellation with the usual change note.
		l := e.lead("810020")
		if l.StatusID != domain.StatusLost || notesWith(e.notesOf(l.ID), "Отмен") == 0 {
			t.Fatalf("deal %d in %d, notes %q", l.ID, l.StatusID, e.notesOf(l.ID))
		}
	})
}

// A crash between the recorded intent and Kaspi's answer: the next run
// asks Kaspi and sends nothing when the accept went through, once more
// when it did not.
func TestAutoAccept_AfterACrashBetweenIntentAndAnswer(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.add(e.order("810030", time.Hour, "7011234567"), e.order("810031", time.Hour, "7019876543"))
		e.fetch()
		for _, code := range []string{"810030", "810031"} {
			if ok, err := e.db.BeginAction(ctx, code, domain.ActionAccept, e.clock.Now()); err != nil || !ok {
				t.Fatalf("begin %s: %v %v", code, ok, err)
			}
		}
		// 810030's POST reached Kaspi before the crash; 810031's did not.
		if err := e.kf.SetStatus("810030", domain.StateDelivery, domain.StatusAcceptedByMerchant, ""); err != nil {
			t.Fatal(err)
		}
		e.autoAccept()
		s := e.fetch()
		if s.Accepted != 2 {
			t.Fatalf("accepted %d, want both settled", s.Accepted)
		}
		if n := e.kaspiPosts(); n != 1 {
			t.Fatalf("%d POSTs, want 1 (only for the order Kaspi still showed waiting)", n)
		}
		if a := e.action("810030"); a.State != domain.ActionDone || a.Tries != 1 {
			t.Fatalf("810030: %+v", a)
		}
		if a := e.action("810031"); a.State != domain.ActionDone || a.Tries != 2 {
			t.Fatalf("810031: %+v", a)
		}
		for _, code := range []string{"810030", "810031"} {
			if n := notesWith(e.notesOf(e.lead(code).ID), "принят автоматически"); n != 1 {
				t.Fatalf("%s has %d accept notes", code, n)
			}
		}
	})
}

func TestAutoAccept_UnknownOutcomeIsSettledByRereading(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.autoAccept()
		e.add(e.order("810040", time.Hour, "7011234567"))
		e.kf.Fail(kaspifake.EndpointAction, kaspifake.ServerError(), 1)
		s := e.fetch()
		if s.Created != 1 || s.Accepted != 0 || e.kaspiPosts() != 1 {
			t.Fatalf("after a 5xx: %+v, %d POSTs", s, e.kaspiPosts())
		}
		if a := e.action("810040"); a.State != domain.ActionIntent {
			t.Fatalf("after a 5xx the intent stays: %+v", a)
		}
		if s := e.fetch(); s.Accepted != 1 || e.kaspiPosts() != 2 {
			t.Fatalf("next run: %+v, %d POSTs; want accepted with one more POST after Kaspi showed it waiting", s, e.kaspiPosts())
		}
	})
}

func TestAutoAccept_RefusedIsNotedAndNotRetried(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.autoAccept()
		e.add(e.order("810050", time.Hour, "7011234567"))
		e.kf.Fail(kaspifake.EndpointAction, kaspifake.Fault{Status: 400}, 1)
		s := e.fetch()
		if s.Accepted != 0 || s.KaspiRefused != 1 {
			t.Fatalf("summary %+v: want 1 refused", s)
		}
		if !strings.Contains(s.String(), "Kaspi отказал 1") || s.Result != domain.ResultWarn || !strings.Contains(s.Reason(), "Kaspi не принял заказ") {
			t.Fatalf("summary line %q, result %q (%q): a refusal must tell and warn", s.String(), s.Result, s.Reason())
		}
		a := e.action("810050")
		if a.State != domain.ActionRefused || !strings.Contains(a.Detail, "Bad Request") {
			t.Fatalf("action %+v: want refused with Kaspi's reason", a)
		}
		if n := notesWith(e.notesOf(e.lead("810050").ID), "не принят автоматически"); n != 1 {
			t.Fatalf("%d refusal notes", n)
		}
		e.fetch()
		if n := e.kaspiPosts(); n != 1 {
			t.Fatalf("a refused accept was sent again: %d POSTs", n)
		}
	})
}

func TestAutoAccept_NotBeforeTheDealIsComplete_NorInADryRun(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.autoAccept()
		e.add(e.order("810060", time.Hour, "7011234567"))
		e.crmOverride = crmWith{CRM: e.crm, createLeads: func(context.Context, []domain.Lead) ([]domain.Lead, error) {
			return nil, domain.ErrBadRequest
		}}
		e.fetch()
		if e.kaspiPosts() != 0 {
			t.Fatal("an order without a deal was accepted")
		}
		e.crmOverride = nil
		e.clock.Advance(2 * time.Hour) // past the set-aside backoff
		e.cfg.DryRun = true
		e.fetch()
		e.cfg.DryRun = false
		if e.kaspiPosts() != 0 {
			t.Fatal("a dry run sent a status change")
		}
		if s := e.fetch(); s.Created != 1 || s.Accepted != 1 {
			t.Fatalf("summary %+v", s)
		}
		// A complete deal waiting: a dry run says what it would do, and does not.
		e.kf.AddOrder(e.order("810061", time.Minute, "7019876543"))
		e.cfg.AutoAccept = false
		e.fetch()
		e.cfg.AutoAccept, e.cfg.DryRun = true, true
		e.fetch()
		if e.kaspiPosts() != 1 || !strings.Contains(e.out.String(), "пробный запуск: заказ 810061 был бы принят в Kaspi") {
			t.Fatalf("dry run: %d POSTs, output:\n%s", e.kaspiPosts(), e.out.String())
		}
		if _, err := e.db.KaspiAction(context.Background(), "810061", domain.ActionAccept); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("a dry run recorded an intent: %v", err)
		}
	})
}
