package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"kaspi-amocrm/pkg/app/apptest"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/orders"
)

const botToken = "123456:telegram-bot-token-abcdef"

// fakeTelegram is the Bot API's sendMessage: it keeps every message sent
// with the right bot token and answers like Telegram.
type fakeTelegram struct {
	mu   sync.Mutex
	msgs []string
}

func (f *fakeTelegram) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/bot"+botToken+"/sendMessage" {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"ok":false,"error_code":404,"description":"Not Found"}`))
		return
	}
	var m struct {
		ChatID string `json:"chat_id"`
		Text   string `json:"text"`
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.ChatID != "42" || m.Text == "" {
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`))
		return
	}
	f.mu.Lock()
	f.msgs = append(f.msgs, m.Text)
	f.mu.Unlock()
	w.Write([]byte(`{"ok":true,"result":{"message_id":1}}`))
}

func (f *fakeTelegram) sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.msgs...)
}

func alertSite(t *testing.T, tgURL string) *apptest.Site {
	s := apptest.New(t, true,
		"ALERT_TELEGRAM_BOT_TOKEN="+botToken,
		"ALERT_TELEGRAM_CHAT_ID=42",
		"ALERT_TELEGRAM_API_BASE="+tgURL)
	s.Migrate()
	s.AddOrders(1)
	return s
}

// An account that stays unpaid (amoCRM 402) makes every run fail: the
// first failure sends one Telegram message (the result turned to error),
// the third in a row the hourly reminder, and the next run within the
// hour sends none — whichever way the run was started.
func TestRun_FailingRunsAlertOnceAnHour(t *testing.T) {
	tg := &fakeTelegram{}
	ts := httptest.NewServer(tg)
	defer ts.Close()
	s := alertSite(t, ts.URL)
	s.Amo.SetPaymentRequired(true)

	var out, errb bytes.Buffer
	for i, task := range []string{"fetch_new", "reconcile"} {
		if code := TaskMain(context.Background(), task, nil, opts(s), &out, &errb); code != 1 {
			t.Fatalf("run %d: exit %d, want 1 (err %q)", i+1, code, errb.String())
		}
		msgs := tg.sent()
		if len(msgs) != i+1 || !strings.Contains(msgs[i], task+") — ОШИБКА: amoCRM: аккаунт не оплачен") {
			t.Fatalf("after %d failed runs: messages %q, want one change to error per task", i+1, msgs)
		}
	}
	// The third failure comes from cron.cgi: 200 with the ERROR word.
	w := s.Do(CronHandler(opts(s)), "GET", "/?task=new&token="+secret, nil)
	if w.Code != http.StatusOK || w.Body.String() != "ERROR new: amoCRM: аккаунт не оплачен (HTTP 402) — оплатите аккаунт amoCRM.\n" {
		t.Fatalf("cron.cgi on an unpaid account: %d %q", w.Code, w.Body.String())
	}
	msgs := tg.sent()
	if len(msgs) != 3 || !strings.Contains(msgs[2], "3 запуска подряд") {
		t.Fatalf("after 3 failed runs: messages %q, want the reminder about 3 failures", msgs)
	}
	// A fourth failure, from a scheduler tick, within the hour: no repeat.
	if code := SchedulerMain(context.Background(), []string{"--once"}, opts(s), &out, &errb); code != 1 {
		t.Fatalf("scheduler --once: exit %d", code)
	}
	if n := len(tg.sent()); n != 3 {
		t.Fatalf("a run within the hour sent again: %d messages", n)
	}
	if strings.Contains(out.String()+errb.String(), botToken) {
		t.Fatal("the bot token was printed")
	}
	s.AssertNoSecretInLogs()
}

// Telegram refusing the message is logged; the run's own result stands.
func TestRun_AlertSendFailureDoesNotFailTheRun(t *testing.T) {
	tg := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"ok":false,"error_code":401,"description":"Unauthorized"}`))
	}))
	defer tg.Close()
	s := alertSite(t, tg.URL)
	// A quarantined order calls for an alert after a successful run too.
	ctx := context.Background()
	db := s.DB()
	now := time.Now()
	old := orders.Generate(orders.Spec{N: 1, Seed: 99, From: now.Add(-3 * time.Hour), To: now.Add(-2 * time.Hour),
		States: []string{domain.StateNew}})
	if _, err := db.Ingest(ctx, old, now); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAside(ctx, old[0].Code, "amoCRM refused the lead", now.Add(time.Hour), true, now); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := TaskMain(ctx, "fetch_new", nil, opts(s), &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "создано сделок 1") {
		t.Fatalf("exit %d out %q err %q", code, out.String(), errb.String())
	}
	if !strings.Contains(errb.String(), "alert not sent") || strings.Contains(errb.String(), botToken) {
		t.Fatalf("the failed send is not logged, or logged with the token: %q", errb.String())
	}
}

// Without the Telegram keys no alert is attempted.
func TestRun_NoTelegramKeysNoAlert(t *testing.T) {
	tg := &fakeTelegram{}
	ts := httptest.NewServer(tg)
	defer ts.Close()
	s := apptest.New(t, true, "ALERT_TELEGRAM_API_BASE="+ts.URL)
	s.Migrate()
	s.Amo.SetPaymentRequired(true)
	var out, errb bytes.Buffer
	for range 4 {
		TaskMain(context.Background(), "fetch_new", nil, opts(s), &out, &errb)
	}
	if n := len(tg.sent()); n != 0 {
		t.Fatalf("%d messages without the keys", n)
	}
}
