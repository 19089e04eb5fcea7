package endpoints

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/app/apptest"
)

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
