package sandbox

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// INSTALL's step 5 against the sandbox: its authorize page shows the
// integration, refuses an unknown client, and on «Разрешить» sends the
// owner back to the registered redirect URI with a code that the fake
// amoCRM exchanges for tokens.
func TestAuthorizePage_SendsTheOwnerBackWithACode(t *testing.T) {
	const redirect = "http://shop.test/kaspi/cgi-bin/oauth_callback.cgi"
	sb, err := Start(Config{RedirectURI: redirect})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(context.Background())
	o := sb.Amo.Options()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	resp, err := http.Get(sb.AmoURL + "/oauth?client_id=wrong&state=s1&mode=post_message")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("unknown client: %d", resp.StatusCode)
	}
	resp, err = http.Get(sb.AmoURL + "/oauth?" + url.Values{"client_id": {o.ClientID}, "state": {"s1"}, "mode": {"post_message"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Разрешить") || !strings.Contains(string(page), redirect) {
		t.Fatalf("authorize page: %d %s", resp.StatusCode, page)
	}
	resp, err = noFollow.PostForm(sb.AmoURL+"/oauth", url.Values{"client_id": {o.ClientID}, "state": {"s1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	q := loc.Query()
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), redirect+"?") || q.Get("state") != "s1" ||
		q.Get("code") == "" || q.Get("referer") != strings.TrimPrefix(sb.AmoURL, "http://") {
		t.Fatalf("allow: %d %s", resp.StatusCode, loc)
	}
	form := url.Values{"client_id": {o.ClientID}, "client_secret": {o.ClientSecret}, "grant_type": {"authorization_code"},
		"code": {q.Get("code")}, "redirect_uri": {redirect}}
	resp, err = http.PostForm(sb.AmoURL+"/oauth2/access_token", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "access_token") {
		t.Fatalf("exchange: %d %s", resp.StatusCode, body)
	}
}

// The printed lines tell how to sign in (step 5) and how to add orders.
func TestEnvLines_SayHowToSignInAndAddOrders(t *testing.T) {
	sb, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close(context.Background())
	lines := sb.EnvLines()
	for _, want := range []string{"oauth_callback.cgi?start=1", "--redirect-uri", "--seed-orders", "/_sandbox/orders/new?n=5", "/_sandbox/orders/status?code="} {
		if !strings.Contains(lines, want) {
			t.Errorf("lines lack %q:\n%s", want, lines)
		}
	}
}
