package status

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// Format names accepted by Write.
const (
	FormatText = "text"
	FormatJSON = "json"
	FormatHTML = "html"
)

// Write renders the report: Russian plain text by default, JSON for
// format "json".
func Write(w io.Writer, r Report, format string) error {
	if strings.EqualFold(format, FormatHTML) {
		if err := HTML(w, r); err != nil {
			return fmt.Errorf("status: write html: %w", err)
		}
		return nil
	}
	if strings.EqualFold(format, FormatJSON) {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("status: write json: %w", err)
		}
		return nil
	}
	if _, err := io.WriteString(w, Text(r)); err != nil {
		return fmt.Errorf("status: write text: %w", err)
	}
	return nil
}

var taskTitles = map[string]string{
	domain.TaskFetchNew:  "Новые заказы (fetch_new)",
	domain.TaskReconcile: "Сверка (reconcile)",
}

var stepTitles = map[string]string{
	"new":            "ждут обработки",
	"lead_requested": "сделка не подтверждена amoCRM (проверяется при следующей попытке)",
	"lead_created":   "сделка создана, товары не привязаны",
	"linked":         "товары привязаны, нет примечания",
	"done":           "готово",
	"quarantined":    "в карантине",
}

// Text renders the report as Russian plain text, times in Asia/Almaty.
func Text(r Report) string {
	loc := Almaty()
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	p("Состояние интеграции Kaspi → amoCRM на %s (Алматы)\n", stamp(r.GeneratedAt, loc))
	if r.Version != "" {
		p("Версия программы: %s\n", r.Version)
	}

	p("\nЗапуски:\n")
	for _, ts := range r.Tasks {
		title := taskTitles[ts.Task]
		if title == "" {
			title = ts.Task
		}
		if ts.Last == nil {
			p("  %s: ещё не запускалось\n", title)
			continue
		}
		line := ResultRU(ts.Result)
		if ts.Reason != "" {
			line += " — " + oneLine(ts.Reason)
		}
		p("  %s: %s\n", title, line)
		p("    последний запуск %s", stamp(ts.Last.StartedAt, loc))
		if ts.Last.Outcome == "running" {
			p(", не завершён (идёт или прерван)")
		}
		p(", %s\n", durationRU(ts.Last.DurationSeconds))
		if ts.Last.Summary != "" {
			p("    итог: %s\n", ts.Last.Summary)
		}
		switch {
		case ts.LastOK == nil:
			p("    запусков без ошибок пока нет\n")
		case ts.LastOK != ts.Last:
			p("    последний запуск без ошибок: %s (%s назад)\n", stamp(ts.LastOK.StartedAt, loc), ago(r.GeneratedAt.Sub(ts.LastOK.StartedAt)))
		}
		if ts.FailuresInRow > 1 {
			p("    ошибок подряд: %d\n", ts.FailuresInRow)
		}
	}

	if len(r.KaspiStores) > 0 {
		p("\nМагазины Kaspi:\n")
		for _, ks := range r.KaspiStores {
			line := ResultRU(string(ks.Result))
			if ks.Reason != "" {
				line += " — " + oneLine(ks.Reason)
			}
			p("  %s: %s (список заказов %s)\n", StoreTitle(ks), line, stamp(ks.At, loc))
		}
	}

	p("\nПоследняя созданная сделка: ")
	if r.LastDeal == nil {
		p("ещё нет\n")
	} else {
		p("#%d (заказ %s), %s (%s назад)\n", r.LastDeal.LeadID, r.LastDeal.Code, stamp(r.LastDeal.CreatedAt, loc), ago(r.GeneratedAt.Sub(r.LastDeal.CreatedAt)))
	}
	p("Заказы Kaspi загружены по: ")
	if r.Watermark == nil {
		p("ещё не загружались\n")
	} else {
		p("%s (дата создания последнего загруженного заказа)\n", stamp(*r.Watermark, loc))
	}

	p("\nЗаказы по этапам:\n")
	if len(r.Steps) == 0 {
		p("  заказов пока нет\n")
	}
	for _, k := range sortedSteps(r.Steps) {
		title := stepTitles[k]
		if title == "" {
			title = k
		}
		p("  %-38s %d\n", title+":", r.Steps[k])
	}

	if len(r.SetAside) > 0 {
		p("\nОтложенные заказы (не попали в amoCRM из-за ошибки):\n")
		for _, sa := range r.SetAside {
			p("  %s — попыток: %d, %s, причина: %s\n", sa.Code, sa.Attempts, NextTryRU(sa, loc), oneLine(sa.Reason))
		}
	}

	p("\nТокен amoCRM: ")
	switch {
	case !r.Token.Present:
		p("нет — пройдите авторизацию (oauth_callback.cgi)\n")
	case r.Token.LongLived:
		p("долгосрочный токен")
		if r.Token.AccessExpiresAt != nil {
			p(", действует до %s", stamp(*r.Token.AccessExpiresAt, loc))
		}
		p("\n")
	default:
		if r.Token.AccessExpiresAt != nil {
			p("access-токен до %s", stamp(*r.Token.AccessExpiresAt, loc))
		}
		if r.Token.RefreshExpiresAt != nil {
			p("; refresh-токен примерно до %s (осталось дней: %d)", r.Token.RefreshExpiresAt.In(loc).Format("02.01.2006"), *r.Token.RefreshDaysLeft)
		}
		p("\n")
	}

	p("Лимиты amoCRM: ")
	switch {
	case r.Limit.Banned:
		p("ДОСТУП ЗАБЛОКИРОВАН (403) до %s — запросы приостановлены\n", stamp(*r.Limit.BannedUntil, loc))
	default:
		p("блокировки нет")
		if r.Limit.RequestsLastHour > 0 {
			p("; запросов за последний час: %d (amoCRM разрешает до 7 в секунду)", r.Limit.RequestsLastHour)
		}
		p("\n")
	}
	p("Поиск контактов: %s\n", r.ContactIndex.Text)
	if r.AmoMovedTo != "" {
		p("%s\n", AmoMovedText(r.AmoMovedTo))
	}

	if len(r.Problems) > 0 {
		p("\nНе удалось прочитать:\n")
		for _, pr := range r.Problems {
			p("  %s\n", oneLine(pr))
		}
	}
	return b.String()
}

func stamp(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("02.01.2006 15:04:05")
}

// ResultRU is a task's result in words: «успешно» only for ok.
func ResultRU(res string) string {
	mark, word := ResultSign(res)
	if mark == "" {
		return word
	}
	return mark + " " + word
}

// ResultSign is a result's mark and word, as the status report and the
// alerts show them: ✓ успешно, ⚠ ПРЕДУПРЕЖДЕНИЕ, ✗ ОШИБКА; no mark for
// a task that has not finished yet or an unknown result.
func ResultSign(res string) (mark, word string) {
	switch res {
	case "ok":
		return "✓", "успешно"
	case "warn":
		return "⚠", "ПРЕДУПРЕЖДЕНИЕ"
	case "error":
		return "✗", "ОШИБКА"
	case "":
		return "", "ещё не завершался"
	}
	return "", res
}

// NextTryRU says when a set-aside order is tried again.
func NextTryRU(sa SetAside, loc *time.Location) string {
	switch {
	case sa.Quarantined:
		return "в карантине (повтор раз в час при сверке)"
	case sa.NextTry == nil:
		return "повтор при следующем запуске"
	}
	return "следующая попытка " + sa.NextTry.In(loc).Format("02.01.2006 15:04")
}

func durationRU(sec float64) string {
	if sec < 60 {
		return fmt.Sprintf("%.1f с", sec)
	}
	return fmt.Sprintf("%d мин %d с", int(sec)/60, int(sec)%60)
}

func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "меньше минуты"
	case d < time.Hour:
		return fmt.Sprintf("%d мин", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d ч", int(d.Hours()))
	}
	return fmt.Sprintf("%d дн", int(d.Hours()/24))
}

// oneLine is a reason or summary as one line of the page.
func oneLine(s string) string { return domain.OneLine(s, 300) }

// AmoMovedText tells the owner that the amoCRM account moved to another
// address, which the sync already uses, and what to change in .env.
func AmoMovedText(base string) string {
	return "amoCRM: аккаунт переехал на новый адрес " + base +
		"; программа уже работает с ним. Обновите AMO_SUBDOMAIN в .env на этот адрес."
}

// StoreTitle names a Kaspi store on the status page: «name» (№ n).
func StoreTitle(ks KaspiStore) string {
	if ks.Name != "" {
		return fmt.Sprintf("«%s» (№ %d)", ks.Name, ks.No)
	}
	return fmt.Sprintf("№ %d", ks.No)
}
