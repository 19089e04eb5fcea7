package amofake_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/sandbox/amofake"
)

func tokenBody(grant, key, value string) string {
	b, _ := json.Marshal(map[string]string{
		"client_id": amofake.DefaultClientID, "client_secret": amofake.DefaultClientSecret,
		"grant_type": grant, key: value, "redirect_uri": amofake.DefaultRedirectURI,
	})
	return string(b)
}

type tokenAnswer struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func decodeToken(t *testing.T, r resp) tokenAnswer {
	t.Helper()
	mustStatus(t, r, http.StatusOK)
	var a tokenAnswer
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatal(err)
	}
	if a.TokenType != "Bearer" || a.AccessToken == "" || a.RefreshToken == "" {
		t.Fatalf("token answer %s", r.body)
	}
	return a
}

func TestToken_AuthorizationCodeIsSingleUse(t *testing.T) {
	f := newFake(t, amofake.Options{})
	code := f.srv.IssueCode()
	a := decodeToken(t, f.callToken("", "POST", "/oauth2/access_token", tokenBody("authorization_code", "code", code)))
	if a.ExpiresIn != 86400 {
		t.Errorf("expires_in %d, want 86400", a.ExpiresIn)
	}
	mustStatus(t, f.callToken(a.AccessToken, "GET", "/api/v4/account", ""), http.StatusOK)

	again := f.callToken("", "POST", "/oauth2/access_token", tokenBody("authorization_code", "code", code))
	mustStatus(t, again, http.StatusBadRequest)
}

func TestToken_CodeExpiresAfter20Minutes(t *testing.T) {
	clk := newClock()
	f := newFake(t, amofake.Options{Now: clk.Now})
	code := f.srv.IssueCode()
	clk.Add(21 * time.Minute)
	r := f.callToken("", "POST", "/oauth2/access_token", tokenBody("authorization_code", "code", code))
	mustStatus(t, r, http.StatusBadRequest)
}

func TestToken_RedirectURIMustMatch(t *testing.T) {
	f := newFake(t, amofake.Options{})
	body := strings.Replace(tokenBody("authorization_code", "code", f.srv.IssueCode()),
		"oauth_callback.cgi", "other.cgi", 1)
	mustStatus(t, f.callToken("", "POST", "/oauth2/access_token", body), http.StatusBadRequest)
}

func TestToken_WrongClientIs401ProblemJSON(t *testing.T) {
	f := newFake(t, amofake.Options{})
	body := strings.Replace(tokenBody("authorization_code", "code", f.srv.IssueCode()),
		amofake.DefaultClientSecret, "wrong", 1)
	r := f.callToken("", "POST", "/oauth2/access_token", body)
	mustStatus(t, r, http.StatusUnauthorized)
	if r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("content type %q", r.header.Get("Content-Type"))
	}
	if got := r.json(t)["title"]; got != "Некорректный клиент" {
		t.Errorf("title %v", got)
	}
}

func TestToken_RefreshRotatesAndTheOldTokenIsRevoked(t *testing.T) {
	f := newFake(t, amofake.Options{})
	access, refresh, _ := f.srv.IssueTokens()

	next := decodeToken(t, f.callToken("", "POST", "/oauth2/access_token", tokenBody("refresh_token", "refresh_token", refresh)))
	if next.RefreshToken == refresh || next.AccessToken == access {
		t.Fatal("refresh returned the same tokens")
	}
	// The new pair works; the old refresh token is dead for good.
	mustStatus(t, f.callToken(next.AccessToken, "GET", "/api/v4/account", ""), http.StatusOK)
	reused := f.callToken("", "POST", "/oauth2/access_token", tokenBody("refresh_token", "refresh_token", refresh))
	mustStatus(t, reused, http.StatusUnauthorized)
	if hint := reused.json(t)["hint"]; hint != "Token has been revoked" {
		t.Errorf("hint %v", hint)
	}
	// The access token issued with the spent refresh token is revoked too.
	mustStatus(t, f.callToken(access, "GET", "/api/v4/account", ""), http.StatusUnauthorized)
	if f.srv.TokenGrants() != 1 {
		t.Errorf("grants %d, want 1", f.srv.TokenGrants())
	}
}

func TestToken_FormEncodedBodyIsAccepted(t *testing.T) {
	f := newFake(t, amofake.Options{})
	_, refresh, _ := f.srv.IssueTokens()
	form := fmt.Sprintf("client_id=%s&client_secret=%s&grant_type=refresh_token&refresh_token=%s",
		amofake.DefaultClientID, amofake.DefaultClientSecret, refresh)
	req, _ := http.NewRequest("POST", f.http.URL+"/oauth2/access_token", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", res.StatusCode)
	}
}

func TestAPI_BearerTokenIsRequired(t *testing.T) {
	f := newFake(t, amofake.Options{})
	for name, tok := range map[string]string{"missing": "", "unknown": "eyJ.not.issued"} {
		r := f.callToken(tok, "GET", "/api/v4/leads", "")
		if r.status != http.StatusUnauthorized || r.header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("%s token: %d %s", name, r.status, r.header.Get("Content-Type"))
		}
	}
}

func TestAPI_ExpiredAccessTokenIs401(t *testing.T) {
	clk := newClock()
	f := newFake(t, amofake.Options{Now: clk.Now, AccessTTL: time.Hour})
	mustStatus(t, f.call("GET", "/api/v4/account", ""), http.StatusOK)
	clk.Add(time.Hour)
	mustStatus(t, f.call("GET", "/api/v4/account", ""), http.StatusUnauthorized)
}

func TestAPI_LongLivedTokenWorksUntilItExpires(t *testing.T) {
	clk := newClock()
	f := newFake(t, amofake.Options{Now: clk.Now})
	tok := f.srv.IssueLongLivedToken(48 * time.Hour)
	mustStatus(t, f.callToken(tok, "GET", "/api/v4/account", ""), http.StatusOK)
	clk.Add(49 * time.Hour)
	mustStatus(t, f.callToken(tok, "GET", "/api/v4/account", ""), http.StatusUnauthorized)
}

func TestAPI_PaymentRequiredModeAnswers402(t *testing.T) {
	f := newFake(t, amofake.Options{})
	f.srv.SetPaymentRequired(true)
	r := f.call("GET", "/api/v4/leads", "")
	mustStatus(t, r, http.StatusPaymentRequired)
	if r.header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("content type %q", r.header.Get("Content-Type"))
	}
	f.srv.SetPaymentRequired(false)
	mustStatus(t, f.call("GET", "/api/v4/account", ""), http.StatusOK)
}

func TestAPI_EveryAnswerCarriesXRequestID(t *testing.T) {
	f := newFake(t, amofake.Options{})
	if f.call("GET", "/api/v4/account", "").header.Get("X-Request-Id") == "" {
		t.Error("no X-Request-Id")
	}
}
