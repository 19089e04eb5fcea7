package syncer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
)

// amoCRM refuses every deal for the order's own data (not an .env value):
// the run must not say ok. It is warn with the first order's reason, in the
// summary and in the run log, and so are the next runs while the orders
// wait for their retry. (A typo in AMO_PIPELINE_ID is no order's error: it
// stops the run as a configuration error, see settingscheck_test.go.)
func TestFetchNew_RefusedDealsAreWarnNotOK(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("610000001", 3*time.Hour, "7011234567"), e.order("610000002", 2*time.Hour, "7021234567"),
			e.order("610000003", time.Hour, "7031234567"))
		refuse := true
		e.crmOverride = crmWith{CRM: e.crm, createLeads: func(ctx context.Context, leads []domain.Lead) ([]domain.Lead, error) {
			if !refuse {
				return e.crm.CreateLeads(ctx, leads)
			}
			v := &domain.ValidationError{Items: map[string][]string{}, Problems: map[string][]domain.FieldProblem{}}
			for _, l := range leads {
				v.Items[l.RequestID] = []string{"name: This value is too long. (TooLong)"}
				v.Problems[l.RequestID] = []domain.FieldProblem{{Code: "TooLong", Path: "name", Detail: "This value is too long."}}
			}
			return nil, fmt.Errorf("amocrm: create leads: %w", v)
		}}
		s := e.fetch()
		if s.Result != domain.ResultWarn || s.Created != 0 || s.Failed != 3 {
			t.Fatalf("first run: result %q, %s", s.Result, s)
		}
		if !strings.HasPrefix(s.Reason(), "заказ 610000001 отложен: amoCRM отклонил сделку: «") {
			t.Errorf("first reason = %q", s.Reason())
		}
		runs, _ := e.db.LastRuns(context.Background(), "fetch_new", 1)
		if len(runs) != 1 || runs[0].Result != domain.ResultWarn || runs[0].Reason != s.Reason() {
			t.Fatalf("run log: %+v", runs)
		}
		// Retried at once (attempt 2), then waiting for a minute: the run in
		// between does no work but must still not say ok.
		e.fetch()
		e.clock.Advance(10 * time.Second)
		s = e.fetch()
		if s.Failed != 0 || s.Result != domain.ResultWarn || !strings.HasPrefix(s.Reason(), "3 заказа ждут повтора после ошибки: amoCRM отклонил сделку") {
			t.Fatalf("waiting run: result %q reason %q, %s", s.Result, s.Reason(), s)
		}
		// Fixed: the orders are created on their next try, the run is ok and
		// says they were orders of earlier runs.
		refuse = false
		e.clock.Advance(time.Hour)
		s = e.fetch()
		if s.Result != domain.ResultOK || s.Created != 3 || s.Retried != 3 || s.Found != 0 || s.Reason() != "" {
			t.Fatalf("fixed run: result %q reason %q, %s", s.Result, s.Reason(), s)
		}
		if !strings.Contains(s.String(), "создано сделок 3 (из них по заказам прошлых запусков 3)") {
			t.Errorf("summary does not say the deals were retried: %s", s)
		}
	})
}

// A clean run is ok with no reason and no retried deals.
func TestFetchNew_CleanRunIsOK(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("620000001", time.Hour, "7011234567"))
		s := e.fetch()
		if s.Result != domain.ResultOK || s.Reason() != "" || s.Created != 1 || s.Retried != 0 {
			t.Fatalf("clean run: %q %q %s", s.Result, s.Reason(), s)
		}
	})
}

// The daily log records each stage move: order, deal and target stage.
func TestReconcile_LogsEachStageMove(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"CANCELLED": domain.StatusLost}
		id := e.deal("700000611")
		e.setStatus("700000611", domain.StateArchive, domain.StatusCancelled, "MERCHANT_OUT_OF_STOCK")
		e.clock.Advance(10 * time.Minute)
		if s := e.reconcile(); s.Moved != 1 {
			t.Fatalf("%s", s)
		}
		want := fmt.Sprintf(`msg="deal moved" task=reconcile order=700000611 lead=%d status=%d`, id, domain.StatusLost)
		if !strings.Contains(e.logs.String(), want) {
			t.Fatalf("log lacks %q:\n%s", want, e.logs.String())
		}
	})
}

// Warnings known before the run (a setting to fix) make it warn with the
// first one as the reason, after the work is done as usual.
func TestFetchNew_ConfigWarningsMakeTheRunWarn(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("630000001", time.Hour, "7011234567"))
		e.cfg.Warnings = []string{"CRON_SECRET короче 16 символов", "второе"}
		s := e.fetch()
		if s.Created != 1 || s.Result != domain.ResultWarn || s.Reason() != "CRON_SECRET короче 16 символов" || len(s.Reasons) != 2 {
			t.Fatalf("%q %q %s", s.Result, s.Reasons, s)
		}
		runs, _ := e.db.LastRuns(context.Background(), "fetch_new", 1)
		if runs[0].Result != domain.ResultWarn || runs[0].Reason != "CRON_SECRET короче 16 символов" {
			t.Fatalf("run log %+v", runs[0])
		}
	})
}

// Kaspi not answering a listing for a while is retried by the next run:
// the run stays ok (exit 0), as the exit code rules ask.
func TestFetchNew_TemporaryKaspiFailureIsNoWarning(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("640000001", time.Hour, "7011234567"))
		e.kf.Fail(kaspifake.EndpointList, kaspifake.ServerError(), 100)
		s := e.fetch()
		if s.Result != domain.ResultOK || len(e.kf.Requests()) == 0 {
			t.Fatalf("%q %q %s", s.Result, s.Reasons, s)
		}
	})
}
