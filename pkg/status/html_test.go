package status

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// The page is Russian, colours each task by its result, lists the set-aside
// orders and the last runs, shows the ban, draws 14 bars, and escapes
// every value: an order code or a reason never becomes markup.
func TestHTML_OnePageEscapedWithChart(t *testing.T) {
	r := sampleReport()
	r.SetAside[1].Reason = `<script>alert(1)</script> "pipeline_id"`
	r.SetAside[1].Code = `<b>512345679</b>`
	r.DealsPerDay = dealDays(now)
	r.DealsPerDay[13].Deals, r.DealsPerDay[10].Deals = 4, 2
	var b bytes.Buffer
	if err := Write(&b, r, FormatHTML); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{
		`<html lang="ru">`,
		"Состояние интеграции Kaspi → amoCRM",
		"версия v1.4.0",
		`class="card task err"`, `<span class="badge err">ошибка</span>`,
		"amoCRM не принял авторизацию: пройдите её заново",
		"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;512345679&lt;/b&gt;",
		"доступ заблокирован до 10.03.2026 12:20:00",
		"Сделки по дням за 14 дней (всего 6)",
		"Последняя сделка: #40000007 (заказ 512345600)",
		"Отложенные заказы (2)", "в карантине",
		"Последние запуски",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if n := strings.Count(page, "<rect "); n != 14 {
		t.Errorf("%d bars, want 14", n)
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "<b>") {
		t.Error("a value became markup")
	}
	if regexp.MustCompile(`(?i)(src|href)\s*=|@import|url\(`).MatchString(page) {
		t.Error("the page loads an external asset")
	}
	// The tallest bar is the day with the most deals.
	if !strings.Contains(page, `height="104" fill="#3b6fd8"><title>`+r.DealsPerDay[13].Day+`: 4</title>`) {
		t.Errorf("bar of today (4 deals) is not full height:\n%s", page)
	}
}

// A warn task is amber and never says «успешно».
func TestHTML_WarnIsNotSuccess(t *testing.T) {
	fin := now
	run := RunInfo{Task: domain.TaskFetchNew, StartedAt: now.Add(-time.Minute), FinishedAt: &fin, Outcome: "ok", Result: "warn", Reason: "заказ 1 отложен"}
	r := Report{GeneratedAt: now, Recent: []RunInfo{run}, DealsPerDay: dealDays(now)}
	r.Tasks = TaskStates(r.Recent)
	var b bytes.Buffer
	if err := HTML(&b, r); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `class="card task warn"`) || strings.Contains(b.String(), "успешно") {
		t.Fatalf("%s", b.String())
	}
}
