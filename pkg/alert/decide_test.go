package alert

import (
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/status"
)

var t0 = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func run(task, outcome string, ago time.Duration) status.RunInfo {
	return status.RunInfo{Task: task, Outcome: outcome, StartedAt: t0.Add(-ago), Summary: "summary of " + outcome}
}

// report builds a report from runs given newest first, as Collect does.
func report(runs ...status.RunInfo) status.Report {
	r := status.Report{GeneratedAt: t0, Recent: runs}
	r.Tasks = status.TaskStates(runs)
	return r
}

func keys(as []Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Key)
	}
	return out
}

func has(as []Alert, key string) bool {
	for _, a := range as {
		if a.Key == key {
			return true
		}
	}
	return false
}

func TestDecide_HealthyReportRaisesNothing(t *testing.T) {
	r := report(run("fetch_new", "ok", time.Minute), run("reconcile", "ok", 5*time.Minute))
	if got := Decide(r, Policy{}); len(got) != 0 {
		t.Fatalf("alerts on a healthy report: %v", keys(got))
	}
}

func TestDecide_ThreeFailedRunsInARowAlert(t *testing.T) {
	two := report(run("fetch_new", "failed", time.Minute), run("fetch_new", "failed", 2*time.Minute), run("fetch_new", "ok", 3*time.Minute))
	if has(Decide(two, Policy{}), KindFailing) {
		t.Fatal("two failures must not alert yet")
	}
	three := report(run("fetch_new", "running", 0), run("fetch_new", "failed", time.Minute),
		run("reconcile", "failed", 2*time.Minute), run("fetch_new", "failed", 3*time.Minute), run("fetch_new", "ok", 4*time.Minute))
	got := Decide(three, Policy{})
	if !has(got, KindFailing) {
		t.Fatalf("three failures in a row (a running one in between ignored): got %v", keys(got))
	}
	if !strings.Contains(got[0].Text, "3 запуска подряд") {
		t.Fatalf("text: %q", got[0].Text)
	}
}

func TestDecide_BanAlerts(t *testing.T) {
	until := t0.Add(30 * time.Minute)
	r := report(run("fetch_new", "failed", time.Minute))
	r.Limit = status.LimitState{Banned: true, BannedUntil: &until}
	if !has(Decide(r, Policy{}), KindBan) {
		t.Fatal("a ban must alert")
	}
}

func TestDecide_EachQuarantinedOrderAlertsUnderItsOwnKey(t *testing.T) {
	r := report(run("fetch_new", "ok", time.Minute))
	r.Quarantined = []status.Quarantined{{Code: "111", Attempts: 10, LastError: "400 price"}, {Code: "222", Attempts: 12}}
	got := Decide(r, Policy{})
	if !has(got, "quarantined:111") || !has(got, "quarantined:222") {
		t.Fatalf("got %v", keys(got))
	}
}

func TestDecide_RefreshTokenCloseToExpiryAlerts(t *testing.T) {
	r := report(run("fetch_new", "ok", time.Minute))
	far, near := t0.Add(60*24*time.Hour), t0.Add(5*24*time.Hour)
	days := 5
	r.Token = status.TokenState{Present: true, RefreshExpiresAt: &far}
	if has(Decide(r, Policy{}), KindRefresh) {
		t.Fatal("60 days left must not alert")
	}
	r.Token = status.TokenState{Present: true, RefreshExpiresAt: &near, RefreshDaysLeft: &days}
	if !has(Decide(r, Policy{}), KindRefresh) {
		t.Fatal("5 days left must alert")
	}
}

func TestDecide_NoSuccessForThirtyMinutesAlerts(t *testing.T) {
	recent := report(run("fetch_new", "failed", time.Minute), run("fetch_new", "ok", 20*time.Minute))
	if has(Decide(recent, Policy{}), KindNoSuccess) {
		t.Fatal("a success 20 minutes ago must not alert")
	}
	stale := report(run("fetch_new", "failed", time.Minute), run("reconcile", "ok", 31*time.Minute))
	if !has(Decide(stale, Policy{}), KindNoSuccess) {
		t.Fatal("no success for 31 minutes must alert")
	}
	never := report(run("fetch_new", "running", 40*time.Minute))
	if !has(Decide(never, Policy{}), KindNoSuccess) {
		t.Fatal("runs for 40 minutes and never a success must alert")
	}
	if has(Decide(report(), Policy{}), KindNoSuccess) {
		t.Fatal("an install that never ran is doctor's business, not an alert")
	}
}

// An amoCRM account found under a new address after a subdomain rename
// alerts (daily), naming the address and what to change in .env.
func TestDecide_RenamedAmoCRMAccountAlerts(t *testing.T) {
	r := report(run("fetch_new", "ok", time.Minute))
	if has(Decide(r, Policy{}), KindAmoMoved) {
		t.Fatal("no rename, no alert")
	}
	r.AmoMovedTo = "https://newshop.amocrm.ru"
	got := Decide(r, Policy{})
	if !has(got, KindAmoMoved) || !strings.Contains(got[0].Text, "https://newshop.amocrm.ru") || !strings.Contains(got[0].Text, "AMO_SUBDOMAIN") {
		t.Fatalf("alerts %v", got)
	}
	if got[0].Repeat < 24*time.Hour {
		t.Fatalf("repeat %v: a reminder, not an hourly alarm", got[0].Repeat)
	}
}
