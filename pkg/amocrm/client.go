// Package amocrm is the amoCRM (Kommo) API v4 client the sync engine uses:
// OAuth tokens kept in the database and refreshed under a lock (refresh
// tokens are single-use), one rate limiter for every request of the
// process and across processes, back-off on 429, a circuit breaker on a 403
// ban, 204 as an empty result, batch calls of at most domain.MaxBatch items
// and per-request_id validation errors.
package amocrm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/ratelimit"
)

// Rate limits (requests per second) of AMO_MAX_RPS.
const (
	DefaultRPS = 6
	MaxRPS     = 7 // the documented ceiling
)

const (
	service          = domain.TokenServiceAmo // oauth_tokens.service
	refreshMargin    = 10 * time.Minute
	banDuration      = 30 * time.Minute
	min429Pause      = time.Second
	maxBackoff       = 60 * time.Second
	maxBody          = 32 << 20
	maxPages         = 10000
	keyBannedUntil   = domain.SettingAmoBannedUntil // unix seconds
	keyEnvTokenHash  = "amocrm_env_token_hash"      // sha256 of the last imported .env pair
	tokenLockName    = "amocrm_token.lock"
	rateStateName    = "amocrm_rate"
	defaultRetries   = 4
	defaultBackoff   = 500 * time.Millisecond
	defaultTimeout   = 30 * time.Second
	userAgent        = "kaspi-amocrm"
	envExpiresAtZero = time.Hour // AMO_EXPIRES_AT=0 means "now + 1 h", as the PHP version did
)

// Config configures a Client. Only mains read the environment; they fill
// this from the app config.
type Config struct {
	// BaseURL is the account's base URL as BaseURL returns it.
	BaseURL string

	ClientID, ClientSecret, RedirectURI string

	// The AMO_ACCESS_TOKEN / AMO_REFRESH_TOKEN / AMO_EXPIRES_AT pair from
	// .env, imported into the token store once (see the package tokens doc).
	EnvAccessToken, EnvRefreshToken string
	EnvExpiresAt                    int64

	Tokens   domain.TokenStore
	Settings domain.Settings

	// Limiter paces every request; nil means NewLimiter(LockDir, DefaultRPS).
	Limiter *ratelimit.Limiter
	// LockDir is the app's storage/ directory, for the refresh file lock.
	// Empty: only the database row lock guards a refresh.
	LockDir string

	HTTPClient *http.Client     // nil: a client with a 30 s timeout
	Logger     *slog.Logger     // nil: discard
	Now        func() time.Time // nil: time.Now

	// Retries bounds the retries of a retryable failure (429, and 5xx or
	// timeouts for GET/PATCH); 0 means 4, negative means none.
	Retries int
	// BackoffBase is the first back-off delay, doubled on every retry
	// (with jitter, capped at 60 s); 0 means 500 ms.
	BackoffBase time.Duration

	// MaxWait, when positive, bounds every wait for a limiter slot: a
	// request whose slot is further away fails at once (a transient error
	// wrapping ratelimit.ErrNoSlot) instead of queueing behind a sync. The
	// OAuth callback uses it. A bound in the context (domain.WithWaitBound)
	// applies too, whichever is earlier.
	MaxWait time.Duration
}

// NewLimiter returns the limiter for AMO_MAX_RPS, its state kept in
// storageDir so that consecutive runs share the pace. rps <= 0 means
// DefaultRPS; more than MaxRPS is capped.
func NewLimiter(storageDir string, rps float64) *ratelimit.Limiter {
	if rps <= 0 {
		rps = DefaultRPS
	}
	if rps > MaxRPS {
		rps = MaxRPS
	}
	path := ""
	if storageDir != "" {
		path = filepath.Join(storageDir, rateStateName)
	}
	return ratelimit.NewUnder(path, rps, MaxRPS)
}

// Client talks to one amoCRM account. It is safe for concurrent use.
type Client struct {
	cfg     Config
	baseMu  sync.Mutex
	base    string // guarded by baseMu: a renamed account moves it
	hc      *http.Client
	log     *slog.Logger
	now     func() time.Time
	lim     *ratelimit.Limiter
	retries int
	backoff time.Duration

	tokMu     sync.Mutex // serialises loading and refreshing the token
	tok       domain.Token
	tokLoaded bool

	secMu   sync.Mutex
	secrets []string // every token this client has held, cut out of logs

	banMu       sync.Mutex
	banChecked  bool
	bannedUntil time.Time

	requests atomic.Int64
	n429     atomic.Int64
}

var _ domain.CRM = (*Client)(nil)

// New builds a client. It makes no request.
func New(cfg Config) (*Client, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if u, err := url.Parse(base); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("amocrm: base URL %q is not an http(s) URL", cfg.BaseURL)
	}
	if cfg.Tokens == nil || cfg.Settings == nil {
		return nil, errors.New("amocrm: a token store and settings are required")
	}
	c := &Client{cfg: cfg, base: base, hc: cfg.HTTPClient, log: cfg.Logger, now: cfg.Now,
		lim: cfg.Limiter, retries: cfg.Retries, backoff: cfg.BackoffBase}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: defaultTimeout}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.lim == nil {
		c.lim = NewLimiter(cfg.LockDir, DefaultRPS)
	}
	if c.retries == 0 {
		c.retries = defaultRetries
	} else if c.retries < 0 {
		c.retries = 0
	}
	if c.backoff <= 0 {
		c.backoff = defaultBackoff
	}
	return c, nil
}

// Requests is how many HTTP requests the client has sent (token calls included).
func (c *Client) Requests() int { return int(c.requests.Load()) }

// Count429 is how many 429 answers the client has received.
func (c *Client) Count429() int { return int(c.n429.Load()) }

// call is one API request.
type call struct {
	op     string // names the operation in errors
	method string
	path   string // below the base URL, starting with /api/v4/
	query  url.Values
	body   any      // JSON-encoded; nil sends no body
	ids    []string // request_ids of the batch, to attribute validation errors
	out    any      // decoded from a 2xx body; untouched on 204
	// token, when set, is used instead of the stored one and never
	// refreshed (checking a freshly exchanged pair).
	token string
}

// do sends a call with the rate limit, token handling, retries and error
// mapping. It returns the HTTP status of the final answer (204 = empty).
func (c *Client) do(ctx context.Context, cl call) (int, error) {
	if err := c.checkBan(ctx); err != nil {
		return 0, err
	}
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return 0, fmt.Errorf("amocrm: %s: encode: %w", cl.op, err)
		}
	}
	suffix := cl.path
	if len(cl.query) > 0 {
		suffix += "?" + cl.query.Encode()
	}
	// Only reads and PATCHes (which set absolute values) may be repeated
	// after an unknown outcome; a POST creates, and amoCRM has no
	// idempotency keys.
	repeatable := cl.method == http.MethodGet || cl.method == http.MethodPatch
	refreshed := false
	failures := 0
	for {
		tok := domain.Token{AccessToken: cl.token}
		if cl.token == "" {
			var err error
			if tok, err = c.accessToken(ctx); err != nil {
				return 0, fmt.Errorf("amocrm: %s: %w", cl.op, err)
			}
		}
		// The base is read after the token: a refresh may have found the
		// account under a renamed subdomain.
		res, err := c.send(ctx, cl.method, c.baseURL()+suffix, cl.path, payload, tok.AccessToken)
		if err != nil {
			apiErr := &APIError{Method: cl.method, Path: cl.path, Kind: domain.ErrTransient, Err: err}
			if repeatable && failures < c.retries && ctx.Err() == nil && !errors.Is(err, ratelimit.ErrNoSlot) {
				failures++
				if err := c.sleep(ctx, c.delay(failures, 0)); err != nil {
					return 0, fmt.Errorf("amocrm: %s: %w", cl.op, apiErr)
				}
				continue
			}
			return 0, fmt.Errorf("amocrm: %s: %w", cl.op, apiErr)
		}

		switch st := res.status; {
		case st == http.StatusNoContent:
			return st, nil
		case st >= 200 && st < 300:
			if cl.out == nil || len(bytes.TrimSpace(res.body)) == 0 {
				return st, nil
			}
			if err := json.Unmarshal(res.body, cl.out); err != nil {
				// A garbled answer leaves the outcome of a create unknown.
				apiErr := res.apiError(cl, domain.ErrTransient)
				apiErr.Err = fmt.Errorf("malformed JSON answer: %w", err)
				if repeatable && failures < c.retries {
					failures++
					if err := c.sleep(ctx, c.delay(failures, 0)); err != nil {
						return 0, fmt.Errorf("amocrm: %s: %w", cl.op, apiErr)
					}
					continue
				}
				return 0, fmt.Errorf("amocrm: %s: %w", cl.op, apiErr)
			}
			return st, nil

		case st == http.StatusUnauthorized:
			if refreshed || cl.token != "" {
				apiErr := res.apiError(cl, domain.ErrAuth)
				apiErr.Detail = msgReauth
				return 0, fmt.Errorf("amocrm: %s: %w", cl.op, apiErr)
			}
			if err := c.onUnauthorized(ctx, tok); err != nil {
				return 0, fmt.Errorf("amocrm: %s: %w", cl.op, err)
			}
			refreshed = true

		case st == http.StatusTooManyRequests:
			// Nothing was applied, so any method may be retried. The pause
			// holds every request of this process (and the next run).
			c.n429.Add(1)
			if failures >= c.retries {
				return 0, fmt.Errorf("amocrm: %s: %w", cl.op, res.apiError(cl, domain.ErrTransient))
			}
			failures++
			c.lim.Pause(c.delay(failures, min429Pause))

		case st == http.StatusForbidden && res.isHTML():
			c.recordBan(ctx)
			apiErr := res.apiError(cl, domain.ErrBanned)
			apiErr.Detail = msgBanned
			return 0, fmt.Errorf("amocrm: %s: %w", cl.op, apiErr)

		case st >= 500:
			apiErr := res.apiError(cl, domain.ErrTransient)
			if repeatable && failures < c.retries {
				failures++
				if err := c.sleep(ctx, c.delay(failures, 0)); err != nil {
					return 0, fmt.Errorf("amocrm: %s: %w", cl.op, apiErr)
				}
				continue
			}
			return 0, fmt.Errorf("amocrm: %s: %w", cl.op, apiErr)

		default:
			apiErr := res.apiError(cl, kindFor(st))
			if st == http.StatusPaymentRequired {
				apiErr.Detail = msgUnpaid
			}
			if st == http.StatusForbidden {
				apiErr.Detail = strings.TrimSuffix(fmt.Sprintf("%s %s %s: %s", msgForbidden, cl.method, cl.path, apiErr.Detail), ": ")
			}
			return 0, fmt.Errorf("amocrm: %s: %w", cl.op, apiErr)
		}
	}
}

// response is a read HTTP answer.
type response struct {
	status      int
	contentType string
	requestID   string
	body        []byte
}

func (r *response) isHTML() bool {
	if strings.Contains(strings.ToLower(r.contentType), "html") {
		return true
	}
	return bytes.HasPrefix(bytes.TrimSpace(r.body), []byte("<"))
}

// apiError describes a non-2xx answer, reading problem+json when present.
func (r *response) apiError(cl call, kind error) *APIError {
	e := &APIError{Status: r.status, Method: cl.method, Path: cl.path, RequestID: r.requestID, Kind: kind}
	if r.isHTML() {
		e.Title = http.StatusText(r.status)
		return e
	}
	if p, ok := parseProblem(r.body); ok {
		e.Title, e.Detail = p.Title, p.Detail
		if e.Detail == "" {
			e.Detail = p.Hint
		}
		if r.status == http.StatusBadRequest && len(p.ValidationErrors) > 0 {
			e.Validation = validationError(p.ValidationErrors, cl.ids)
		}
	}
	if e.Title == "" {
		e.Title = http.StatusText(r.status)
	}
	return e
}

// send waits for the limiter and makes one HTTP request.
func (c *Client) send(ctx context.Context, method, target, logPath string, payload []byte, accessToken string) (*response, error) {
	if err := c.lim.WaitBy(ctx, c.waitBound(ctx)); err != nil {
		if errors.Is(err, ratelimit.ErrNoSlot) {
			// Known outcome: the request never left this process.
			return nil, errors.Join(err, domain.ErrNotSent)
		}
		return nil, err
	}
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if accessToken != "" {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	req.Header.Set("Accept", "application/hal+json, application/json")
	req.Header.Set("User-Agent", userAgent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.requests.Add(1)
	start := c.now()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.log.DebugContext(ctx, "amocrm request failed", "method", method, "path", logPath,
			"error", c.redact(err.Error()))
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	res := &response{status: resp.StatusCode, contentType: resp.Header.Get("Content-Type"),
		requestID: resp.Header.Get("X-Request-Id"), body: b}
	attrs := []any{"method", method, "path", logPath, "status", res.status,
		"ms", c.now().Sub(start).Milliseconds(), "request_bytes", len(payload), "response_bytes", len(b)}
	if res.requestID != "" {
		attrs = append(attrs, "request_id", res.requestID)
	}
	if res.status >= 400 {
		// Error bodies help support; they carry no personal data of ours
		// beyond what we sent, and known secrets are cut out anyway.
		attrs = append(attrs, "body", c.redact(snippet(b)))
	}
	c.log.DebugContext(ctx, "amocrm request", attrs...)
	return res, nil
}

// waitBound is the latest slot a request may take: MaxWait from now, or
// the bound of the context, whichever is earlier; zero for none. The
// limiter keeps real time, so this does too (not the client's clock).
func (c *Client) waitBound(ctx context.Context) time.Time {
	by := domain.WaitBound(ctx)
	if c.cfg.MaxWait > 0 {
		if own := time.Now().Add(c.cfg.MaxWait); by.IsZero() || own.Before(by) {
			by = own
		}
	}
	return by
}

// remember adds a token pair to the secrets cut out of logs.
func (c *Client) remember(t domain.Token) {
	c.secMu.Lock()
	defer c.secMu.Unlock()
	for _, s := range []string{t.AccessToken, t.RefreshToken} {
		if s != "" && len(c.secrets) < 64 {
			c.secrets = append(c.secrets, s)
		}
	}
}

// redact removes every secret the client knows from a text to be logged.
func (c *Client) redact(s string) string {
	c.secMu.Lock()
	secrets := append([]string{c.cfg.ClientSecret, c.cfg.EnvAccessToken, c.cfg.EnvRefreshToken}, c.secrets...)
	c.secMu.Unlock()
	for _, sec := range secrets {
		if len(sec) >= 8 {
			s = strings.ReplaceAll(s, sec, "[redacted]")
		}
	}
	return s
}

func snippet(b []byte) string {
	const n = 512
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// delay is the back-off before retry n (1-based): base·2^(n-1) with ±25%
// jitter, capped, and at least floor.
func (c *Client) delay(n int, floor time.Duration) time.Duration {
	d := c.backoff << (n - 1)
	if d > maxBackoff || d <= 0 {
		d = maxBackoff
	}
	d = time.Duration(float64(d) * (0.75 + rand.Float64()/2))
	if d < floor {
		d = floor
	}
	return d
}

func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkBan fails fast while a recorded ban lasts. The setting is read once
// per client; a ban seen by this client is kept in memory too.
func (c *Client) checkBan(ctx context.Context) error {
	c.banMu.Lock()
	defer c.banMu.Unlock()
	if !c.banChecked {
		v, ok, err := c.cfg.Settings.Setting(ctx, keyBannedUntil)
		if err != nil {
			return fmt.Errorf("amocrm: read %s: %w", keyBannedUntil, err)
		}
		if ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n > 0 {
				c.bannedUntil = time.Unix(n, 0)
			}
		}
		c.banChecked = true
	}
	if c.now().Before(c.bannedUntil) {
		// No request is made: Status stays 0.
		return &APIError{Kind: domain.ErrBanned,
			Detail: msgBanned + " (до " + c.bannedUntil.Format("2006-01-02 15:04:05 MST") + ")"}
	}
	return nil
}

// recordBan opens the circuit breaker for banDuration, in memory and in
// settings so that the next runs keep away too.
func (c *Client) recordBan(ctx context.Context) {
	until := c.now().Add(banDuration)
	c.banMu.Lock()
	c.bannedUntil, c.banChecked = until, true
	c.banMu.Unlock()
	if err := c.cfg.Settings.SetSetting(ctx, keyBannedUntil, itoa(until.Unix())); err != nil {
		c.log.ErrorContext(ctx, "amocrm: cannot record the ban", "error", err)
	}
	c.log.ErrorContext(ctx, "amocrm: access blocked (HTTP 403); no requests until the ban ends",
		"until", until.Format(time.RFC3339))
}

// BannedUntil reports the end of a recorded ban (zero when none is known).
func (c *Client) BannedUntil(ctx context.Context) (time.Time, error) {
	if err := c.checkBan(ctx); err != nil && !errors.Is(err, domain.ErrBanned) {
		return time.Time{}, err
	}
	c.banMu.Lock()
	defer c.banMu.Unlock()
	return c.bannedUntil, nil
}
