package amocrm_test

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

func TestEnvTokens_ImportedOnceOnFirstUse(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	env := h.issue()
	cfg := h.config()
	cfg.EnvAccessToken, cfg.EnvRefreshToken, cfg.EnvExpiresAt = env.AccessToken, env.RefreshToken, 0
	if _, err := h.client(cfg).Account(ctx); err != nil {
		t.Fatal(err)
	}
	got := h.storedToken()
	if !samePair(got, env) {
		t.Fatal("the .env pair was not imported")
	}
	// AMO_EXPIRES_AT=0 means "now + 1 h".
	if d := time.Until(time.Unix(got.ExpiresAt, 0)); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("expires in %v; want about an hour", d)
	}
	if _, ok, _ := h.db.Setting(ctx, "amocrm_env_token_hash"); !ok {
		t.Fatal("the import is not remembered")
	}
	if g := h.fake.TokenGrants(); g != 0 {
		t.Fatalf("%d token grants on import", g)
	}
}

func TestEnvTokens_LaterEditsNeverOverwriteAWorkingPair(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	stored := h.issue()
	if err := h.db.SaveToken(ctx, "amocrm", stored); err != nil {
		t.Fatal(err)
	}
	edited := h.issue()
	cfg := h.config()
	cfg.EnvAccessToken, cfg.EnvRefreshToken = edited.AccessToken, edited.RefreshToken
	if _, err := h.client(cfg).Account(ctx); err != nil {
		t.Fatal(err)
	}
	if !samePair(h.storedToken(), stored) {
		t.Fatal("a working stored pair was replaced by .env")
	}
}

func TestEnvTokens_NewPairImportedWhenStoredPairIsRejected(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	first := h.issue()
	cfg := h.config()
	cfg.EnvAccessToken, cfg.EnvRefreshToken = first.AccessToken, first.RefreshToken
	if _, err := h.client(cfg).Account(ctx); err != nil {
		t.Fatal(err)
	}

	// The integration was disconnected: every token dies. The owner
	// re-authorises and pastes the new pair into .env.
	h.fake.RevokeAll()
	fresh := h.issue()
	cfg.EnvAccessToken, cfg.EnvRefreshToken = fresh.AccessToken, fresh.RefreshToken
	if _, err := h.client(cfg).Account(ctx); err != nil {
		t.Fatalf("recovery: %v", err)
	}
	if !samePair(h.storedToken(), fresh) {
		t.Fatal("the new .env pair was not imported")
	}
}

func TestEnvTokens_SamePairNotImportedTwice(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	env := h.issue()
	cfg := h.config()
	cfg.EnvAccessToken, cfg.EnvRefreshToken = env.AccessToken, env.RefreshToken
	c := h.client(cfg)
	if _, err := c.Account(ctx); err != nil {
		t.Fatal(err)
	}
	h.fake.RevokeAll()
	_, err := h.client(cfg).Account(ctx)
	if !errors.Is(err, domain.ErrAuth) || !strings.Contains(err.Error(), "нужна повторная авторизация") {
		t.Fatalf("err = %v; want a plain re-authorization error", err)
	}
}

func TestNoTokens_AskToAuthorize(t *testing.T) {
	h := newHarness(t)
	_, err := h.client(h.config()).Account(ctxT(t))
	if !errors.Is(err, domain.ErrAuth) || !strings.Contains(err.Error(), "авторизац") {
		t.Fatalf("err = %v", err)
	}
	if n := h.fake.RequestCount(); n != 0 {
		t.Fatalf("%d requests without a token", n)
	}
}

func TestRefresh_WhenLessThanTenMinutesLeft(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	tok := h.issue()
	tok.ExpiresAt = time.Now().Add(9 * time.Minute).Unix()
	if err := h.db.SaveToken(ctx, "amocrm", tok); err != nil {
		t.Fatal(err)
	}
	if _, err := h.client(h.config()).Account(ctx); err != nil {
		t.Fatal(err)
	}
	if g := h.fake.TokenGrants(); g != 1 {
		t.Fatalf("%d grants; want a refresh before the call", g)
	}
	if n := h.requests(http.MethodGet, "/api/v4/account"); n != 1 {
		t.Fatalf("%d account calls; the refreshed token works at once", n)
	}
	got := h.storedToken()
	if samePair(got, tok) || time.Until(time.Unix(got.ExpiresAt, 0)) < 23*time.Hour {
		t.Fatalf("stored %+v after refresh", got.ExpiresAt)
	}
}

func TestLongLivedToken_UsedAsIsAndA401IsFinal(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	long := domain.Token{AccessToken: h.fake.IssueLongLivedToken(365 * 24 * time.Hour), ExpiresAt: time.Now().Add(time.Minute).Unix()}
	if err := h.db.SaveToken(ctx, "amocrm", long); err != nil {
		t.Fatal(err)
	}
	c := h.client(h.config())
	if _, err := c.Account(ctx); err != nil {
		t.Fatal(err)
	}
	h.fake.RevokeAccessTokens()
	if _, err := c.Account(ctx); !errors.Is(err, domain.ErrAuth) {
		t.Fatalf("err = %v", err)
	}
	if n := h.requests(http.MethodPost, "/oauth2/access_token"); n != 0 {
		t.Fatalf("%d token calls for a long-lived token", n)
	}
}

func TestLongLivedToken_FromEnv(t *testing.T) {
	h := newHarness(t)
	cfg := h.config()
	cfg.EnvAccessToken = h.fake.IssueLongLivedToken(24 * time.Hour)
	if _, err := h.client(cfg).Users(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if got := h.storedToken(); got.AccessToken != cfg.EnvAccessToken || got.RefreshToken != "" {
		t.Fatal("long-lived token not imported as is")
	}
}

func TestRefresh_UsesAPairAnotherProcessRotated(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	tok := h.issue()
	if err := h.db.SaveToken(ctx, "amocrm", tok); err != nil {
		t.Fatal(err)
	}
	a := h.client(h.config())
	if _, err := a.Account(ctx); err != nil { // a holds tok in memory
		t.Fatal(err)
	}
	// Another process refreshes (its copy was about to expire); the old
	// access token dies with its refresh token.
	b := h.client(h.config())
	tok.ExpiresAt = time.Now().Add(time.Minute).Unix()
	if err := h.db.SaveToken(ctx, "amocrm", tok); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Account(ctx); err != nil {
		t.Fatal(err)
	}
	// a gets a 401, re-reads the row under the lock and takes b's pair.
	if _, err := a.Account(ctx); err != nil {
		t.Fatal(err)
	}
	if g := h.fake.TokenGrants(); g != 1 {
		t.Fatalf("%d grants; a must not spend the rotated refresh token", g)
	}
}

// Two processes (separate database connections) need a refresh at the same
// moment: exactly one refresh call, both continue, the stored pair works.
func TestRefresh_TwoClientsAtOnceSpendTheRefreshTokenOnce(t *testing.T) {
	for _, driver := range drivers(t) {
		for _, sharedLockDir := range []bool{true, false} {
			name := driver + "/file+row lock"
			if !sharedLockDir {
				name = driver + "/row lock only"
			}
			t.Run(name, func(t *testing.T) {
				h := newHarnessWith(t, driver, fakeOpts())
				ctx := ctxT(t)
				tok := h.issue()
				tok.ExpiresAt = time.Now().Add(time.Minute).Unix()
				if err := h.db.SaveToken(ctx, "amocrm", tok); err != nil {
					t.Fatal(err)
				}
				var clients []*amocrm.Client
				for i := 0; i < 2; i++ {
					cfg := h.config()
					cfg.Tokens = reopenDB(t, h.db)
					cfg.Settings = cfg.Tokens.(tokenDB)
					if !sharedLockDir {
						cfg.LockDir = t.TempDir() // two hosts: only the row lock is shared
					}
					clients = append(clients, h.client(cfg))
				}
				var wg sync.WaitGroup
				errs := make([]error, len(clients))
				start := make(chan struct{})
				for i, c := range clients {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						_, errs[i] = c.Account(ctx)
					}()
				}
				close(start)
				wg.Wait()
				for i, err := range errs {
					if err != nil {
						t.Errorf("client %d: %v", i, err)
					}
				}
				if g := h.fake.TokenGrants(); g != 1 {
					t.Fatalf("%d refresh calls; want exactly one", g)
				}
				// The stored refresh token is alive: a later refresh works.
				h.fake.RevokeAccessTokens()
				if _, err := h.client(h.config()).Account(ctx); err != nil {
					t.Fatalf("stored pair after the race: %v", err)
				}
			})
		}
	}
}

func TestExchangeCode_VerifyThenSave(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	c := h.client(h.config())
	tok, err := c.ExchangeCode(ctx, h.fake.IssueCode())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.RefreshToken == "" || time.Until(time.Unix(tok.ExpiresAt, 0)) < 23*time.Hour {
		t.Fatalf("token %+v", tok.ExpiresAt)
	}
	acc, err := c.VerifyToken(ctx, tok)
	if err != nil || acc.ID == 0 {
		t.Fatalf("VerifyToken = %+v, %v", acc, err)
	}
	if err := c.SaveTokens(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if !samePair(h.storedToken(), tok) {
		t.Fatal("not stored")
	}
	if _, err := c.Users(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.lastBody("/oauth2/access_token"), `"redirect_uri"`) {
		t.Error("the code exchange does not send redirect_uri")
	}
}

func TestExchangeCode_UsedCodeIsAnAuthError(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	c := h.client(h.config())
	code := h.fake.IssueCode()
	if _, err := c.ExchangeCode(ctx, code); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExchangeCode(ctx, code); !errors.Is(err, domain.ErrAuth) {
		t.Fatalf("reused code err = %v", err)
	}
}

func TestLogs_CarryNoSecrets(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	c, first := h.authorized()
	h.fake.RevokeAccessTokens() // forces a refresh
	if _, err := c.Account(ctx); err != nil {
		t.Fatal(err)
	}
	_, _ = c.CreateLeads(ctx, []domain.Lead{{Name: "x", Fields: []domain.FieldValue{{FieldID: 1, Values: []domain.FieldItem{{Value: "x"}}}}}})
	code, err := c.ExchangeCode(ctx, h.fake.IssueCode())
	if err != nil {
		t.Fatal(err)
	}
	h.fake.RevokeAll()
	_, _ = c.Account(ctx) // a failing refresh logs its error body
	logs := h.logs.String()
	if !strings.Contains(logs, "/api/v4/account") {
		t.Fatalf("no request was logged at debug:\n%s", logs)
	}
	second := h.storedToken()
	for name, secret := range map[string]string{
		"first access": first.AccessToken, "first refresh": first.RefreshToken,
		"second access": second.AccessToken, "second refresh": second.RefreshToken,
		"exchanged access": code.AccessToken, "exchanged refresh": code.RefreshToken,
		"client secret": h.config().ClientSecret, "auth header": "Bearer ",
	} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log carries the %s", name)
		}
	}
}

func TestBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"shop":                    "https://shop.amocrm.ru",
		"shop.amocrm.ru":          "https://shop.amocrm.ru",
		"shop.amocrm.com":         "https://shop.amocrm.com",
		"Shop.Kommo.com":          "https://shop.kommo.com",
		"https://shop.amocrm.ru":  "https://shop.amocrm.ru",
		"https://shop.amocrm.ru/": "https://shop.amocrm.ru",
		"http://127.0.0.1:8081":   "http://127.0.0.1:8081",
		"  shop.amocrm.ru/ ":      "https://shop.amocrm.ru",
	} {
		got, err := amocrm.BaseURL(in)
		if err != nil || got != want {
			t.Errorf("BaseURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "ftp://shop.amocrm.ru", "shop/amocrm", "https://", "https://u:p@shop.amocrm.ru"} {
		if got, err := amocrm.BaseURL(bad); err == nil {
			t.Errorf("BaseURL(%q) = %q; want an error", bad, got)
		}
	}
}

func samePair(a, b domain.Token) bool {
	return a.AccessToken == b.AccessToken && a.RefreshToken == b.RefreshToken
}

func TestRefresh_ServerErrorIsNotRepeated(t *testing.T) {
	h := newHarness(t)
	ctx := ctxT(t)
	tok := h.issue()
	tok.ExpiresAt = time.Now().Add(time.Minute).Unix()
	if err := h.db.SaveToken(ctx, "amocrm", tok); err != nil {
		t.Fatal(err)
	}
	h.fake.InjectFault(amofake.Fault{Path: "/oauth2/access_token", Kind: amofake.FaultStatus, Status: 502})
	_, err := h.client(h.config()).Account(ctx)
	if !errors.Is(err, domain.ErrTransient) {
		t.Fatalf("err = %v; want ErrTransient", err)
	}
	if n := h.requests(http.MethodPost, "/oauth2/access_token"); n != 1 {
		t.Fatalf("%d refresh calls; a refresh with an unknown outcome is not repeated", n)
	}
	if !samePair(h.storedToken(), tok) {
		t.Fatal("the stored pair changed after a failed refresh")
	}
	// The next run refreshes normally.
	if _, err := h.client(h.config()).Account(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRefresh_ConcurrentCallsOfOneClientRefreshOnce(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)
	h.fake.RevokeAccessTokens()
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.Users(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if g := h.fake.TokenGrants(); g != 1 {
		t.Fatalf("%d refreshes for one revoked token", g)
	}
}
