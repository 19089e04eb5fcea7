package status

import (
	"context"
	"time"
)

// RunLog is the run log the report reads. pkg/store satisfies it
// (domain.Ledger includes it).
type RunLog interface {
	StartRun(ctx context.Context, task string, now time.Time) (int64, error)
	FinishRun(ctx context.Context, id int64, ok bool, summary string, now time.Time) error
}

// TrackRun records one run of task around fn: started before, finished
// after with fn's outcome — its summary line on success, the error text on
// failure. A run that crashes stays "not finished", which the report shows.
// The run log is bookkeeping: failing to write it never fails the run; the
// returned error is fn's.
func TrackRun(ctx context.Context, log RunLog, task string, clock func() time.Time, fn func() (summary string, err error)) error {
	if clock == nil {
		clock = time.Now
	}
	id, startErr := log.StartRun(ctx, task, clock())
	summary, err := fn()
	if startErr != nil {
		return err
	}
	ok := err == nil
	if !ok {
		summary = err.Error()
	}
	// The run's own context may be spent (time budget, signal): the
	// outcome is still worth recording.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	_ = log.FinishRun(fctx, id, ok, summary, clock())
	return err
}
