package alert

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/status"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

// openSettings returns a fresh, migrated SQLite store.
func openSettings(t *testing.T) *store.DB { return storetest.Open(t, store.DriverSQLite) }

func failingReport(at time.Time) status.Report {
	runs := []status.RunInfo{
		{Task: "fetch_new", Outcome: "failed", StartedAt: at.Add(-time.Minute), Summary: "auth"},
		{Task: "fetch_new", Outcome: "failed", StartedAt: at.Add(-2 * time.Minute), Summary: "auth"},
		{Task: "fetch_new", Outcome: "failed", StartedAt: at.Add(-3 * time.Minute), Summary: "auth"},
		{Task: "fetch_new", Outcome: "ok", StartedAt: at.Add(-4 * time.Minute)},
	}
	return status.Report{GeneratedAt: at, Recent: runs, Tasks: status.TaskStates(runs)}
}

func TestNotifier_SendsOnceAndNotAgainWithinAnHour(t *testing.T) {
	ctx := context.Background()
	f, srv := newFakeTelegram(t)
	db := openSettings(t)
	n := New(NewTelegram(testBotToken, "42", srv.URL, srv.Client()), db, nil, Policy{})
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

	sent, err := n.Check(ctx, failingReport(t0))
	// The change to error is told at once; three failures in a row also
	// start the hourly reminder.
	if err != nil || strings.Join(sent, ",") != "result:fetch_new,"+KindFailing {
		t.Fatalf("first check: sent %v, err %v", sent, err)
	}
	if got := f.sent(); len(got) != 2 || got[0].ChatID != "42" || !strings.Contains(got[1].Text, "3 запуска подряд") {
		t.Fatalf("telegram got %+v", got)
	}

	// A run 10 minutes later, and another process (a fresh notifier over
	// the same database) 50 minutes later: still the same alert, not resent.
	if sent, _ := n.Check(ctx, failingReport(t0.Add(10*time.Minute))); len(sent) != 0 {
		t.Fatalf("resent after 10 min: %v", sent)
	}
	other := New(NewTelegram(testBotToken, "42", srv.URL, srv.Client()), db, nil, Policy{})
	if sent, _ := other.Check(ctx, failingReport(t0.Add(50*time.Minute))); len(sent) != 0 {
		t.Fatalf("resent after 50 min: %v", sent)
	}
	if len(f.sent()) != 2 {
		t.Fatalf("telegram got %d messages", len(f.sent()))
	}

	// After an hour the condition, if it lasts, is told again.
	if sent, _ := other.Check(ctx, failingReport(t0.Add(61*time.Minute))); len(sent) != 1 {
		t.Fatalf("not resent after 61 min: %v", sent)
	}
}

func TestNotifier_ADifferentAlertIsNotHeldBackByAnother(t *testing.T) {
	ctx := context.Background()
	f, srv := newFakeTelegram(t)
	n := New(NewTelegram(testBotToken, "42", srv.URL, srv.Client()), openSettings(t), nil, Policy{})
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	if _, err := n.Check(ctx, failingReport(t0)); err != nil {
		t.Fatal(err)
	}
	r := failingReport(t0.Add(5 * time.Minute))
	until := t0.Add(time.Hour)
	r.Limit = status.LimitState{Banned: true, BannedUntil: &until}
	r.Quarantined = []status.Quarantined{{Code: "777", Attempts: 10, LastError: "400"}}
	sent, err := n.Check(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(sent, ",") != "ban,quarantined:777" {
		t.Fatalf("sent %v", sent)
	}
	if len(f.sent()) != 4 {
		t.Fatalf("telegram got %d messages", len(f.sent()))
	}
}

func TestNotifier_FailedSendIsRetriedNextTimeAndNeverLogsTheToken(t *testing.T) {
	ctx := context.Background()
	f, srv := newFakeTelegram(t)
	f.fail = 1
	var logBuf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logBuf, nil))
	n := New(NewTelegram(testBotToken, "42", srv.URL, srv.Client()), openSettings(t), log, Policy{})
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

	if _, err := n.Check(ctx, failingReport(t0)); err == nil {
		t.Fatal("want the Telegram refusal reported")
	}
	sent, err := n.Check(ctx, failingReport(t0.Add(time.Minute)))
	if err != nil || len(sent) != 1 {
		t.Fatalf("retry: sent %v, err %v", sent, err)
	}
	if strings.Contains(logBuf.String(), "SECRET") || strings.Contains(logBuf.String(), testBotToken) {
		t.Fatalf("log leaks the bot token:\n%s", logBuf.String())
	}
	if !strings.Contains(logBuf.String(), "alert not sent") {
		t.Fatalf("the failure is not logged:\n%s", logBuf.String())
	}
}

func TestNotifier_NotConfiguredDoesNothing(t *testing.T) {
	n := New(nil, openSettings(t), nil, Policy{})
	if n.Enabled() {
		t.Fatal("enabled without a bot")
	}
	if sent, err := n.Check(context.Background(), failingReport(time.Now())); sent != nil || err != nil {
		t.Fatalf("sent %v err %v", sent, err)
	}
}
