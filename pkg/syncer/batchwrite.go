package syncer

import (
	"context"
	"errors"
	"fmt"

	"kaspi-amocrm/pkg/domain"
)

// outcome is what an amoCRM write's error means to the run. Every bulk
// write classifies its errors with classify, so they all agree.
type outcome int

const (
	applied   outcome = iota // no error
	stopRun                  // fatal: the run stops
	notNow                   // transient: tried again by a later run
	refusedIt                // amoCRM refused the request
)

func classify(err error) outcome {
	switch {
	case err == nil:
		return applied
	case fatal(err):
		return stopRun
	case errors.Is(err, domain.ErrTransient):
		return notNow
	}
	return refusedIt
}

// batchWrite is one bulk amoCRM write and its fallback. The batch is sent
// at once; when amoCRM refuses it, the members whose deal was deleted are
// dropped and the rest is sent one by one, so that one bad member is
// refused alone (a 400 applies nothing). A member that is alone and still
// live is not sent again: its refusal is already known.
type batchWrite[T any] struct {
	what string                 // the request in a fatal error: "add notes"
	send func([]T) error        // one request for the members
	live func([]T) ([]T, error) // the members whose deal still exists
	done func([]T) error        // the members were applied
	// transient is told once per request that failed for a while; later
	// then gets each of that request's members (retried by a later run).
	transient func(error)
	later     func(T, error)
	refused   func(T, error) error // amoCRM refused this member alone
}

func (b batchWrite[T]) run(batch []T) error {
	if len(batch) == 0 {
		return nil
	}
	err := b.send(batch)
	switch classify(err) {
	case applied:
		return b.done(batch)
	case stopRun:
		return fmt.Errorf("amocrm: %s: %w", b.what, err)
	case notNow:
		b.postpone(batch, err)
		return nil
	}
	live, lerr := b.live(batch)
	if lerr != nil {
		return lerr
	}
	for _, x := range live {
		if len(batch) > 1 || len(live) < len(batch) {
			err = b.send([]T{x})
		}
		switch classify(err) {
		case applied:
			if err := b.done([]T{x}); err != nil {
				return err
			}
		case stopRun:
			return fmt.Errorf("amocrm: %s: %w", b.what, err)
		case notNow:
			b.postpone([]T{x}, err)
		default:
			if err := b.refused(x, err); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b batchWrite[T]) postpone(xs []T, err error) {
	if b.transient != nil {
		b.transient(err)
	}
	for _, x := range xs {
		b.later(x, err)
	}
}

// inBatches calls write with consecutive slices of xs of at most
// domain.MaxBatch members.
func inBatches[T any](xs []T, write func([]T) error) error {
	for len(xs) > 0 {
		n := min(len(xs), domain.MaxBatch)
		if err := write(xs[:n]); err != nil {
			return err
		}
		xs = xs[n:]
	}
	return nil
}

// listChunks lists one state's orders of a store created in [from, to],
// each stamped with the store, and hands them to handle ingestChunk at a
// time. keep (nil: all) drops orders before they are buffered. A fatal
// listing error comes back wrapped with the state; the ledger's as is.
func (r *run) listChunks(ctx context.Context, st Store, state string, from, to int64, keep func(domain.Order) bool, handle func([]domain.Order) error) error {
	var buf []domain.Order
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		err := handle(buf)
		buf = buf[:0]
		return err
	}
	err := r.kaspiOf(st.No).ListOrders(ctx, state, from, to, func(o domain.Order) error {
		if keep != nil && !keep(o) {
			return nil
		}
		o.StoreNo = st.No
		buf = append(buf, o)
		if len(buf) >= ingestChunk {
			return flush()
		}
		return nil
	})
	if ferr := flush(); ferr != nil && err == nil {
		err = ferr
	}
	var le ledgerErr
	if err != nil && fatal(err) && !errors.As(err, &le) {
		return fmt.Errorf("kaspi: list %s orders: %w", state, err)
	}
	return err
}
