package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/app/apptest"
	"kaspi-amocrm/pkg/config"
)

func TestAmoSubdomain_OnlyFromAmoCRMHosts(t *testing.T) {
	for in, want := range map[string]string{
		"shop": "shop", "Shop.amocrm.ru": "shop", "https://shop.amocrm.ru": "shop", "https://shop.kommo.com/": "shop",
		"https://shop.amocrm.com:443/": "shop", "shop.kommo.com": "shop",
		"http://127.0.0.1:8080": "", "https://proxy.example.kz/amo": "", "https://shop.amocrm.ru.evil.kz": "",
		"https://a.b.amocrm.ru": "", "crm.example.kz": "", "": "",
	} {
		if got := AmoSubdomain(config.Config{AmoSubdomain: in}); got != want {
			t.Errorf("AmoSubdomain(%q) = %q, want %q", in, got, want)
		}
	}
}

// With a base that names no account (a proxy, here the sandbox's URL) the
// first authorization stores the account id, and tokens of another
// account are refused later and not stored.
func TestOAuth_AccountIDComparedWhenTheBaseNamesNoAccount(t *testing.T) {
	s := apptest.New(t, false)
	s.Migrate()
	h := OAuthHandler(opts(s))
	ref := hostOf(s.AmoURL)
	_, state := locationState(t, s.Do(h, "GET", "/?start=1&token="+testSecret, nil))
	if w := s.Do(h, "GET", "/?code="+s.Amo.IssueCode()+"&referer="+ref+"&state="+state, nil); w.Code != 200 {
		t.Fatalf("first authorization: %d %q", w.Code, w.Body.String())
	}
	ctx := context.Background()
	db := s.DB()
	id, ok, err := db.Setting(ctx, accountIDKey)
	if err != nil || !ok || id == "" || id == "0" {
		t.Fatalf("account id not stored: %q %v %v", id, ok, err)
	}
	before, _ := db.Token(ctx, "amocrm")
	// The integration was first authorized for another account.
	if err := db.SetSetting(ctx, accountIDKey, "777"); err != nil {
		t.Fatal(err)
	}
	_, state = locationState(t, s.Do(h, "GET", "/?start=1&token="+testSecret, nil))
	os.Remove(filepath.Join(s.Storage(), "oauth_exchange")) // a few seconds later
	w := s.Do(h, "GET", "/?code="+s.Amo.IssueCode()+"&referer="+ref+"&state="+state, nil)
	if w.Code != 403 || !strings.Contains(w.Body.String(), "ID 777") || !strings.Contains(w.Body.String(), "ID "+id) {
		t.Fatalf("foreign account: %d %q", w.Code, w.Body.String())
	}
	if after, _ := db.Token(ctx, "amocrm"); after.AccessToken != before.AccessToken {
		t.Fatal("tokens of another account were stored")
	}
}
