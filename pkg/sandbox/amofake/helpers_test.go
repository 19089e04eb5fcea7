package amofake_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"kaspi-amocrm/pkg/sandbox/amofake"
)

// fake is a running fake account with a valid access token.
type fake struct {
	t     *testing.T
	srv   *amofake.Server
	http  *httptest.Server
	token string
}

// newFake starts a fake without a rate limit unless opts say otherwise.
func newFake(t *testing.T, opts amofake.Options) *fake {
	t.Helper()
	if opts.RPS == 0 {
		opts.RPS = -1
	}
	s := amofake.New(opts)
	h := httptest.NewServer(s)
	t.Cleanup(h.Close)
	access, _, _ := s.IssueTokens()
	return &fake{t: t, srv: s, http: h, token: access}
}

// resp is a decoded answer.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v: %s", r.status, err, r.body)
	}
	return m
}

// call sends a request with the fake's bearer token.
func (f *fake) call(method, path, body string) resp {
	f.t.Helper()
	return f.callToken(f.token, method, path, body)
}

func (f *fake) callToken(token, method, path, body string) resp {
	f.t.Helper()
	req, err := http.NewRequest(method, f.http.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := f.http.Client().Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// mustStatus fails the test unless r has the status.
func mustStatus(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
}

// embedded returns _embedded[entity] of a HAL answer.
func embedded(t *testing.T, r resp, entity string) []map[string]any {
	t.Helper()
	mustStatus(t, r, http.StatusOK)
	emb, _ := r.json(t)["_embedded"].(map[string]any)
	raw, _ := emb[entity].([]any)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i], _ = x.(map[string]any)
	}
	return out
}

// validationErrors flattens a 400 validation-errors answer to
// request_id -> "code path" entries.
func validationErrors(t *testing.T, r resp) map[string][]string {
	t.Helper()
	mustStatus(t, r, http.StatusBadRequest)
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("content type %q", ct)
	}
	var body struct {
		Items []struct {
			RequestID string `json:"request_id"`
			Errors    []struct{ Code, Path string }
		} `json:"validation-errors"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, it := range body.Items {
		for _, e := range it.Errors {
			out[it.RequestID] = append(out[it.RequestID], e.Code+" "+e.Path)
		}
	}
	return out
}

func hasEntry(list []string, want string) bool {
	for _, x := range list {
		if x == want {
			return true
		}
	}
	return false
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// idOf returns the id of the first created entity of a batch answer.
func idOf(t *testing.T, r resp, entity string) int64 {
	t.Helper()
	items := embedded(t, r, entity)
	if len(items) == 0 {
		t.Fatalf("no %s in %s", entity, r.body)
	}
	return int64(items[0]["id"].(float64))
}
