package syncer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/kaspi"
	"kaspi-amocrm/pkg/syncer"
)

func TestFetchNew_EveryRunIsRecordedInTheRunLog(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("900000001", time.Hour, "7011234567"))
		s := e.fetch()
		runs, err := e.db.LastRuns(context.Background(), "fetch_new", 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 1 || !runs[0].OK || runs[0].Summary != s.String() || runs[0].FinishedAt.IsZero() {
			t.Fatalf("runs: %+v", runs)
		}
	})
}

func TestFetchNew_RejectedKaspiTokenFailsTheRunBeforeAnyAmoRequest(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("900000011", time.Hour, "7011234567"))
		e.kc = kaspi.New(kaspi.Config{BaseURL: e.kaspiURL, Token: "wrong", RetryBase: time.Millisecond})
		_, err := syncer.FetchNew(context.Background(), e.cfg, e.deps())
		if !errors.Is(err, domain.ErrAuth) {
			t.Fatalf("err = %v", err)
		}
		if e.amoRequests() != 0 {
			t.Fatal("amoCRM was called")
		}
		runs, _ := e.db.LastRuns(context.Background(), "fetch_new", 1)
		if len(runs) != 1 || runs[0].OK || runs[0].Result != domain.ResultError || !strings.HasPrefix(runs[0].Reason, "Kaspi не принял токен") {
			t.Fatalf("runs: %+v", runs)
		}
	})
}

func TestFetchNew_AmoBanStopsTheRunAndKeepsTheOrdersPending(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("900000021", time.Hour, "7011234567"))
		e.amo.Ban(time.Hour)
		_, err := syncer.FetchNew(context.Background(), e.cfg, e.deps())
		if !errors.Is(err, domain.ErrBanned) {
			t.Fatalf("err = %v", err)
		}
		if r := e.record("900000021"); r.Step == domain.StepDone || r.Attempts != 0 {
			t.Fatalf("record: %+v", r)
		}
	})
}

func TestFetchNew_PersonalDataOfFinishedOrdersIsDroppedAfterRetention(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("900000031", time.Hour, "7011234567"))
		e.fetch()
		if e.record("900000031").Order == nil {
			t.Fatal("snapshot dropped too early")
		}
		e.clock.Advance(91 * 24 * time.Hour)
		e.fetch()
		r := e.record("900000031")
		if r.Order != nil || r.Phone != "" || r.LeadID == 0 {
			t.Fatalf("record after retention: order %v phone %q lead %d", r.Order != nil, r.Phone, r.LeadID)
		}
	})
}

// A run's limiter waits end with its time budget: with the shared pace
// held an hour ahead (a long 429 pause, other programs), the run gives up
// its amoCRM calls at once and ends without error, the orders pending,
// instead of waiting the hour while it holds the run lock.
func TestFetchNew_LimiterWaitsAreBoundedByTheRunBudget(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("900000031", time.Hour, "7011234567"))
		e.cfg.Budget = 5 * time.Second
		e.lim.Pause(time.Hour)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := syncer.FetchNew(ctx, e.cfg, e.deps())
		if err != nil {
			t.Fatalf("err = %v", err)
		}
		if s.Pending != 1 || s.Created != 0 || e.amoRequests() != 0 {
			t.Fatalf("summary %+v, amoCRM requests %d", s, e.amoRequests())
		}
	})
}

// A deal whose create was never sent (no rate-limit slot before the run's
// deadline) goes back to the start: the next run creates it without first
// searching amoCRM for a deal that cannot exist.
func TestFetchNew_CreateNotSentNeedsNoSearch(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("900000041", time.Hour, "7011234567"))
		sent := false
		e.crmOverride = crmWith{CRM: e.crm, createLeads: func(ctx context.Context, leads []domain.Lead) ([]domain.Lead, error) {
			if !sent {
				return nil, fmt.Errorf("amocrm: create leads: %w", errors.Join(domain.ErrTransient, domain.ErrNotSent))
			}
			return e.crm.CreateLeads(ctx, leads)
		}}
		if s := e.fetch(); s.Created != 0 || s.Failed != 0 {
			t.Fatalf("first run: %s", s)
		}
		if r := e.record("900000041"); r.Step != domain.StepNew || r.Attempts != 0 {
			t.Fatalf("after a create that was not sent: %+v", r)
		}
		sent = true
		before := len(e.amo.Requests())
		if s := e.fetch(); s.Created != 1 {
			t.Fatalf("second run: %s", s)
		}
		for _, r := range e.amo.Requests()[before:] {
			if r.Method == "GET" && strings.HasPrefix(r.Path, "/api/v4/leads") && strings.Contains(r.Path, "query=") {
				t.Fatalf("searched amoCRM for a deal whose create was never sent: %s", r.Path)
			}
		}
	})
}
