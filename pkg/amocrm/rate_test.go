package amocrm_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

// handlerTransport hands each request straight to the fake's handler in
// the caller's goroutine: no socket, so a synctest bubble can tell when
// every goroutine waits on the limiter and move its clock.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Host == "" {
		r.Host = r.URL.Host
	}
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	res := rec.Result()
	res.Request = r
	return res, nil
}

// The one test at the real limit: 40 concurrent calls through one client
// never put more than AMO_MAX_RPS requests into any second, as the fake
// (7 per second, like amoCRM) measures them. It runs in a synctest bubble:
// the limiter, the client and the fake all read the simulated clock, so
// the seconds are exact and a loaded machine (a -race run) cannot bunch
// the requests up.
func TestRateLimit_FortyConcurrentCallsStayUnderMaxRPS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// No httptest server: its accept loop would block on a socket,
		// which the bubble cannot see through.
		h := &harness{t: t, fake: amofake.New(amofake.Options{RPS: amocrm.MaxRPS}), db: openDB(t, "sqlite"),
			baseURL: "http://amocrm.fake", lockDir: t.TempDir(), logs: &syncBuffer{}}
		h.authorized()
		cfg := h.config()
		cfg.HTTPClient = &http.Client{Transport: handlerTransport{h.fake}}
		cfg.Limiter = amocrm.NewLimiter(t.TempDir(), 100) // capped at MaxRPS
		c := h.client(cfg)

		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for i := 0; i < 40; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := c.SearchContacts(context.Background(), "7011234567"); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if got := h.fake.MaxPerSecond(); got != amocrm.MaxRPS {
			t.Fatalf("the fake saw at most %d requests in one second; want exactly the limit %d (no more, and the pace used)", got, amocrm.MaxRPS)
		}
		if c.Count429() != 0 || h.fake.Count429() != 0 {
			t.Fatalf("429s: client %d, fake %d", c.Count429(), h.fake.Count429())
		}
		if c.Requests() != 40 {
			t.Fatalf("client sent %d requests; want 40", c.Requests())
		}
	})
}
