package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/status"
)

// SentKey is the settings key holding when each alert was last sent
// (JSON object: alert key → unix seconds).
const SentKey = "alert_last_sent"

// Alert kinds (the Key of an Alert starts with one of these).
const (
	KindFailing     = "failing"
	KindBan         = "ban"
	KindQuarantined = "quarantined"
	KindRefresh     = "refresh_token"
	KindNoSuccess   = "no_success"
	KindAmoMoved    = "amocrm_moved"
)

// Alert is one message to send. Key identifies "the same alert" for the
// repeat rule; Repeat is the least time between two sendings of it.
type Alert struct {
	Key    string
	Text   string
	Repeat time.Duration
}

// Policy holds the thresholds. Zero values mean the defaults.
type Policy struct {
	FailuresInRow int           // failed runs in a row that alert (3)
	NoSuccessFor  time.Duration // no successful run for this long alerts (30 min)
	RefreshWarn   time.Duration // refresh token closer than this to expiry alerts (14 days)
	Repeat        time.Duration // least time between repeats of an alert (1 h)
	// SlowRepeat is the repeat interval of alerts about lasting conditions
	// that need no urgent action (a quarantined order, the refresh token
	// expiring in days): a daily reminder, not an hourly one (24 h).
	SlowRepeat time.Duration
}

func (p Policy) withDefaults() Policy {
	if p.FailuresInRow <= 0 {
		p.FailuresInRow = 3
	}
	if p.NoSuccessFor <= 0 {
		p.NoSuccessFor = 30 * time.Minute
	}
	if p.RefreshWarn <= 0 {
		p.RefreshWarn = 14 * 24 * time.Hour
	}
	if p.Repeat < time.Hour {
		p.Repeat = time.Hour
	}
	if p.SlowRepeat < p.Repeat {
		p.SlowRepeat = 24 * time.Hour
	}
	return p
}

// Decide lists the alerts a report calls for, whether or not they were sent
// recently (Notifier applies the repeat rule).
func Decide(r status.Report, p Policy) []Alert {
	p = p.withDefaults()
	loc := status.Almaty()
	var out []Alert

	// Runs keep failing: the newest finished runs (any task) all failed.
	var failed []status.RunInfo
	for _, run := range r.Recent {
		if run.Outcome == "running" {
			continue
		}
		if run.Outcome != "failed" {
			break
		}
		failed = append(failed, run)
	}
	if len(failed) >= p.FailuresInRow {
		var b strings.Builder
		fmt.Fprintf(&b, "Kaspi → amoCRM: %d запуска подряд завершились ошибкой.", len(failed))
		for i, run := range failed {
			if i == 3 {
				break
			}
			fmt.Fprintf(&b, "\n• %s %s: %s", run.StartedAt.In(loc).Format("02.01 15:04"), run.Task, short(run.Summary))
		}
		b.WriteString("\nПроверьте настройки: запустите bin/doctor или откройте cron.cgi?task=status.")
		out = append(out, Alert{Key: KindFailing, Text: b.String(), Repeat: p.Repeat})
	}

	if r.Limit.Banned {
		text := "Kaspi → amoCRM: amoCRM заблокировал доступ (403) из-за превышения лимита запросов. Запросы приостановлены"
		if r.Limit.BannedUntil != nil {
			text += " до " + r.Limit.BannedUntil.In(loc).Format("02.01.2006 15:04")
		}
		text += ". Если блокировка не снимается, напишите в поддержку amoCRM (чат в аккаунте): IP сервера, поддомен и ID аккаунта."
		out = append(out, Alert{Key: KindBan, Text: text, Repeat: p.Repeat})
	}

	for _, q := range r.Quarantined {
		out = append(out, Alert{
			Key: KindQuarantined + ":" + q.Code,
			Text: fmt.Sprintf("Kaspi → amoCRM: заказ %s отложен в карантин после %d попыток. Последняя ошибка: %s",
				q.Code, q.Attempts, short(q.LastError)),
			Repeat: p.SlowRepeat,
		})
	}

	if r.Token.RefreshExpiresAt != nil && r.Token.RefreshExpiresAt.Sub(r.GeneratedAt) < p.RefreshWarn {
		days := 0
		if r.Token.RefreshDaysLeft != nil {
			days = *r.Token.RefreshDaysLeft
		}
		out = append(out, Alert{
			Key: KindRefresh,
			Text: fmt.Sprintf("Kaspi → amoCRM: refresh-токен amoCRM истекает примерно %s (дней: %d). "+
				"Если интеграция не обновит его сама, авторизуйте её заново (oauth_callback.cgi?start=1).",
				r.Token.RefreshExpiresAt.In(loc).Format("02.01.2006"), days),
			Repeat: p.SlowRepeat,
		})
	}

	if r.AmoMovedTo != "" {
		out = append(out, Alert{Key: KindAmoMoved, Text: "Kaspi → amoCRM: " + status.AmoMovedText(r.AmoMovedTo), Repeat: p.SlowRepeat})
	}

	if a, ok := noSuccess(r, p); ok {
		out = append(out, a)
	}
	return out
}

// noSuccess: runs exist, but none succeeded within NoSuccessFor. An install
// that never ran is doctor's business, not an alert.
func noSuccess(r status.Report, p Policy) (Alert, bool) {
	if len(r.Recent) == 0 {
		return Alert{}, false
	}
	var lastOK time.Time
	for _, ts := range r.Tasks {
		if ts.LastOK != nil && ts.LastOK.StartedAt.After(lastOK) {
			lastOK = ts.LastOK.StartedAt
		}
	}
	since := lastOK
	if since.IsZero() {
		// Never succeeded: count from the oldest run we know of.
		since = r.Recent[len(r.Recent)-1].StartedAt
	}
	if r.GeneratedAt.Sub(since) < p.NoSuccessFor {
		return Alert{}, false
	}
	text := fmt.Sprintf("Kaspi → amoCRM: нет ни одного успешного запуска за %d мин.", int(r.GeneratedAt.Sub(since).Minutes()))
	if !lastOK.IsZero() {
		text += " Последний успешный: " + lastOK.In(status.Almaty()).Format("02.01.2006 15:04") + "."
	}
	text += " Проверьте cron и запустите bin/doctor."
	return Alert{Key: KindNoSuccess, Text: text, Repeat: p.Repeat}, true
}

// short is a summary or error as one line of a message; "—" when empty.
func short(s string) string {
	if s = domain.OneLine(s, 200); s == "" {
		return "—"
	}
	return s
}

// Notifier sends the alerts a report calls for, each at most once per its
// repeat interval.
type Notifier struct {
	tg       *Telegram
	settings domain.Settings
	log      *slog.Logger
	policy   Policy
}

// New returns a notifier. tg may be nil (alerts not configured): Check
// then does nothing.
func New(tg *Telegram, settings domain.Settings, log *slog.Logger, p Policy) *Notifier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notifier{tg: tg, settings: settings, log: log, policy: p.withDefaults()}
}

// Enabled reports whether alerts are configured.
func (n *Notifier) Enabled() bool { return n != nil && n.tg != nil }

// Check decides the alerts for r and sends those not sent within their
// repeat interval, remembering each in settings. It returns the keys sent.
// A Telegram failure is returned after the other alerts were tried; the
// failed alert is tried again next time.
func (n *Notifier) Check(ctx context.Context, r status.Report) ([]string, error) {
	if !n.Enabled() {
		return nil, nil
	}
	keys, firstErr := n.checkResults(ctx, r)
	alerts := Decide(r, n.policy)
	if len(alerts) == 0 {
		return keys, firstErr
	}
	sent, err := n.loadSent(ctx)
	if err != nil {
		return keys, err
	}
	now := r.GeneratedAt
	for _, a := range alerts {
		if last, ok := sent[a.Key]; ok && now.Sub(time.Unix(last, 0)) < a.Repeat {
			continue
		}
		if err := n.tg.Send(ctx, a.Text); err != nil {
			n.log.Warn("alert not sent", "alert", a.Key, "err", err)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		n.log.Info("alert sent", "alert", a.Key)
		sent[a.Key] = now.Unix()
		keys = append(keys, a.Key)
		// Remember right away: a crash after this point must not resend.
		if err := n.saveSent(ctx, sent, now); err != nil {
			return keys, err
		}
	}
	return keys, firstErr
}

// CheckSource collects the status report from src and checks it.
func (n *Notifier) CheckSource(ctx context.Context, src status.Source, now time.Time) ([]string, error) {
	if !n.Enabled() {
		return nil, nil
	}
	r, err := status.Collect(ctx, src, status.Options{Now: now})
	if err != nil {
		return nil, fmt.Errorf("alert: %w", err)
	}
	return n.Check(ctx, r)
}

func (n *Notifier) loadSent(ctx context.Context) (map[string]int64, error) {
	sent := map[string]int64{}
	v, ok, err := n.settings.Setting(ctx, SentKey)
	if err != nil {
		return nil, fmt.Errorf("alert: read %s: %w", SentKey, err)
	}
	if ok && v != "" {
		// A damaged value only costs one repeated alert.
		_ = json.Unmarshal([]byte(v), &sent)
	}
	return sent, nil
}

func (n *Notifier) saveSent(ctx context.Context, sent map[string]int64, now time.Time) error {
	// Forget entries older than any repeat interval so the value stays small.
	cutoff := now.Add(-2 * n.policy.SlowRepeat).Unix()
	keys := make([]string, 0, len(sent))
	for k, t := range sent {
		if t < cutoff {
			delete(sent, k)
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	raw, err := json.Marshal(sent)
	if err != nil {
		return fmt.Errorf("alert: encode %s: %w", SentKey, err)
	}
	if err := n.settings.SetSetting(ctx, SentKey, string(raw)); err != nil {
		return fmt.Errorf("alert: save %s: %w", SentKey, err)
	}
	return nil
}
