package endpoints

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/apptest"
	"kaspi-amocrm/pkg/app/wiring"
	"kaspi-amocrm/pkg/web"
)

// amoRequests counts the requests the fake amoCRM has seen.
func amoRequests(s *apptest.Site) int { return len(s.Amo.Requests()) }

// Once tokens are stored, an anonymous code without a state (or from the
// widget form) is refused from a file in storage/: no database (the .env
// names a database that does not answer), no amoCRM request. A code of
// the wrong shape is refused before anything else.
func TestOAuthGate_TokenStoredRefusesAnonymousWithoutDBOrAmo(t *testing.T) {
	s := apptest.New(t, false)
	s.Migrate()
	h := OAuthHandler(opts(s))
	ref := hostOf(s.AmoURL)
	_, state := locationState(t, s.Do(h, "GET", "/?start=1&token="+testSecret, nil))
	if w := s.Do(h, "GET", "/?code="+s.Amo.IssueCode()+"&referer="+ref+"&state="+state, nil); w.Code != 200 {
		t.Fatalf("authorization: %d %q", w.Code, w.Body.String())
	}
	if _, err := os.Stat(filepath.Join(s.Storage(), web.TokenMarkerName)); err != nil {
		t.Fatalf("no token marker after saving tokens: %v", err)
	}
	// The start window closes: the owner authorized long ago.
	os.Remove(filepath.Join(s.Storage(), "oauth_start"))
	// A database that cannot be reached: the gate must not need it.
	s.Extra = append(s.Extra, "DB_DRIVER=mysql", "DB_HOST=127.0.0.1", "DB_PORT=1", "DB_NAME=x", "DB_USER=x")
	s.WriteEnv()
	before := amoRequests(s)
	code := strings.Repeat("a1", 30)
	for _, c := range []struct {
		name, target string
		want         int
	}{
		{"no state", "/?code=" + code + "&referer=" + ref, 403},
		{"widget", "/?code=" + code + "&referer=" + ref + "&from_widget=1", 403},
		{"a state while none can be pending", "/?code=" + code + "&referer=" + ref + "&state=abc", 403},
		{"short code", "/?code=abc", 400},
		{"code with a quote", "/?code=" + code + "%27", 400},
		{"code too long", "/?code=" + strings.Repeat("a", 4097), 400},
	} {
		w := s.Do(h, "GET", c.target, nil)
		if w.Code != c.want || strings.Contains(w.Body.String(), "mysql") || strings.Contains(w.Body.String(), "База данных") {
			t.Errorf("%s: %d %q, want %d", c.name, w.Code, w.Body.String(), c.want)
		}
	}
	if n := amoRequests(s) - before; n != 0 {
		t.Fatalf("refused requests made %d amoCRM requests", n)
	}
}

// ?start=1 with the secret reopens the state-less path for a while.
func TestOAuthGate_StartReopensTheStatelessPath(t *testing.T) {
	s := apptest.New(t, false)
	s.Migrate()
	if err := web.MarkTokenStored(s.Storage()); err != nil {
		t.Fatal(err)
	}
	h := OAuthHandler(opts(s))
	ref := hostOf(s.AmoURL)
	if w := s.Do(h, "GET", "/?code="+s.Amo.IssueCode()+"&referer="+ref+"&from_widget=1", nil); w.Code != 403 || !strings.Contains(w.Body.String(), "start=1") {
		t.Fatalf("before start: %d %q", w.Code, w.Body.String())
	}
	locationState(t, s.Do(h, "GET", "/?start=1&token="+testSecret, nil))
	if w := s.Do(h, "GET", "/?code="+s.Amo.IssueCode()+"&referer="+ref+"&from_widget=1", nil); w.Code != 200 {
		t.Fatalf("after start: %d %q", w.Code, w.Body.String())
	}
}

// Code exchanges are capped per install: the next one a moment later is
// refused with 429 at once, without a database or amoCRM request.
func TestOAuthGate_ExchangesAreCapped(t *testing.T) {
	s := apptest.New(t, false)
	s.Migrate()
	h := OAuthHandler(opts(s))
	ref := hostOf(s.AmoURL)
	if w := s.Do(h, "GET", "/?code=def50200notacodenotacodenotacode&referer="+ref, nil); w.Code != http.StatusBadGateway {
		t.Fatalf("first: %d %q", w.Code, w.Body.String())
	}
	before := amoRequests(s)
	w := s.Do(h, "GET", "/?code="+s.Amo.IssueCode()+"&referer="+ref, nil)
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") == "" {
		t.Fatalf("second: %d %q", w.Code, w.Body.String())
	}
	if n := amoRequests(s) - before; n != 0 {
		t.Fatalf("a capped exchange made %d amoCRM requests", n)
	}
	// From a shell the owner is trusted: no cap.
	var out, errOut bytes.Buffer
	if code := web.ServeCLI(context.Background(), h, []string{"code=" + s.Amo.IssueCode()}, nil, &out, &errOut); code != 0 {
		t.Fatalf("shell run: exit %d %q", code, errOut.String())
	}
}

// A sync run that finds or refreshes the stored pair writes the marker
// (installs authorized before the marker existed get it on the next run).
func TestMarkingTokens_FoundPairWritesTheMarker(t *testing.T) {
	s := apptest.New(t, true)
	s.Migrate()
	env, err := wiring.Open(context.Background(), app.NeedOAuth, opts(s))
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()
	amo, err := env.Clients().Amo()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Storage(), web.TokenMarkerName)); err == nil {
		t.Fatal("marker before any token was stored")
	}
	if _, err := amo.Users(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.Storage(), web.TokenMarkerName)); err != nil {
		t.Fatalf("no marker after the .env pair was imported and used: %v", err)
	}
}

// With the database down an anonymous caller gets a generic Russian line:
// no host, port, user, database name or SQLite path. The details go to
// the log, and to a shell run.
func TestOAuth_DatabaseDownShowsNoDetails(t *testing.T) {
	for _, c := range []struct {
		name   string
		lines  []string
		hidden []string
	}{
		{"mysql", []string{"DB_DRIVER=mysql", "DB_HOST=127.0.0.1", "DB_PORT=1", "DB_NAME=shopdbname", "DB_USER=shopdbuser"},
			[]string{"127.0.0.1", ":1", "shopdbname", "shopdbuser"}},
		{"sqlite", []string{"DB_DRIVER=sqlite", "DB_NAME=.env/inside-a-file.sqlite"}, []string{"inside-a-file"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := apptest.New(t, false, c.lines...)
			h := OAuthHandler(opts(s))
			w := s.Do(h, "GET", "/?code="+s.Amo.IssueCode()+"&referer="+hostOf(s.AmoURL), nil)
			if w.Code != 500 || !strings.Contains(w.Body.String(), "База данных недоступна") {
				t.Fatalf("got %d %q", w.Code, w.Body.String())
			}
			for _, v := range append(c.hidden, s.Root) {
				if strings.Contains(w.Body.String(), v) {
					t.Errorf("the answer shows %q: %q", v, w.Body.String())
				}
			}
			logs := readLogs(t, s)
			if !strings.Contains(logs, c.hidden[0]) {
				t.Errorf("the log lacks the details: %q", logs)
			}
			var out, errOut bytes.Buffer
			os.Remove(filepath.Join(s.Storage(), "oauth_exchange"))
			web.ServeCLI(context.Background(), h, []string{"code=" + s.Amo.IssueCode()}, nil, &out, &errOut)
			if !strings.Contains(errOut.String(), c.hidden[0]) {
				t.Errorf("a shell run lacks the details: %q", errOut.String())
			}
		})
	}
}

func readLogs(t *testing.T, s *apptest.Site) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(s.Root, "logs", "*.log"))
	var b strings.Builder
	for _, f := range files {
		data, _ := os.ReadFile(f)
		b.Write(data)
	}
	return b.String()
}
