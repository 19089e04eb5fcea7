package syncer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/syncer"
)

func (e *env) requestsTo(method, path string) int {
	n := 0
	for _, r := range e.amo.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

// settingErr runs fetch_new expecting a configuration error.
func (e *env) settingErr() *domain.SettingError {
	e.t.Helper()
	_, err := syncer.FetchNew(context.Background(), e.cfg, e.deps())
	var se *domain.SettingError
	if !errors.As(err, &se) {
		e.t.Fatalf("err = %v; want a SettingError\noutput:\n%s", err, e.out.String())
	}
	return se
}

// AMO_STATUS_ID naming the incoming stage stops the run before any create,
// with one line naming key, value, the stage and the usable stages; no
// order records an attempt, and the first run after the fix creates them.
func TestFetchNew_IncomingStageIsASettingError(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		o := e.order("500000501", time.Hour, "7011234567")
		e.add(o, e.order("500000502", 2*time.Hour, "7011234568"))
		e.cfg.StatusID = amofake.StatusUnsorted
		se := e.settingErr()
		line := se.Error()
		for _, want := range []string{"AMO_STATUS_ID=61234560: ", "«Неразобранное»", "«Kaspi»", "61234561 — Новый заказ"} {
			if !strings.Contains(line, want) {
				t.Errorf("message %q lacks %q", line, want)
			}
		}
		if strings.Contains(line, "142 —") || strings.Contains(line, "61234560 —") {
			t.Errorf("message %q offers a stage that cannot take new deals", line)
		}
		if n := len(e.amo.Leads()) + len(e.amo.Contacts()); n != 0 {
			t.Fatalf("%d entities created before the configuration error", n)
		}
		for _, code := range []string{"500000501", "500000502"} {
			if rec := e.record(code); rec.Attempts != 0 || !rec.NextAttemptAt.IsZero() || rec.Step != domain.StepNew {
				t.Fatalf("order %s: attempts %d, step %s after a configuration error", code, rec.Attempts, rec.Step)
			}
		}

		e.cfg.StatusID = amofake.StatusNewOrder
		if s := e.fetch(); s.Created != 2 {
			t.Fatalf("after the fix: %s", s)
		}
		// The lists were read once per .env version, then cached.
		if n := e.requestsTo("GET", "/api/v4/leads/pipelines"); n != 2 {
			t.Fatalf("%d pipeline reads; want one per .env version", n)
		}
		e.add(e.order("500000503", time.Minute, "7011234569"))
		e.fetch()
		if n := e.requestsTo("GET", "/api/v4/leads/pipelines"); n != 2 {
			t.Fatalf("%d pipeline reads; the cached lists were not used", n)
		}
	})
}

func TestFetchNew_StatusMapTargetInTheIncomingStageIsASettingError(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000511", time.Hour, "7011234567"))
		e.cfg.StatusMap = map[string]int64{"ACCEPTED_BY_MERCHANT": amofake.StatusUnsorted}
		se := e.settingErr()
		if se.Key != "AMO_STATUS_MAP" || se.Value != "ACCEPTED_BY_MERCHANT:61234560" {
			t.Fatalf("%v", se)
		}
		if n := len(e.amo.Leads()); n != 0 {
			t.Fatal("a deal was created")
		}
	})
}

func TestFetchNew_MissingPipelineAndUserAreSettingErrors(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000521", time.Hour, "7011234567"))
		e.cfg.PipelineID = 7009999
		se := e.settingErr()
		if se.Error() != "AMO_PIPELINE_ID=7009999: такой воронки в amoCRM нет; есть: 7001234 — Kaspi; 7001235 — Розница" {
			t.Fatalf("%q", se.Error())
		}
		e.cfg.PipelineID = amofake.PipelineID
		e.cfg.ResponsibleUserID = 1234
		se = e.settingErr()
		if se.Key != "AMO_RESPONSIBLE_USER_ID" || !strings.Contains(se.Reason, "9876543 — Менеджер") {
			t.Fatalf("%v", se)
		}
		if rec := e.record("500000521"); rec.Attempts != 0 || len(e.amo.Leads()) != 0 {
			t.Fatal("an order paid for a configuration error")
		}
	})
}

// A value amoCRM refuses after the lists were cached is checked against
// fresh lists: when the account lacks it, the run stops with a setting
// error and the order records no attempt.
func TestFetchNew_RefusedSettingIsCheckedAgainstFreshLists(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000531", time.Hour, "7011234567"))
		if s := e.fetch(); s.Created != 1 {
			t.Fatalf("%s", s)
		}
		e.amo.RemoveUser(amofake.UserID)
		e.add(e.order("500000532", time.Minute, "7011234568"))
		se := e.settingErr()
		if se.Key != "AMO_RESPONSIBLE_USER_ID" || se.Value != "9876543" {
			t.Fatalf("%v", se)
		}
		if rec := e.record("500000532"); rec.Attempts != 0 || rec.Step != domain.StepNew || rec.LastError != "" {
			t.Fatalf("order paid for the configuration error: attempts %d step %s error %q", rec.Attempts, rec.Step, rec.LastError)
		}
	})
}

// A non-admin authorised the integration: /users is forbidden. The check
// of AMO_RESPONSIBLE_USER_ID is skipped with a reason, the sync goes on.
func TestFetchNew_UsersForbiddenSkipsTheResponsibleUserCheck(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.amo.SetNonAdmin(true)
		e.add(e.order("500000541", time.Hour, "7011234567"))
		if s := e.fetch(); s.Created != 1 {
			t.Fatalf("%s", s)
		}
		if e.requestsTo("GET", "/api/v4/users") != 1 || !strings.Contains(e.logs.String(), "AMO_RESPONSIBLE_USER_ID not checked") {
			t.Fatalf("the skipped check is not explained; log:\n%s", e.logs.String())
		}
		if e.amo.TokenGrants() != 0 {
			t.Fatal("a 403 for missing rights refreshed the tokens")
		}
	})
}
