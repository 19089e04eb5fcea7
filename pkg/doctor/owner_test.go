package doctor

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// The example Kaspi token is never sent to Kaspi: the check is skipped
// and the example value is the ✗ to fix.
func TestRun_ExampleKaspiTokenIsNotSent(t *testing.T) {
	in := newInstall(t)
	in.set("KASPI_API_TOKEN", "your_kaspi_token") // the install's .env.example value
	before := len(in.kaspi.Requests())
	r := in.run()
	if n := len(in.kaspi.Requests()) - before; n != 0 {
		t.Fatalf("doctor sent %d request(s) to Kaspi with the example token", n)
	}
	c, _ := r.Find("kaspi.token")
	if c.Mark != Skip || !strings.Contains(c.Detail, "из примера") {
		t.Fatalf("kaspi.token: %+v", c)
	}
	expectFail(t, r, "env.examples")
}

// Under an ✗ of .env (an example value left in), the keys line is no ✓.
func TestRun_NoCheckMarkForKeysUnderAnEnvFailure(t *testing.T) {
	in := newInstall(t)
	in.set("CRON_SECRET", "change_me_to_a_long_random_string")
	r := in.run()
	out := text(r)
	if strings.Contains(out, "✓ Настройки в .env") || strings.Contains(out, "все нужные ключи заданы") {
		t.Fatalf("a ✓ for the keys under the ✗:\n%s", out)
	}
	if c, _ := r.Find("env.keys"); c.Mark != Skip || !strings.Contains(c.Detail, "исправьте отмеченное ✗ выше") {
		t.Fatalf("env.keys: %+v", c)
	}
}

// The alert check is a line of the checklist, whatever its outcome.
func TestRun_AlertCheckIsInTheChecklist(t *testing.T) {
	in := newInstall(t)
	for _, c := range []struct {
		sent       int
		configured bool
		err        error
		mark       Mark
		detail     string
	}{
		{0, false, nil, OK, "не настроены"},
		{2, true, nil, OK, "отправлено сообщений: 2"},
		{0, true, errors.New("telegram: HTTP 401"), Warn, "проверка не удалась: telegram: HTTP 401"},
	} {
		opt := in.options()
		opt.Alerts = func(context.Context) (int, bool, error) { return c.sent, c.configured, c.err }
		r := Run(context.Background(), opt)
		got, ok := r.Find("alerts")
		if !ok || got.Mark != c.mark || !strings.Contains(got.Detail, c.detail) {
			t.Errorf("alerts line %+v (%v), want %v %q", got, ok, c.mark, c.detail)
		}
		if !strings.Contains(text(r), "Оповещения в Telegram") {
			t.Errorf("the text checklist lacks the alerts line")
		}
	}
}
