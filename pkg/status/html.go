package status

import (
	"fmt"
	"html/template"
	"io"
	"time"
)

// HTML renders the report as one Russian page for a browser: the state of
// each task in colour, the last runs, the orders set aside, amoCRM's
// request use and ban, and the deals per day of the last 14 days as an
// inline SVG bar chart. No script, no external asset; html/template
// escapes every value.
func HTML(w io.Writer, r Report) error {
	return pageTmpl.Execute(w, newPage(r))
}

type page struct {
	R        Report
	At       string
	Tasks    []pageTask
	Runs     []pageRun
	SetAside []pageSetAside
	Steps    []pageStep
	Stores   []pageStore
	Chart    chart
	LastDeal string
	Loaded   string
	Token    string
	BanUntil string
}

type pageTask struct {
	Title, Class, Word, Reason, Last, LastOK, Summary string
}

type pageStore struct {
	Title, Class, Word, Reason, At string
}

type pageRun struct {
	At, Task, Class, Word, Duration, Summary string
}

type pageSetAside struct {
	Code, Next, Reason string
	Attempts           int
	Quarantined        bool
}

type pageStep struct {
	Title string
	N     int
}

type chart struct {
	Bars  []bar
	Max   int
	Total int
}

type bar struct {
	X, Y, H, LabelX int
	N               int
	Day, Label      string
}

func resultClass(res string) (class, word string) {
	switch res {
	case "ok":
		return "ok", "успешно"
	case "warn":
		return "warn", "предупреждение"
	case "error":
		return "err", "ошибка"
	}
	return "none", "нет данных"
}

func newPage(r Report) page {
	loc := Almaty()
	p := page{R: r, At: stamp(r.GeneratedAt, loc)}
	for _, ts := range r.Tasks {
		title := taskTitles[ts.Task]
		if title == "" {
			title = ts.Task
		}
		pt := pageTask{Title: title}
		pt.Class, pt.Word = resultClass(ts.Result)
		if ts.Last == nil {
			pt.Word = "ещё не запускалось"
		} else {
			pt.Reason = oneLine(ts.Reason)
			pt.Last = stamp(ts.Last.StartedAt, loc) + ", " + durationRU(ts.Last.DurationSeconds)
			if ts.Last.Outcome == "running" {
				pt.Last += ", идёт или прерван"
			}
			pt.Summary = ts.Last.Summary
			if ts.LastOK != nil && ts.LastOK != ts.Last {
				pt.LastOK = stamp(ts.LastOK.StartedAt, loc) + " (" + ago(r.GeneratedAt.Sub(ts.LastOK.StartedAt)) + " назад)"
			}
		}
		p.Tasks = append(p.Tasks, pt)
	}
	for i, run := range r.Recent {
		if i == 10 {
			break
		}
		title := taskTitles[run.Task]
		if title == "" {
			title = run.Task
		}
		pr := pageRun{At: run.StartedAt.In(loc).Format("02.01 15:04:05"), Task: title, Duration: durationRU(run.DurationSeconds)}
		pr.Class, pr.Word = resultClass(run.Result)
		if run.Outcome == "running" {
			pr.Class, pr.Word = "none", "идёт или прерван"
		}
		pr.Summary = oneLine(run.Reason)
		if pr.Summary == "" {
			pr.Summary = oneLine(run.Summary)
		}
		p.Runs = append(p.Runs, pr)
	}
	for _, ks := range r.KaspiStores {
		ps := pageStore{Title: StoreTitle(ks), Reason: oneLine(ks.Reason), At: stamp(ks.At, loc)}
		ps.Class, ps.Word = resultClass(string(ks.Result))
		p.Stores = append(p.Stores, ps)
	}
	for _, sa := range r.SetAside {
		p.SetAside = append(p.SetAside, pageSetAside{Code: sa.Code, Attempts: sa.Attempts, Next: NextTryRU(sa, loc),
			Reason: oneLine(sa.Reason), Quarantined: sa.Quarantined})
	}
	for _, k := range sortedSteps(r.Steps) {
		title := stepTitles[k]
		if title == "" {
			title = k
		}
		p.Steps = append(p.Steps, pageStep{Title: title, N: r.Steps[k]})
	}
	p.Chart = newChart(r.DealsPerDay)
	if r.LastDeal != nil {
		p.LastDeal = fmt.Sprintf("#%d (заказ %s), %s — %s назад", r.LastDeal.LeadID, r.LastDeal.Code,
			stamp(r.LastDeal.CreatedAt, loc), ago(r.GeneratedAt.Sub(r.LastDeal.CreatedAt)))
	}
	if r.Watermark != nil {
		p.Loaded = stamp(*r.Watermark, loc)
	}
	if r.Limit.BannedUntil != nil {
		p.BanUntil = stamp(*r.Limit.BannedUntil, loc)
	}
	switch {
	case !r.Token.Present:
		p.Token = "нет — пройдите авторизацию (oauth_callback.cgi?start=1)"
	case r.Token.LongLived:
		p.Token = "долгосрочный токен"
	case r.Token.RefreshDaysLeft != nil:
		p.Token = fmt.Sprintf("действует; обновление возможно ещё примерно %d дн.", *r.Token.RefreshDaysLeft)
	default:
		p.Token = "действует"
	}
	return p
}

// Chart geometry: 14 bars in a 560×150 box, labels under the bars.
const (
	chartW, chartH, barTop, barBottom = 560, 150, 16, 120
)

func newChart(days []DayCount) chart {
	c := chart{}
	for _, d := range days {
		c.Max = max(c.Max, d.Deals)
		c.Total += d.Deals
	}
	slot := chartW / max(len(days), 1)
	for i, d := range days {
		h := 0
		if c.Max > 0 {
			h = d.Deals * (barBottom - barTop) / c.Max
		}
		if d.Deals > 0 && h < 2 {
			h = 2
		}
		label := d.Day
		if t, err := time.Parse("2006-01-02", d.Day); err == nil {
			label = t.Format("02.01")
		}
		c.Bars = append(c.Bars, bar{X: i*slot + 4, Y: barBottom - h, H: h, LabelX: i*slot + slot/2, N: d.Deals, Day: d.Day, Label: label})
	}
	return c
}

var pageTmpl = template.Must(template.New("status").Funcs(template.FuncMap{
	"barw":     func() int { return chartW/14 - 8 },
	"amoMoved": AmoMovedText,
}).Parse(`<!doctype html>
<html lang="ru">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>Kaspi → amoCRM: состояние</title>
<style>
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}
main{max-width:1100px;margin:0 auto;padding:16px}
h1{font-size:20px;margin:0 0 4px}h2{font-size:15px;margin:0 0 8px}
.sub{color:#5b6474;margin-bottom:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:12px}
.card{background:#fff;border-radius:8px;padding:12px 14px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
.task{border-left:6px solid #9aa3b2}
.task.ok{border-color:#1f9d55}.task.warn{border-color:#d98c00}.task.err{border-color:#d12f2f}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;color:#fff;background:#9aa3b2}
.badge.ok{background:#1f9d55}.badge.warn{background:#d98c00}.badge.err{background:#d12f2f}
.reason{margin:6px 0;font-weight:500}.muted{color:#5b6474;font-size:12px}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #e6e8ec;vertical-align:top}
th{color:#5b6474;font-weight:600}td.n{text-align:right}
.ban{color:#d12f2f;font-weight:600}
svg text{font:10px system-ui,Arial,sans-serif;fill:#5b6474}
</style>
</head>
<body><main>
<h1>Состояние интеграции Kaspi → amoCRM</h1>
<div class="sub">на {{.At}} (время Алматы){{if .R.Version}} · версия {{.R.Version}}{{end}}</div>
<div class="grid">
{{range .Tasks}}<section class="card task {{.Class}}">
<h2>{{.Title}} <span class="badge {{.Class}}">{{.Word}}</span></h2>
{{if .Reason}}<div class="reason">{{.Reason}}</div>{{end}}
{{if .Last}}<div class="muted">последний запуск: {{.Last}}</div>{{end}}
{{if .LastOK}}<div class="muted">последний запуск без ошибок: {{.LastOK}}</div>{{end}}
{{if .Summary}}<div class="muted">{{.Summary}}</div>{{end}}
</section>
{{end}}<section class="card">
<h2>Сделки по дням за 14 дней (всего {{.Chart.Total}})</h2>
<svg viewBox="0 0 560 150" width="100%" role="img" aria-label="Сделки по дням за 14 дней">
{{range .Chart.Bars}}<rect x="{{.X}}" y="{{.Y}}" width="{{barw}}" height="{{.H}}" fill="#3b6fd8"><title>{{.Day}}: {{.N}}</title></rect>
{{if .N}}<text x="{{.LabelX}}" y="{{.Y}}" dy="-3" text-anchor="middle">{{.N}}</text>{{end}}<text x="{{.LabelX}}" y="136" text-anchor="middle">{{.Label}}</text>
{{end}}<line x1="0" y1="120" x2="560" y2="120" stroke="#c7ccd5"/>
</svg>
<div class="muted">Последняя сделка: {{if .LastDeal}}{{.LastDeal}}{{else}}ещё нет{{end}}</div>
</section>
<section class="card">
<h2>amoCRM и Kaspi</h2>
<div>Лимит запросов amoCRM: {{if .R.Limit.Banned}}<span class="ban">доступ заблокирован{{if .BanUntil}} до {{.BanUntil}}{{end}} — запросы приостановлены</span>{{else}}блокировки нет{{end}}</div>
<div>Запросов к amoCRM за последний час: {{.R.Limit.RequestsLastHour}} (amoCRM разрешает до 7 в секунду)</div>
<div>Токен amoCRM: {{.Token}}</div>
{{if .R.AmoMovedTo}}<div class="ban">{{amoMoved .R.AmoMovedTo}}</div>{{end}}
<div>Заказы Kaspi загружены по: {{if .Loaded}}{{.Loaded}}{{else}}ещё не загружались{{end}}</div>
{{if .Stores}}<table><tr><th>Магазин Kaspi</th><th>Состояние</th><th>Список заказов</th></tr>
{{range .Stores}}<tr><td>{{.Title}}</td><td><span class="{{.Class}}">{{.Word}}</span>{{if .Reason}} — {{.Reason}}{{end}}</td><td>{{.At}}</td></tr>
{{end}}</table>{{end}}
{{if .Steps}}<table>{{range .Steps}}<tr><td>{{.Title}}</td><td class="n">{{.N}}</td></tr>{{end}}</table>{{end}}
</section>
</div>
<section class="card" style="margin-top:12px">
<h2>Отложенные заказы ({{len .SetAside}})</h2>
{{if .SetAside}}<table><tr><th>Заказ</th><th>Попыток</th><th>Когда снова</th><th>Причина</th></tr>
{{range .SetAside}}<tr><td>{{.Code}}</td><td class="n">{{.Attempts}}</td><td>{{.Next}}</td><td>{{.Reason}}</td></tr>
{{end}}</table>{{else}}<div class="muted">нет — все заказы проходят</div>{{end}}
</section>
<section class="card" style="margin-top:12px">
<h2>Последние запуски</h2>
{{if .Runs}}<table><tr><th>Начало</th><th>Задача</th><th>Итог</th><th>Длительность</th><th>Подробности</th></tr>
{{range .Runs}}<tr><td>{{.At}}</td><td>{{.Task}}</td><td><span class="badge {{.Class}}">{{.Word}}</span></td><td>{{.Duration}}</td><td>{{.Summary}}</td></tr>
{{end}}</table>{{else}}<div class="muted">запусков ещё не было</div>{{end}}
</section>
{{if .R.Problems}}<section class="card" style="margin-top:12px"><h2>Не удалось прочитать</h2>{{range .R.Problems}}<div>{{.}}</div>{{end}}</section>{{end}}
</main></body>
</html>
`))
