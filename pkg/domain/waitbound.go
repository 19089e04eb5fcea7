package domain

import (
	"context"
	"time"
)

type waitBoundKey struct{}

// WithWaitBound marks ctx with the latest time a rate limiter may grant a
// request at: a sync run passes its own deadline, so that a pace pushed far
// ahead (by a 429 pause or other programs) ends the run's calls instead of
// holding the run lock far past its time budget. Unlike a context deadline
// it cancels nothing already under way.
func WithWaitBound(ctx context.Context, by time.Time) context.Context {
	return context.WithValue(ctx, waitBoundKey{}, by)
}

// WaitBound is the bound WithWaitBound set; zero when none.
func WaitBound(ctx context.Context) time.Time {
	by, _ := ctx.Value(waitBoundKey{}).(time.Time)
	return by
}
