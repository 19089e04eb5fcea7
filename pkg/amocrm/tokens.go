package amocrm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"kaspi-amocrm/pkg/domain"
)

// Tokens live in oauth_tokens under service "amocrm".
//
// First use: when there is no row and .env holds AMO_ACCESS_TOKEN (with or
// without AMO_REFRESH_TOKEN), the pair is copied in once and a hash of it is
// kept in settings. Later .env edits never overwrite a working stored pair:
// only when amoCRM rejects the stored pair (its refresh fails, or a
// long-lived token gets a 401) and .env holds a pair other than the one last
// imported is that pair imported — the owner's way to recover by pasting
// fresh tokens into .env.
//
// Refresh tokens are single-use. A refresh runs under a file lock in
// storage/ and the database's named lock, re-reads the row inside (another
// process may have rotated it already: then its pair is used), keeps the
// new pair in memory at once and persists it on its own (tokensave.go).

func authErr(msg string) error { return &tokenError{msg: msg} }

// tokenError is a missing or refused amoCRM token: it unwraps to
// domain.ErrAuth and names amoCRM, and its owner line says what to do.
type tokenError struct{ msg string }

func (e *tokenError) Error() string   { return e.msg + ": " + domain.ErrAuth.Error() }
func (e *tokenError) Unwrap() error   { return domain.ErrAuth }
func (e *tokenError) Service() string { return "amoCRM" }
func (e *tokenError) OwnerText() string {
	if e.msg == msgNoToken {
		return "amoCRM: токенов ещё нет — пройдите авторизацию: откройте cgi-bin/oauth_callback.cgi?start=1 и разрешите доступ."
	}
	return "amoCRM больше не принимает токен — авторизуйте интеграцию заново: откройте cgi-bin/oauth_callback.cgi?start=1."
}

func envHash(t domain.Token) string {
	h := sha256.Sum256([]byte(t.AccessToken + "\x00" + t.RefreshToken))
	return hex.EncodeToString(h[:])
}

func samePair(a, b domain.Token) bool {
	return a.AccessToken == b.AccessToken && a.RefreshToken == b.RefreshToken
}

// envToken is the .env pair, or nil when .env has no access token.
func (c *Client) envToken() *domain.Token {
	if c.cfg.EnvAccessToken == "" {
		return nil
	}
	exp := c.cfg.EnvExpiresAt
	if exp <= 0 {
		exp = c.now().Add(envExpiresAtZero).Unix()
	}
	return &domain.Token{AccessToken: c.cfg.EnvAccessToken, RefreshToken: c.cfg.EnvRefreshToken, ExpiresAt: exp}
}

// envCandidate is the .env pair if it differs from the last imported one.
func (c *Client) envCandidate(ctx context.Context) *domain.Token {
	env := c.envToken()
	if env == nil {
		return nil
	}
	v, ok, err := c.cfg.Settings.Setting(ctx, keyEnvTokenHash)
	if err != nil {
		c.log.WarnContext(ctx, "amocrm: cannot read the imported-token mark", "error", err)
		return nil
	}
	if ok && v == envHash(*env) {
		return nil
	}
	return env
}

func (c *Client) markEnvImported(ctx context.Context) {
	env := c.envToken()
	if env == nil {
		return
	}
	if err := c.cfg.Settings.SetSetting(ctx, keyEnvTokenHash, envHash(*env)); err != nil {
		c.log.ErrorContext(ctx, "amocrm: cannot record the imported .env tokens", "error", err)
	}
}

func (c *Client) setToken(t domain.Token) {
	c.tok, c.tokLoaded = t, true
	c.remember(t)
}

// accessToken returns a usable token, loading it on first use and
// refreshing it when fewer than 10 minutes are left.
func (c *Client) accessToken(ctx context.Context) (domain.Token, error) {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	if !c.tokLoaded {
		if err := c.loadLocked(ctx); err != nil {
			return domain.Token{}, err
		}
	}
	if c.tok.RefreshToken != "" && time.Unix(c.tok.ExpiresAt, 0).Sub(c.now()) < refreshMargin {
		if err := c.rotateLocked(ctx, c.tok, false); err != nil {
			return domain.Token{}, err
		}
	}
	return c.tok, nil
}

func (c *Client) loadLocked(ctx context.Context) error {
	c.loadStoredBase(ctx)
	if rec, err := c.loadRecovery(ctx); rec != nil || err != nil {
		if err != nil {
			return err
		}
		c.setToken(*rec)
		return nil
	}
	t, err := c.cfg.Tokens.Token(ctx, service)
	if err == nil {
		c.setToken(t)
		return nil
	}
	if !errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("read tokens: %w", err)
	}
	env := c.envToken()
	if env == nil {
		return authErr(msgNoToken)
	}
	imported := false
	err = c.cfg.Tokens.UpdateToken(ctx, service, func(cur domain.Token, found bool) (*domain.Token, error) {
		if found { // another process imported or authorised meanwhile
			t, imported = cur, false
			return nil, nil
		}
		t, imported = *env, true
		return env, nil
	})
	if err != nil {
		return fmt.Errorf("import tokens from .env: %w", err)
	}
	if imported {
		c.markEnvImported(ctx)
		c.log.InfoContext(ctx, "amocrm: tokens imported from .env")
	}
	c.setToken(t)
	return nil
}

// onUnauthorized handles a 401 on a call made with used: refresh once
// (unless another goroutine already replaced the token).
func (c *Client) onUnauthorized(ctx context.Context, used domain.Token) error {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	if c.tokLoaded && !samePair(c.tok, used) {
		return nil
	}
	return c.rotateLocked(ctx, used, true)
}

// rotateLocked replaces stale under the cross-process refresh locks: with
// a pair another process stored meanwhile (or left in the recovery file),
// with a refreshed pair, or (when amoCRM rejects the stored pair) with a
// new .env pair. rejected says that amoCRM answered 401 to stale's access
// token. c.tokMu is held. No database transaction is open during the
// refresh call: the new pair is kept in memory as soon as it arrives and
// then persisted on its own (persistToken).
func (c *Client) rotateLocked(ctx context.Context, stale domain.Token, rejected bool) error {
	candidate := c.envCandidate(ctx)

	unlock, err := c.lockRefresh(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	rec := c.importRecovery(ctx)
	row, err := c.cfg.Tokens.Token(ctx, service)
	found := err == nil
	if err != nil && !errors.Is(err, domain.ErrNotFound) && rec == nil {
		return fmt.Errorf("read tokens: %w", err)
	}
	cur := row
	if rec != nil {
		cur, found = *rec, true
	}
	if found && !samePair(cur, stale) {
		c.setToken(cur) // rotated by another process (or re-authorised): use it, spend nothing
		return nil
	}
	if !found {
		if candidate != nil {
			return c.useEnvPair(ctx, *candidate)
		}
		return authErr(msgNoToken)
	}
	var rejectErr error
	if cur.RefreshToken == "" {
		if !rejected {
			c.setToken(cur) // a long-lived token is used as it is
			return nil
		}
		rejectErr = authErr(msgReauth)
	} else {
		nt, err := c.refresh(ctx, cur.RefreshToken)
		if err != nil && renamedErr(err) && c.followRename(ctx, cur) {
			nt, err = c.refresh(ctx, cur.RefreshToken) // once, on the new address
		}
		if err == nil {
			c.setToken(nt) // the only copy until persisted
			if err := c.persistToken(ctx, row, nt); err != nil {
				c.log.ErrorContext(ctx, "amocrm: refreshed tokens not persisted", "error", err)
			}
			return nil
		}
		if !errors.Is(err, domain.ErrAuth) {
			return err
		}
		rejectErr = err
	}
	if candidate != nil && !samePair(*candidate, cur) {
		return c.useEnvPair(ctx, *candidate)
	}
	return rejectErr
}

// useEnvPair stores and uses the .env pair in place of row.
func (c *Client) useEnvPair(ctx context.Context, env domain.Token) error {
	if err := c.cfg.Tokens.SaveToken(ctx, service, env); err != nil {
		return fmt.Errorf("import tokens from .env: %w", err)
	}
	c.markEnvImported(ctx)
	c.log.WarnContext(ctx, "amocrm: the stored tokens were rejected or absent; using the pair from .env")
	c.setToken(env)
	return nil
}

// lockFile takes the refresh file lock in LockDir (none when unset).
func (c *Client) lockFile(ctx context.Context) (func(), error) {
	if c.cfg.LockDir == "" {
		return func() {}, nil
	}
	fl := flock.New(filepath.Join(c.cfg.LockDir, tokenLockName))
	ok, err := fl.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil || !ok {
		if err == nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("lock %s: %w", fl.Path(), err)
	}
	return func() { _ = fl.Unlock() }, nil
}

func (c *Client) refresh(ctx context.Context, refreshToken string) (domain.Token, error) {
	t, err := c.tokenCall(ctx, map[string]string{"grant_type": "refresh_token", "refresh_token": refreshToken})
	if err != nil {
		return domain.Token{}, fmt.Errorf("refresh token: %w", err)
	}
	c.log.InfoContext(ctx, "amocrm: access token refreshed")
	return t, nil
}

// ExchangeCode trades an authorization code for a token pair (the OAuth
// callback). The pair is not stored; see SaveTokens.
func (c *Client) ExchangeCode(ctx context.Context, code string) (domain.Token, error) {
	if strings.TrimSpace(code) == "" {
		return domain.Token{}, fmt.Errorf("amocrm: exchange code: empty code: %w", domain.ErrBadRequest)
	}
	if err := c.checkBan(ctx); err != nil {
		return domain.Token{}, err
	}
	t, err := c.tokenCall(ctx, map[string]string{"grant_type": "authorization_code", "code": code})
	if err != nil {
		return domain.Token{}, fmt.Errorf("amocrm: exchange code: %w", err)
	}
	c.remember(t)
	return t, nil
}

// SaveTokens stores a pair (after ExchangeCode) and makes the client use it.
func (c *Client) SaveTokens(ctx context.Context, t domain.Token) error {
	if t.AccessToken == "" {
		return fmt.Errorf("amocrm: save tokens: empty access token: %w", domain.ErrBadRequest)
	}
	if err := c.cfg.Tokens.SaveToken(ctx, service, t); err != nil {
		return fmt.Errorf("amocrm: save tokens: %w", err)
	}
	c.tokMu.Lock()
	c.setToken(t)
	c.tokMu.Unlock()
	return nil
}

type tokenResponse struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// tokenCall posts to /oauth2/access_token through the limiter. It is
// never repeated after an unknown outcome (the refresh token may be
// spent); a 429 is retried, since nothing was applied. Its bodies are
// never logged.
func (c *Client) tokenCall(ctx context.Context, grant map[string]string) (domain.Token, error) {
	body := map[string]string{
		"client_id":     c.cfg.ClientID,
		"client_secret": c.cfg.ClientSecret,
		"redirect_uri":  c.cfg.RedirectURI,
	}
	for k, v := range grant {
		body[k] = v
	}
	payload, err := json.Marshal(body)
	if err != nil {
		return domain.Token{}, err
	}
	cl := call{op: "token", method: http.MethodPost, path: "/oauth2/access_token"}
	failures := 0
	for {
		res, err := c.send(ctx, cl.method, c.baseURL()+cl.path, cl.path, payload, "")
		if err != nil {
			return domain.Token{}, &APIError{Method: cl.method, Path: cl.path, Kind: domain.ErrTransient, Err: err}
		}
		switch st := res.status; {
		case st >= 200 && st < 300:
			var tr tokenResponse
			if err := json.Unmarshal(res.body, &tr); err != nil || tr.AccessToken == "" {
				e := res.apiError(cl, domain.ErrTransient)
				e.Err = errors.New("malformed token answer")
				return domain.Token{}, e
			}
			if tr.ExpiresIn <= 0 {
				tr.ExpiresIn = 86400
			}
			return domain.Token{AccessToken: tr.AccessToken, RefreshToken: tr.RefreshToken,
				ExpiresAt: c.now().Unix() + tr.ExpiresIn}, nil
		case st == http.StatusTooManyRequests:
			c.n429.Add(1)
			if failures >= c.retries {
				return domain.Token{}, res.apiError(cl, domain.ErrTransient)
			}
			failures++
			c.lim.Pause(c.delay(failures, min429Pause))
		case st == http.StatusForbidden && res.isHTML():
			c.recordBan(ctx)
			e := res.apiError(cl, domain.ErrBanned)
			e.Detail = msgBanned
			return domain.Token{}, e
		case st == http.StatusBadRequest, st == http.StatusUnauthorized:
			// A revoked or reused refresh token, a wrong client, an
			// expired code: only a new authorisation helps.
			e := res.apiError(cl, domain.ErrAuth)
			e.Detail = strings.TrimSpace(msgReauth + ": " + e.Detail)
			return domain.Token{}, e
		default:
			return domain.Token{}, res.apiError(cl, kindFor(st))
		}
	}
}
