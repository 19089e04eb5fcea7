package amocrm_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/ratelimit"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

// tokenDB is what the client keeps in the database.
type tokenDB interface {
	domain.TokenStore
	domain.Settings
}

// harness is one fake account, one database and clients of it.
type harness struct {
	t       *testing.T
	fake    *amofake.Server
	srv     *httptest.Server
	baseURL string // the fake's address (srv.URL when it has a server)
	db      tokenDB
	lockDir string
	logs    *syncBuffer

	mu     sync.Mutex
	bodies []sentBody // request bodies as the server received them
}

type sentBody struct{ path, body string }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newHarness starts a fake account without a rate limit (fast tests) and
// a fresh SQLite database.
func newHarness(t *testing.T) *harness {
	return newHarnessWith(t, "sqlite", amofake.Options{RPS: -1})
}

func newHarnessWith(t *testing.T, driver string, opts amofake.Options) *harness {
	t.Helper()
	h := &harness{t: t, fake: amofake.New(opts), db: openDB(t, driver), lockDir: t.TempDir(), logs: &syncBuffer{}}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			b, _ := io.ReadAll(r.Body)
			h.mu.Lock()
			h.bodies = append(h.bodies, sentBody{path: r.URL.Path, body: string(b)})
			h.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		h.fake.ServeHTTP(w, r)
	}))
	t.Cleanup(h.srv.Close)
	h.baseURL = h.srv.URL
	return h
}

// config is a fast client configuration for the harness.
func (h *harness) config() amocrm.Config {
	return amocrm.Config{
		BaseURL:      h.baseURL,
		ClientID:     amofake.DefaultClientID,
		ClientSecret: amofake.DefaultClientSecret,
		RedirectURI:  amofake.DefaultRedirectURI,
		Tokens:       h.db,
		Settings:     h.db,
		Limiter:      ratelimit.New("", 1000),
		LockDir:      h.lockDir,
		HTTPClient:   &http.Client{Timeout: 5 * time.Second},
		Logger:       slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Retries:      3,
		BackoffBase:  time.Millisecond,
	}
}

func (h *harness) client(cfg amocrm.Config) *amocrm.Client {
	h.t.Helper()
	c, err := amocrm.New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

// authorized stores a fresh token pair, as after the OAuth callback, and
// returns a client using it.
func (h *harness) authorized() (*amocrm.Client, domain.Token) {
	h.t.Helper()
	tok := h.issue()
	if err := h.db.SaveToken(context.Background(), "amocrm", tok); err != nil {
		h.t.Fatal(err)
	}
	return h.client(h.config()), tok
}

func (h *harness) issue() domain.Token {
	access, refresh, exp := h.fake.IssueTokens()
	return domain.Token{AccessToken: access, RefreshToken: refresh, ExpiresAt: exp.Unix()}
}

func (h *harness) storedToken() domain.Token {
	h.t.Helper()
	tok, err := h.db.Token(context.Background(), "amocrm")
	if err != nil {
		h.t.Fatal(err)
	}
	return tok
}

// requests counts the requests the fake saw for method and path.
func (h *harness) requests(method, path string) int {
	n := 0
	for _, r := range h.fake.Requests() {
		if r.Method == method && r.Path == path {
			n++
		}
	}
	return n
}

func (h *harness) allBodies() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b bytes.Buffer
	for _, s := range h.bodies {
		b.WriteString(s.body)
		b.WriteByte('\n')
	}
	return b.String()
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeOpts is a fake account without a rate limit.
func fakeOpts() amofake.Options { return amofake.Options{RPS: -1} }

// lastBody is the last request body sent to path.
func (h *harness) lastBody(path string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	body := ""
	for _, b := range h.bodies {
		if b.path == path {
			body = b.body
		}
	}
	return body
}

// bodiesTo lists the request bodies sent to path, in order.
func (h *harness) bodiesTo(path string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, b := range h.bodies {
		if b.path == path && b.body != "" {
			out = append(out, b.body)
		}
	}
	return out
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
