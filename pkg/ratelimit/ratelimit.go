// Package ratelimit paces requests evenly (no burst) at a fixed rate, and
// keeps that pace across processes: the time of the last granted request
// and any pause are kept in a small state file guarded by a file lock, so a
// run that starts right after another waits out the previous run's pace
// instead of bursting.
//
// Time is read only through the time package (time.Now, timers), so the
// tests run the limiter in testing/synctest's simulated clock: they assert
// exact slots and cannot flake on a loaded machine.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// slack widens every interval a little. Requests reach the server a few
// milliseconds after their slot (scheduler wake-up, connection reuse), and a
// server that counts requests in any 1-second window would see N+1 requests
// if N intervals added up to exactly one second.
const slack = 60 * time.Millisecond

// Limiter grants one request at a time, at most rps per second, evenly
// spaced. It is safe for concurrent use; two Limiters (in one or several
// processes) on the same path share one pace.
type Limiter struct {
	path     string // state file; "" keeps the state in memory only
	interval time.Duration

	sem  chan struct{} // serialises waiters of this process
	lock *flock.Flock  // guards the state file against other processes

	mu          sync.Mutex // guards the fields below
	last        time.Time  // the last granted slot (in-memory mode and cache)
	pausedUntil time.Time
	pauseCh     chan struct{} // closed and replaced on every Pause
}

// New returns a limiter at rps requests per second whose state is kept in
// path (created when missing; its directory must exist). rps <= 0 means 1.
// A server counting any 1-second window never sees more than rps.
func New(path string, rps float64) *Limiter {
	if rps <= 0 {
		rps = 1
	}
	return newLimiter(path, time.Duration((float64(time.Second)+float64(slack))/rps))
}

// NewUnder returns a limiter paced at rps whose server allows ceiling
// requests in any 1-second window. The slack is needed only where the pace
// would reach the ceiling: at 6 per second under a ceiling of 7 the
// requests are spaced exactly 1/6 s apart, at 7 under 7 a little wider.
func NewUnder(path string, rps, ceiling float64) *Limiter {
	if rps <= 0 {
		rps = 1
	}
	if ceiling > 0 && rps > ceiling {
		rps = ceiling
	}
	if ceiling <= 0 {
		ceiling = rps
	}
	interval := max(time.Duration(float64(time.Second)/rps),
		time.Duration((float64(time.Second)+float64(slack))/ceiling))
	return newLimiter(path, interval)
}

func newLimiter(path string, interval time.Duration) *Limiter {
	l := &Limiter{
		path:     path,
		interval: interval,
		sem:      make(chan struct{}, 1),
		pauseCh:  make(chan struct{}),
	}
	if path != "" {
		l.lock = flock.New(path + ".lock")
	}
	return l
}

// Interval is the spacing between two granted requests.
func (l *Limiter) Interval() time.Duration { return l.interval }

// ErrNoSlot is returned by WaitBy when no slot is free before the caller's
// bound. Nothing was reserved: a refused caller does not push the pace of
// the others.
var ErrNoSlot = errors.New("ratelimit: no free slot before the deadline")

// Wait blocks until the caller may send one request, or ctx is done.
func (l *Limiter) Wait(ctx context.Context) error { return l.WaitBy(ctx, time.Time{}) }

// WaitBy is Wait bounded by a time: when the next free slot (or the turn
// of this caller among the waiters of this process) comes after by, it
// returns ErrNoSlot without reserving anything, as soon as that is known.
// A zero by means no bound.
func (l *Limiter) WaitBy(ctx context.Context, by time.Time) error {
	var late <-chan time.Time
	if !by.IsZero() {
		d := time.Until(by)
		if d < 0 {
			return ErrNoSlot
		}
		t := time.NewTimer(d)
		defer t.Stop()
		late = t.C
	}
	select {
	case l.sem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-late:
		return ErrNoSlot
	}
	defer func() { <-l.sem }()

	for {
		l.mu.Lock()
		pauseCh := l.pauseCh
		l.mu.Unlock()

		slot, ok, err := l.reserve(by)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNoSlot
		}
		d := time.Until(slot)
		if d <= 0 {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-pauseCh:
			// A 429 arrived while we slept: the reserved slot may fall
			// inside the pause. Reserve again; the wasted slot only
			// widens a gap.
			t.Stop()
		}
	}
}

// Pause holds every request of this process, and of any process sharing the
// state file, for at least d from now.
func (l *Limiter) Pause(d time.Duration) {
	until := time.Now().Add(d)
	l.mu.Lock()
	if until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
	close(l.pauseCh)
	l.pauseCh = make(chan struct{})
	l.mu.Unlock()
	// Best effort: a failure to record the pause in the file still pauses
	// this process; the next Wait surfaces a persistent file problem.
	_ = l.update(func(st *state) {
		if until.After(st.pausedUntil) {
			st.pausedUntil = until
		}
	})
}

// PausedUntil reports until when requests are held (zero when not paused).
func (l *Limiter) PausedUntil() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.pausedUntil
}

// reserve takes the next free slot and records it as the last request.
// When by is set and the slot comes later, nothing is recorded (ok false).
func (l *Limiter) reserve(by time.Time) (slot time.Time, ok bool, err error) {
	err = l.update(func(st *state) {
		now := time.Now()
		slot = now
		if next := st.last.Add(l.interval); next.After(slot) {
			slot = next
		}
		if st.pausedUntil.After(slot) {
			slot = st.pausedUntil
		}
		if !by.IsZero() && slot.After(by) {
			return
		}
		ok = true
		st.last = slot
	})
	return slot, ok, err
}

type state struct {
	last        time.Time
	pausedUntil time.Time
}

// update runs fn on the shared state: under the file lock when there is a
// state file, merged with what this process knows (a pause recorded here
// holds even if the file could not be written).
func (l *Limiter) update(fn func(*state)) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := state{last: l.last, pausedUntil: l.pausedUntil}
	if l.path == "" {
		fn(&st)
		l.last, l.pausedUntil = st.last, st.pausedUntil
		return nil
	}
	if err := l.lock.Lock(); err != nil {
		return fmt.Errorf("ratelimit: lock %s: %w", l.lock.Path(), err)
	}
	defer l.lock.Unlock()
	fromFile, err := readState(l.path)
	if err != nil {
		return err
	}
	if fromFile.last.After(st.last) {
		st.last = fromFile.last
	}
	if fromFile.pausedUntil.After(st.pausedUntil) {
		st.pausedUntil = fromFile.pausedUntil
	}
	// A state file written by a clock far in the future (a wrong clock,
	// a hand edit) must not stall the process for ever.
	now := time.Now()
	if limit := now.Add(time.Hour); st.last.After(limit) {
		st.last = now
	}
	if limit := now.Add(time.Hour); st.pausedUntil.After(limit) {
		st.pausedUntil = limit
	}
	fn(&st)
	l.last, l.pausedUntil = st.last, st.pausedUntil
	return writeState(l.path, st)
}

// The state file holds two unix-nanosecond numbers: the last granted slot
// and the end of the current pause.
func readState(path string) (state, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return state{}, nil
	}
	if err != nil {
		return state{}, fmt.Errorf("ratelimit: read %s: %w", path, err)
	}
	var st state
	f := strings.Fields(string(b))
	// A torn or foreign file is treated as empty: the worst case is one
	// request sent a little early, never a stuck limiter.
	if len(f) >= 1 {
		if n, err := strconv.ParseInt(f[0], 10, 64); err == nil && n > 0 {
			st.last = time.Unix(0, n)
		}
	}
	if len(f) >= 2 {
		if n, err := strconv.ParseInt(f[1], 10, 64); err == nil && n > 0 {
			st.pausedUntil = time.Unix(0, n)
		}
	}
	return st, nil
}

func writeState(path string, st state) error {
	var last, paused int64
	if !st.last.IsZero() {
		last = st.last.UnixNano()
	}
	if !st.pausedUntil.IsZero() {
		paused = st.pausedUntil.UnixNano()
	}
	data := strconv.FormatInt(last, 10) + " " + strconv.FormatInt(paused, 10) + "\n"
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		return fmt.Errorf("ratelimit: write %s: %w", path, err)
	}
	return nil
}
