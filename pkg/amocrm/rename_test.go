package amocrm_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

// hostMap sends requests for named hosts to test servers (plain HTTP).
type hostMap map[string]string

func (m hostMap) RoundTrip(r *http.Request) (*http.Response, error) {
	if to, ok := m[r.URL.Host]; ok {
		u, _ := url.Parse(to)
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host = u.Scheme, u.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}

// renamedAccount sets up an account renamed from oldshop to newshop: the
// old address answers 404 to everything, the fake serves the new one and
// the api_domain host.
func renamedAccount(t *testing.T, h *harness) (amocrm.Config, *int) {
	oldHits := 0
	old := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		oldHits++
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"title":"Not Found","status":404}`))
	}))
	t.Cleanup(old.Close)
	h.fake.Rename("newshop", "newshop.amocrm.ru")
	cfg := h.config()
	cfg.BaseURL = "https://oldshop.amocrm.ru"
	cfg.HTTPClient = &http.Client{Timeout: 5 * time.Second, Transport: hostMap{
		"oldshop.amocrm.ru": old.URL, "newshop.amocrm.ru": h.srv.URL, "api-b.amocrm.ru": h.srv.URL,
	}}
	return cfg, &oldHits
}

func TestRefresh_FollowsARenamedSubdomain(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	expiringSoon(t, h)
	cfg, oldHits := renamedAccount(t, h)
	if _, err := h.client(cfg).Account(ctx); err != nil {
		t.Fatalf("after a rename: %v\n%s", err, h.logs.String())
	}
	if n := h.requests(http.MethodGet, "/oauth2/account/current/subdomain"); n != 1 {
		t.Fatalf("%d subdomain lookups", n)
	}
	if v, _, _ := h.db.Setting(ctx, amocrm.KeyBaseURL); v != "https://newshop.amocrm.ru" {
		t.Fatalf("stored base %q", v)
	}
	// The next start uses the stored address, not AMO_SUBDOMAIN.
	before := *oldHits
	if _, err := h.client(cfg).Account(ctx); err != nil {
		t.Fatal(err)
	}
	if *oldHits != before {
		t.Fatal("the old address was asked again")
	}
	if !containsLog(h, "update AMO_SUBDOMAIN") {
		t.Fatal("the owner is not told to update .env")
	}
	// The owner updates AMO_SUBDOMAIN: the stored address is cleared, so
	// the status page and the alert stop asking for it.
	cfg.BaseURL = "https://newshop.amocrm.ru"
	if _, err := h.client(cfg).Account(ctx); err != nil {
		t.Fatal(err)
	}
	if v, _, _ := h.db.Setting(ctx, amocrm.KeyBaseURL); v != "" {
		t.Fatalf("stored base %q after .env names it", v)
	}
}

// The lookup names another account: its domain is not followed.
func TestRefresh_RenameOfAnotherAccountIsNotFollowed(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	expiringSoon(t, h)
	if err := h.db.SetSetting(ctx, amocrm.KeyAccountID, "999"); err != nil {
		t.Fatal(err)
	}
	cfg, _ := renamedAccount(t, h)
	_, err := h.client(cfg).Account(ctx)
	if err == nil || errors.Is(err, domain.ErrBanned) {
		t.Fatalf("err = %v; want the refresh failure", err)
	}
	if _, ok, _ := h.db.Setting(ctx, amocrm.KeyBaseURL); ok {
		t.Fatal("a foreign account's domain was stored")
	}
	if amofake.AccountID == 999 {
		t.Fatal("test setup")
	}
}

func containsLog(h *harness, s string) bool { return strings.Contains(h.logs.String(), s) }
