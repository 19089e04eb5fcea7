// Package kaspi is the client of the Kaspi Shop Orders API (JSON:API over
// HTTPS, X-Auth-Token). It lists orders in windows of at most 14 days,
// reads every page, loads order lines, looks orders up by code, and turns
// failures into errors that unwrap to the domain error kinds. Retryable
// failures (429, 5xx, timeouts, non-JSON answers) are retried a bounded
// number of times with exponential backoff and jitter.
package kaspi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// DefaultBaseURL is the production API root.
const DefaultBaseURL = "https://kaspi.kz/shop/api/v2"

// mediaType is the JSON:API media type Kaspi expects in Accept and
// Content-Type; without an Accept header it answers an HTML 404.
const mediaType = "application/vnd.api+json"

// defaultUserAgent looks like a browser because some integrators report
// timeouts without one.
const defaultUserAgent = "Mozilla/5.0 (compatible; kaspi-amocrm/1.0)"

// maxBody bounds how much of an answer is read; a page of 100 orders with
// lines is far below it.
const maxBody = 32 << 20

// maxBackoff caps one wait between retries.
const maxBackoff = 30 * time.Second

// Config configures a Client. Zero values get the defaults noted.
type Config struct {
	BaseURL        string        // default DefaultBaseURL
	Token          string        // X-Auth-Token; never logged
	HTTPClient     *http.Client  // default: a client with ConnectTimeout
	Logger         *slog.Logger  // default: discard
	MaxRetries     int           // retries after the first try; 0 → 3, negative → none
	RetryBase      time.Duration // first backoff; 0 → 500ms
	UserAgent      string        // default a browser-like agent
	ConnectTimeout time.Duration // dial + TLS handshake; 0 → 10s (default client only)
	Timeout        time.Duration // whole request incl. body; 0 → 60s
}

// Client talks to the Kaspi Shop API. It is safe for concurrent use.
type Client struct {
	base       string
	token      string
	hc         *http.Client
	log        *slog.Logger
	maxRetries int
	retryBase  time.Duration
	userAgent  string
	timeout    time.Duration
	requests   atomic.Int64
}

var _ domain.OrderSource = (*Client)(nil)

// New returns a client for cfg.
func New(cfg Config) *Client {
	c := &Client{
		base:       strings.TrimRight(cfg.BaseURL, "/"),
		token:      cfg.Token,
		hc:         cfg.HTTPClient,
		log:        cfg.Logger,
		maxRetries: cfg.MaxRetries,
		retryBase:  cfg.RetryBase,
		userAgent:  cfg.UserAgent,
		timeout:    cfg.Timeout,
	}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.maxRetries == 0:
		c.maxRetries = 3
	case c.maxRetries < 0:
		c.maxRetries = 0
	}
	if c.retryBase <= 0 {
		c.retryBase = 500 * time.Millisecond
	}
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent
	}
	if c.timeout <= 0 {
		c.timeout = 60 * time.Second
	}
	if c.hc == nil {
		connect := cfg.ConnectTimeout
		if connect <= 0 {
			connect = 10 * time.Second
		}
		c.hc = &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: connect, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout:   connect,
			ResponseHeaderTimeout: c.timeout,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		}}
	}
	return c
}

// Requests returns how many HTTP requests the client has sent (retries
// included).
func (c *Client) Requests() int { return int(c.requests.Load()) }

// get sends a GET to path (relative to the base, already escaped) with the
// query, retrying retryable failures, and returns the 200 body, which is
// known to be JSON.
func (c *Client) get(ctx context.Context, op, path string, query string) ([]byte, error) {
	u := c.base + path
	if query != "" {
		u += "?" + query
	}
	var last *APIError
	for attempt := 0; ; attempt++ {
		body, apiErr := c.try(ctx, op, u)
		if apiErr == nil {
			return body, nil
		}
		last = apiErr
		if !apiErr.Retryable() || attempt >= c.maxRetries || ctx.Err() != nil {
			break
		}
		wait := c.backoff(attempt)
		c.log.Warn("kaspi: retrying", "op", op, "status", apiErr.Status,
			"error", apiErr.Error(), "attempt", attempt+1, "wait", wait)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("kaspi: %s: %w", op, ctx.Err())
		case <-t.C:
		}
	}
	if err := ctx.Err(); err != nil && errors.Is(last.Err, err) {
		// The caller gave up; report that, not a transient failure.
		return nil, fmt.Errorf("kaspi: %s: %w", op, err)
	}
	return nil, last
}

// backoff is RetryBase·2^attempt with full jitter over its upper half.
func (c *Client) backoff(attempt int) time.Duration {
	d := c.retryBase << min(attempt, 20)
	if d <= 0 || d > maxBackoff {
		d = maxBackoff
	}
	half := d / 2
	return half + rand.N(half+1)
}

// try sends one request and classifies the answer.
func (c *Client) try(ctx context.Context, op, u string) ([]byte, *APIError) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &APIError{Op: op, Kind: domain.ErrBadRequest, Err: err}
	}
	req.Header.Set("X-Auth-Token", c.token)
	req.Header.Set("Accept", mediaType)
	req.Header.Set("Content-Type", mediaType)
	req.Header.Set("User-Agent", c.userAgent)

	start := time.Now()
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		c.log.Debug("kaspi: request failed", "op", op, "error", err, "duration", time.Since(start))
		return nil, &APIError{Op: op, Kind: domain.ErrTransient, Err: stripURL(err)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	c.log.Debug("kaspi: request", "op", op, "status", resp.StatusCode,
		"bytes", len(body), "duration", time.Since(start))
	if err != nil {
		return nil, &APIError{Op: op, Status: resp.StatusCode, Kind: domain.ErrTransient, Err: stripURL(err)}
	}
	return body, classify(op, resp.StatusCode, body)
}

// classify maps an answer to nil (a 200 with JSON) or an *APIError.
func classify(op string, status int, body []byte) *APIError {
	isJSON := json.Valid(body)
	e := &APIError{Op: op, Status: status}
	if !isJSON && !looksLikeJSON(body) {
		// An HTML page of a proxy or a WAF: its first bytes help. A cut
		// JSON page holds buyers' data and is never quoted.
		e.Body = snippet(body)
	} else if title, ok := errorTitle(body); ok {
		e.Title = title
	}
	switch {
	case status == http.StatusForbidden && !isJSON:
		// An HTML 403 comes from a firewall or an IP block in front of
		// the API, not from the API judging the token.
		e.Kind, e.Blocked = domain.ErrTransient, true
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Kind = domain.ErrAuth
	case status == http.StatusTooManyRequests || status >= 500:
		e.Kind = domain.ErrTransient
	case !isJSON:
		// An HTML page or a cut-off body: a proxy, a WAF or a broken
		// answer, not a verdict of the API on our request.
		e.Kind = domain.ErrTransient
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusNotFound:
		e.Kind = domain.ErrNotFound
	default:
		e.Kind = domain.ErrBadRequest
	}
	return e
}

// looksLikeJSON reports whether body starts like a JSON document.
func looksLikeJSON(body []byte) bool {
	for _, c := range body {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{', '[':
			return true
		}
		return false
	}
	return false
}

// stripURL drops the *url.Error wrapper so errors stay short; the URL
// carries no secret (the token travels in a header) but repeats the op.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}
