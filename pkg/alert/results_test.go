package alert

import (
	"context"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/status"
)

func resultReport(at time.Time, res, reason string) status.Report {
	fin := at
	runs := []status.RunInfo{{Task: "fetch_new", Outcome: "ok", StartedAt: at.Add(-time.Second), FinishedAt: &fin, Result: res, Reason: reason}}
	if res == "error" {
		runs[0].Outcome = "failed"
	}
	return status.Report{GeneratedAt: at, Recent: runs, Tasks: status.TaskStates(runs)}
}

// The first warn after ok alerts once with the reason; the same warn a
// minute later says nothing; error after warn alerts again; the recovery
// to ok is told once; ok again says nothing.
func TestNotifier_ResultChangesAlertOnceEachWay(t *testing.T) {
	ctx := context.Background()
	f, srv := newFakeTelegram(t)
	db := openSettings(t)
	at := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	steps := []struct {
		res, reason string
		want        string // "" = no message
	}{
		{"ok", "", ""},
		{"warn", "заказ 1 отложен: amoCRM отклонил сделку", "⚠ Kaspi → amoCRM: новые заказы (fetch_new) — ПРЕДУПРЕЖДЕНИЕ: заказ 1 отложен: amoCRM отклонил сделку"},
		{"warn", "заказ 1 отложен: amoCRM отклонил сделку", ""},
		{"warn", "3 заказа ждут повтора после ошибки", ""},
		{"error", "amoCRM не принял авторизацию", "✗ Kaspi → amoCRM: новые заказы (fetch_new) — ОШИБКА: amoCRM не принял авторизацию"},
		{"warn", "заказ 2 отложен", ""},
		{"ok", "", "✓ Kaspi → amoCRM: новые заказы (fetch_new) — снова без ошибок."},
		{"ok", "", ""},
	}
	for i, st := range steps {
		before := len(f.sent())
		// A fresh notifier each time: the state lives in the database.
		n := New(NewTelegram(testBotToken, "42", srv.URL, srv.Client()), db, nil, Policy{})
		if _, err := n.Check(ctx, resultReport(at.Add(time.Duration(i)*time.Minute), st.res, st.reason)); err != nil {
			t.Fatal(err)
		}
		got := f.sent()[before:]
		switch {
		case st.want == "" && len(got) != 0:
			t.Errorf("step %d (%s): unexpected %q", i, st.res, got[0].Text)
		case st.want != "" && (len(got) != 1 || !strings.HasPrefix(got[0].Text, st.want)):
			t.Errorf("step %d (%s): got %+v, want %q", i, st.res, got, st.want)
		}
	}
}

// The first result ever being a warn alerts (an install that never worked).
func TestResultChanges_FirstWarnAlerts(t *testing.T) {
	got, next := ResultChanges(resultReport(t0, "warn", "x"), nil)
	if len(got) != 1 || next["fetch_new"] != "warn" {
		t.Fatalf("%v %v", keys(got), next)
	}
}
