package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

type noMigrate struct{ ran bool }

func (m *noMigrate) Migrate(context.Context) (uint, string, error) {
	m.ran = true
	return 1, "sqlite", nil
}

// A CRON_SECRET shorter than 16 characters refuses every web endpoint
// with 403 and a Russian line on how to make one, even to a caller who
// presents it; a shell run still works.
func TestShortSecret_RefusedOnTheWeb(t *testing.T) {
	const short = "123456789012345" // 15
	tk := &tasks{}
	mg := &noMigrate{}
	for name, h := range map[string]http.Handler{
		"cron":    &Cron{Secret: short, Tasks: tk},
		"migrate": &Migrate{Secret: short, Migrator: mg},
		"start":   &OAuth{Secret: short, ClientID: "id", BaseURL: "https://shop.amocrm.ru"},
	} {
		w := do(h, "GET", "/?task=new&start=1&token="+short, nil)
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "короче 16 символов") || strings.Contains(w.Body.String(), short) {
			t.Errorf("%s: %d %q", name, w.Code, w.Body.String())
		}
	}
	w := do(&Mapping{Secret: short}, "GET", "/?action=get_stats", nil, "X-API-Secret", short)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "короче 16 символов") {
		t.Errorf("mapping: %d %q", w.Code, w.Body.String())
	}
	if len(tk.ran) != 0 || mg.ran {
		t.Fatal("something ran")
	}
	var out, errOut strings.Builder
	if code := ServeCLI(context.Background(), &Cron{Secret: short, Tasks: tk}, []string{"task=new"}, nil, &out, &errOut); code != 0 || len(tk.ran) != 1 {
		t.Fatalf("shell run: exit %d %q", code, errOut.String())
	}
}
