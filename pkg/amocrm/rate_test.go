package amocrm_test

import (
	"sync"
	"testing"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

// The one test at the real limit: 40 concurrent calls through one client
// never put more than AMO_MAX_RPS requests into any second, as the fake
// (7 per second, like amoCRM) measures them.
func TestRateLimit_FortyConcurrentCallsStayUnderMaxRPS(t *testing.T) {
	if testing.Short() {
		t.Skip("runs at the real 7 requests per second")
	}
	h := newHarnessWith(t, "sqlite", amofake.Options{RPS: amocrm.MaxRPS})
	h.authorized()
	cfg := h.config()
	cfg.Limiter = amocrm.NewLimiter(t.TempDir(), 100) // capped at MaxRPS
	c := h.client(cfg)
	ctx := ctxT(t)

	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := c.SearchContacts(ctx, "7011234567"); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := h.fake.MaxPerSecond(); got > amocrm.MaxRPS {
		t.Fatalf("the fake saw %d requests in one second; limit %d", got, amocrm.MaxRPS)
	}
	if c.Count429() != 0 || h.fake.Count429() != 0 {
		t.Fatalf("429s: client %d, fake %d", c.Count429(), h.fake.Count429())
	}
	if c.Requests() != 40 {
		t.Fatalf("client sent %d requests; want 40", c.Requests())
	}
}
