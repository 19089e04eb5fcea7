package status

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
)

var now = time.Date(2026, 3, 10, 7, 0, 0, 0, time.UTC) // 12:00 in Almaty

func TestTaskStates_CountsFailuresSinceTheLastSuccess(t *testing.T) {
	runs := []RunInfo{
		{Task: domain.TaskFetchNew, Outcome: "failed"},
		{Task: domain.TaskReconcile, Outcome: "ok"},
		{Task: domain.TaskFetchNew, Outcome: "failed"},
		{Task: domain.TaskFetchNew, Outcome: "ok"},
		{Task: domain.TaskFetchNew, Outcome: "failed"},
	}
	ts := TaskStates(runs)
	if ts[0].Task != domain.TaskFetchNew || ts[0].FailuresInRow != 2 || ts[0].Last != &runs[0] || ts[0].LastOK != &runs[3] {
		t.Fatalf("fetch_new: %+v", ts[0])
	}
	if ts[1].Task != domain.TaskReconcile || ts[1].FailuresInRow != 0 || ts[1].LastOK != &runs[1] {
		t.Fatalf("reconcile: %+v", ts[1])
	}
}

func TestRunInfo_OutcomeAndDuration(t *testing.T) {
	ok := runInfo(domain.Run{Task: domain.TaskFetchNew, StartedAt: now.Add(-90 * time.Second), FinishedAt: now.Add(-60 * time.Second), OK: true}, now)
	if ok.Outcome != "ok" || ok.DurationSeconds != 30 {
		t.Fatalf("finished ok: %+v", ok)
	}
	crashed := runInfo(domain.Run{Task: domain.TaskFetchNew, StartedAt: now.Add(-10 * time.Second)}, now)
	if crashed.Outcome != "running" || crashed.FinishedAt != nil || crashed.DurationSeconds != 10 {
		t.Fatalf("unfinished: %+v", crashed)
	}
	failed := runInfo(domain.Run{Task: domain.TaskFetchNew, StartedAt: now.Add(-2 * time.Second), FinishedAt: now}, now)
	if failed.Outcome != "failed" {
		t.Fatalf("failed: %+v", failed)
	}
}

func TestRefreshExpiry_ThreeMonthsFromTheLastRefresh(t *testing.T) {
	// Refreshed at now: the access token expires in a day.
	tok := domain.Token{AccessToken: "a", RefreshToken: "r", ExpiresAt: now.Add(24 * time.Hour).Unix()}
	exp, ok := RefreshExpiry(tok)
	if !ok || !exp.Equal(now.Add(90*24*time.Hour)) {
		t.Fatalf("got %v %v", exp, ok)
	}
	ts := tokenState(tok, now)
	if ts.LongLived || ts.RefreshDaysLeft == nil || *ts.RefreshDaysLeft != 90 {
		t.Fatalf("token state %+v", ts)
	}
	if ts := tokenState(domain.Token{AccessToken: "a", ExpiresAt: now.Unix()}, now); !ts.LongLived || ts.RefreshExpiresAt != nil {
		t.Fatalf("long-lived token: %+v", ts)
	}
}

func sampleReport() Report {
	wm := time.UnixMilli(1773118800000).In(Almaty()) // 10.03.2026 10:00 Almaty
	started := now.Add(-time.Minute)
	fin := started.Add(12 * time.Second)
	last := RunInfo{Task: domain.TaskFetchNew, StartedAt: started, FinishedAt: &fin, Outcome: "failed", DurationSeconds: 12, Summary: "fetch_new: …",
		Result: "error", Reason: "amoCRM не принял авторизацию: пройдите её заново"}
	okRun := RunInfo{Task: domain.TaskFetchNew, StartedAt: now.Add(-2 * time.Hour), Outcome: "ok", DurationSeconds: 3, Result: "ok"}
	next := now.Add(4 * time.Minute)
	r := Report{
		GeneratedAt: now,
		Recent:      []RunInfo{last, okRun},
		Watermark:   &wm, WatermarkMs: 1773118800000,
		Steps:       map[string]int{"done": 40, "new": 2, "quarantined": 1},
		Quarantined: []Quarantined{{Code: "512345678", Attempts: 10, LastError: "400: price\nnot integer"}},
		SetAside: []SetAside{{Code: "512345678", Attempts: 10, Reason: "400: price\nnot integer", Quarantined: true},
			{Code: "512345679", Attempts: 3, NextTry: &next, Reason: "amoCRM отклонил сделку: «pipeline_id: not valid»"}},
		Version:  "v1.4.0",
		LastDeal: &DealInfo{Code: "512345600", LeadID: 40000007, CreatedAt: now.Add(-3 * time.Hour)},
		Token:    tokenState(domain.Token{AccessToken: "a", RefreshToken: "r", ExpiresAt: now.Add(20 * time.Hour).Unix()}, now),
	}
	r.Tasks = TaskStates(r.Recent)
	until := now.Add(20 * time.Minute)
	r.Limit = LimitState{Banned: true, BannedUntil: &until}
	return r
}

func TestText_RussianReportInAlmatyTime(t *testing.T) {
	txt := Text(sampleReport())
	for _, want := range []string{
		"10.03.2026 12:00:00", // generated, Almaty = UTC+5
		"Версия программы: v1.4.0",
		"Новые заказы (fetch_new): ✗ ОШИБКА — amoCRM не принял авторизацию: пройдите её заново",
		"последний запуск 10.03.2026 11:59:00, 12.0 с",
		"последний запуск без ошибок: 10.03.2026 10:00:00 (2 ч назад)",
		"Сверка (reconcile): ещё не запускалось",
		"Последняя созданная сделка: #40000007 (заказ 512345600), 10.03.2026 09:00:00 (3 ч назад)",
		"Заказы Kaspi загружены по: 10.03.2026 10:00:00",
		"готово:", "в карантине:",
		"512345678 — попыток: 10, в карантине (повтор раз в час при сверке), причина: 400: price not integer",
		"512345679 — попыток: 3, следующая попытка 10.03.2026 12:04, причина: amoCRM отклонил сделку: «pipeline_id: not valid»",
		"осталось дней: 89",
		"ДОСТУП ЗАБЛОКИРОВАН (403) до 10.03.2026 12:20:00",
	} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
	// Steps follow the state machine's order.
	if strings.Index(txt, "ждут обработки") > strings.Index(txt, "готово") {
		t.Errorf("steps out of order:\n%s", txt)
	}
}

func TestWrite_JSONOnRequest(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, sampleReport(), "json"); err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, buf.String())
	}
	for _, k := range []string{"tasks", "watermark", "orders_by_step", "quarantined", "amocrm_token", "amocrm_limit", "set_aside", "version", "last_deal", "deals_per_day"} {
		if _, ok := got[k]; !ok {
			t.Errorf("JSON lacks %q", k)
		}
	}
	if lim := got["amocrm_limit"].(map[string]any); lim["banned"] != true {
		t.Errorf("limit: %v", lim)
	}
	task := got["tasks"].([]any)[0].(map[string]any)
	if task["task"] != "fetch_new" || task["result"] != "error" || task["reason"] != "amoCRM не принял авторизацию: пройдите её заново" {
		t.Errorf("tasks[0]: %v", task)
	}
	sa := got["set_aside"].([]any)
	if len(sa) != 2 || sa[1].(map[string]any)["code"] != "512345679" || sa[1].(map[string]any)["next_try"] == nil {
		t.Errorf("set_aside: %v", sa)
	}
}

// A task line says «успешно» only when its last result is ok: a warn run
// (orders set aside) did its job but is not a success.
func TestText_NeverSaysSuccessUnlessOK(t *testing.T) {
	fin := now
	for _, c := range []struct {
		res, want string
		success   bool
	}{
		{"ok", "✓ успешно", true},
		{"warn", "⚠ ПРЕДУПРЕЖДЕНИЕ — заказ 1 отложен", false},
		{"error", "✗ ОШИБКА — заказ 1 отложен", false},
	} {
		run := RunInfo{Task: domain.TaskFetchNew, StartedAt: now.Add(-time.Minute), FinishedAt: &fin, Outcome: "ok", Result: c.res, Reason: "заказ 1 отложен"}
		if c.res == "ok" {
			run.Reason = ""
		}
		r := Report{GeneratedAt: now, Recent: []RunInfo{run}}
		r.Tasks = TaskStates(r.Recent)
		txt := Text(r)
		if !strings.Contains(txt, "Новые заказы (fetch_new): "+c.want) || strings.Contains(txt, "успешно") != c.success {
			t.Errorf("%s:\n%s", c.res, txt)
		}
	}
}
