package amocrm_test

import (
	"errors"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/ratelimit"
)

// A client with MaxWait (the OAuth callback's) fails at once when the
// shared pace is held far ahead, sends nothing and leaves the pace as it
// was: a code exchange never queues behind a sync.
func TestMaxWait_ExchangeFailsFastWhenThePaceIsAhead(t *testing.T) {
	h := newHarness(t)
	h.authorized()
	cfg := h.config()
	path := t.TempDir() + "/amocrm_rate"
	ratelimit.New(path, 1000).Pause(time.Minute) // a sync's 429 pause, in another process
	cfg.Limiter = ratelimit.New(path, 1000)
	cfg.MaxWait = time.Second
	c := h.client(cfg)
	_, err := c.ExchangeCode(ctxT(t), h.fake.IssueCode())
	if !errors.Is(err, ratelimit.ErrNoSlot) || !errors.Is(err, domain.ErrTransient) || !errors.Is(err, domain.ErrNotSent) {
		t.Fatalf("got %v, want a transient ErrNoSlot that says nothing was sent", err)
	}
	if _, err := c.Users(ctxT(t)); !errors.Is(err, ratelimit.ErrNoSlot) {
		t.Fatalf("GET: got %v, want ErrNoSlot without retries", err)
	}
	if n := len(h.fake.Requests()); n != 0 || c.Requests() != 0 {
		t.Fatalf("the fake saw %d requests, the client sent %d", n, c.Requests())
	}
}

// A sync run's bound (domain.WithWaitBound) refuses a slot past it.
func TestWaitBound_RefusesSlotsPastTheRunDeadline(t *testing.T) {
	h := newHarness(t)
	h.authorized()
	cfg := h.config()
	cfg.Limiter.Pause(time.Minute)
	c := h.client(cfg)
	ctx := domain.WithWaitBound(ctxT(t), time.Now().Add(time.Second))
	if _, err := c.SearchContacts(ctx, "7011234567"); !errors.Is(err, ratelimit.ErrNoSlot) {
		t.Fatalf("got %v, want ErrNoSlot", err)
	}
	if n := len(h.fake.Requests()); n != 0 {
		t.Fatalf("the fake saw %d requests", n)
	}
}
