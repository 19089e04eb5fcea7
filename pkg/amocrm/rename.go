package amocrm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// A renamed account: the refresh call on the old subdomain answers 401 or
// 404. As the official SDK does (AmoCRMOAuth), the account is looked up by
// refresh token on the host named by the access token's api_domain claim
// (GET /oauth2/account/current/subdomain, X-Refresh-Token), and the new
// domain is accepted only when the answer's account id is the stored one.
// The new base is stored in settings and wins over AMO_SUBDOMAIN from then
// on; the refresh is retried once there.

const (
	// KeyBaseURL holds the account's base URL found after a rename.
	KeyBaseURL = domain.SettingAmoBaseURL
	// KeyAccountID is the amoCRM account id the stored tokens belong to.
	KeyAccountID = domain.SettingAmoAccountID
)

// baseURL is the base requests go to.
func (c *Client) baseURL() string {
	c.baseMu.Lock()
	defer c.baseMu.Unlock()
	return c.base
}

func (c *Client) setBase(b string) {
	c.baseMu.Lock()
	c.base = b
	c.baseMu.Unlock()
}

// loadStoredBase makes a base stored after a rename win over the
// configured one. Called once, on the first token load.
func (c *Client) loadStoredBase(ctx context.Context) {
	v, ok, err := c.cfg.Settings.Setting(ctx, KeyBaseURL)
	if err != nil || !ok || v == "" {
		return
	}
	if v == c.baseURL() {
		// .env names the new address now: nothing left to tell the owner.
		if err := c.cfg.Settings.SetSetting(ctx, KeyBaseURL, ""); err != nil {
			c.log.WarnContext(ctx, "amocrm: could not clear the stored address after .env was updated", "err", err)
		}
		return
	}
	c.log.WarnContext(ctx, "amocrm: using the account's new address found after a subdomain rename; update AMO_SUBDOMAIN in .env",
		"base", v, "configured", c.cfg.BaseURL)
	c.setBase(v)
}

// claims reads the unverified claims of a JWT access token.
func claims(access string) map[string]any {
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	return m
}

func claimInt(m map[string]any, key string) int64 {
	switch v := m[key].(type) {
	case float64:
		return int64(v)
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// storedAccountID is the account the tokens belong to: the settings key
// when set, else the account_id claim of the stored access token.
func (c *Client) storedAccountID(ctx context.Context, t domain.Token) int64 {
	if v, ok, err := c.cfg.Settings.Setting(ctx, KeyAccountID); err == nil && ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return claimInt(claims(t.AccessToken), "account_id")
}

// followRename looks the account up after the refresh failed on the old
// address. true: the base changed and the refresh may be retried once.
func (c *Client) followRename(ctx context.Context, t domain.Token) bool {
	cl := claims(t.AccessToken)
	apiDomain, _ := cl["api_domain"].(string)
	want := c.storedAccountID(ctx, t)
	if apiDomain == "" || t.RefreshToken == "" || want == 0 {
		return false
	}
	target := "https://" + apiDomain + "/oauth2/account/current/subdomain"
	if err := c.lim.Wait(ctx); err != nil {
		return false
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return false
	}
	req.Header.Set("X-Refresh-Token", t.RefreshToken)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.log.WarnContext(ctx, "amocrm: cannot look the account up after a failed refresh", "error", c.redact(err.Error()))
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var ans struct {
		ID     int64  `json:"id"`
		Domain string `json:"domain"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &ans) != nil || ans.Domain == "" {
		c.log.WarnContext(ctx, "amocrm: the account lookup after a failed refresh gave nothing", "status", resp.StatusCode)
		return false
	}
	if ans.ID != want {
		c.log.ErrorContext(ctx, "amocrm: the account lookup answered another account; not followed", "want", want, "got", ans.ID)
		return false
	}
	base, err := BaseURL(ans.Domain)
	if err != nil || base == c.baseURL() {
		return false
	}
	if err := c.cfg.Settings.SetSetting(ctx, KeyBaseURL, base); err != nil {
		c.log.ErrorContext(ctx, "amocrm: cannot store the account's new address", "error", err)
	}
	c.log.WarnContext(ctx, "amocrm: the account's subdomain was renamed; following it. Update AMO_SUBDOMAIN in .env",
		"old", c.baseURL(), "new", base)
	c.setBase(base)
	return true
}

// renamedErr reports whether a failed refresh may mean a renamed account.
func renamedErr(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	return ae.Status == http.StatusUnauthorized || ae.Status == http.StatusNotFound
}
