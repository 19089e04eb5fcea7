package app

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"kaspi-amocrm/pkg/config"
)

// tokenServer answers every request with status and records the Kaspi
// token each one carried.
func tokenServer(t *testing.T, status int) (*httptest.Server, func() []string) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("X-Auth-Token"))
		mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

// Store 1 reads with KASPI_API_TOKEN, and every further store with its own
// KASPI_API_TOKEN_n: one client per store, none for store 1 among them.
func TestClients_EachStoreReadsWithItsOwnToken(t *testing.T) {
	srv, seen := tokenServer(t, http.StatusUnauthorized)
	c := Clients{Config: config.Config{KaspiAPIBase: srv.URL, KaspiAPIToken: "tok-one", KaspiStores: []config.KaspiStore{
		{No: 1, Token: "tok-one"}, {No: 2, Suffix: "_2", Token: "tok-two"}, {No: 3, Suffix: "_3", Token: "tok-three"}}}}
	ctx := context.Background()
	_, _ = c.Kaspi().OrderByCode(ctx, "100")
	stores := c.KaspiStores()
	if len(stores) != 2 || stores[1] != nil {
		t.Fatalf("store clients: %v", stores)
	}
	_, _ = stores[2].OrderByCode(ctx, "200")
	_, _ = stores[3].OrderByCode(ctx, "300")
	got := seen()
	if len(got) != 3 || got[0] != "tok-one" || got[1] != "tok-two" || got[2] != "tok-three" {
		t.Fatalf("tokens sent: %q", got)
	}
}

// doctor's clients (Interactive) try a failing Kaspi call once more, not
// three times: a person is waiting at the screen.
func TestClients_InteractiveRetriesOnce(t *testing.T) {
	srv, seen := tokenServer(t, http.StatusServiceUnavailable)
	c := Clients{Config: config.Config{KaspiAPIBase: srv.URL, KaspiAPIToken: "tok-one"}, Interactive: true}
	if _, err := c.Kaspi().OrderByCode(context.Background(), "100"); err == nil {
		t.Fatal("a 503 was taken for an answer")
	}
	if n := len(seen()); n != 2 {
		t.Fatalf("%d requests, want the first and one retry", n)
	}
}
