package ratelimit

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Every test that waits runs inside a synctest bubble: time.Now and the
// limiter's timers follow a simulated clock that jumps ahead only when every
// goroutine of the test is blocked, so a second of pacing costs no real time
// and a loaded machine cannot stretch a gap.

// maxInWindow is the most timestamps found in any half-open window of
// length w.
func maxInWindow(ts []time.Time, w time.Duration) int {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= w {
			j++
		}
		if n := i - j + 1; n > best {
			best = n
		}
	}
	return best
}

// fire runs n goroutines, each waiting on one of the limiters in turn and
// recording when it was let through; the times come back sorted.
func fire(t *testing.T, n int, ls ...*Limiter) []time.Time {
	t.Helper()
	var (
		mu sync.Mutex
		ts []time.Time
		wg sync.WaitGroup
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(l *Limiter) {
			defer wg.Done()
			if err := l.Wait(context.Background()); err != nil {
				t.Error(err)
				return
			}
			now := time.Now()
			mu.Lock()
			ts = append(ts, now)
			mu.Unlock()
		}(ls[i%len(ls)])
	}
	wg.Wait()
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	return ts
}

// evenlySpaced fails unless consecutive grants are exactly interval apart.
func evenlySpaced(t *testing.T, ts []time.Time, interval time.Duration) {
	t.Helper()
	for i := 1; i < len(ts); i++ {
		if gap := ts[i].Sub(ts[i-1]); gap != interval {
			t.Fatalf("grant %d came %v after the previous one, want exactly %v", i, gap, interval)
		}
	}
}

func TestWait_FortyGoroutinesNeverExceedRateInAnySecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rps = 20
		l := New(filepath.Join(t.TempDir(), "amo.rate"), rps)
		ts := fire(t, 40, l)
		if len(ts) != 40 {
			t.Fatalf("granted %d of 40", len(ts))
		}
		if got := maxInWindow(ts, time.Second); got > rps {
			t.Fatalf("%d requests in one second, limit %d", got, rps)
		}
		evenlySpaced(t, ts, l.Interval())
	})
}

func TestWait_TwoProcessesOnOneFileShareTheRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rps = 20
		path := filepath.Join(t.TempDir(), "amo.rate")
		a, b := New(path, rps), New(path, rps)
		ts := fire(t, 40, a, b)
		if got := maxInWindow(ts, time.Second); got > rps {
			t.Fatalf("%d requests in one second from two limiters, limit %d", got, rps)
		}
		// Two limiters on one file never grant two slots closer than one
		// interval, whichever of them wins the file lock.
		for i := 1; i < len(ts); i++ {
			if gap := ts[i].Sub(ts[i-1]); gap < a.Interval() {
				t.Fatalf("grants %d and %d only %v apart, interval %v", i-1, i, gap, a.Interval())
			}
		}
	})
}

func TestWait_NextProcessDoesNotBurst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rps = 20
		path := filepath.Join(t.TempDir(), "amo.rate")
		first := fire(t, 20, New(path, rps))
		// A new process starts right after the first one finished.
		next := New(path, rps)
		second := fire(t, 20, next)
		if got := maxInWindow(append(first, second...), time.Second); got > rps {
			t.Fatalf("%d requests in one second across two runs, limit %d", got, rps)
		}
		if gap := second[0].Sub(first[len(first)-1]); gap != next.Interval() {
			t.Fatalf("the next process's first request came %v after the last one, want %v", gap, next.Interval())
		}
	})
}

func TestPause_HoldsThisAndTheNextProcess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "amo.rate")
		l := New(path, 1000)
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		l.Pause(300 * time.Millisecond)
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 300*time.Millisecond {
			t.Fatalf("Wait returned %v after a 300ms pause, want exactly 300ms", d)
		}

		l.Pause(300 * time.Millisecond)
		start = time.Now()
		next := New(path, 1000) // another process reading the same file
		if err := next.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 300*time.Millisecond {
			t.Fatalf("a new limiter on the file waited %v of a 300ms pause", d)
		}
	})
}

func TestPause_WakesASleepingWaiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New("", 2) // slots ~530ms apart
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		done := make(chan time.Time)
		go func() {
			_ = l.Wait(context.Background())
			done <- time.Now()
		}()
		synctest.Wait() // the waiter sleeps on its slot
		start := time.Now()
		l.Pause(time.Second)
		// The waiter wakes, reserves again, and goes at the later of the
		// pause's end and the slot after the one it gave up (a wasted slot
		// only widens a gap).
		want := max(time.Second, 2*l.Interval())
		if got := <-done; got.Sub(start) != want {
			t.Fatalf("waiter went through %v after a 1s pause began, want %v", got.Sub(start), want)
		}
	})
}

func TestWait_ContextCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New("", 0.5)
		_ = l.Wait(context.Background())
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		start := time.Now()
		if err := l.Wait(ctx); err != context.DeadlineExceeded {
			t.Fatalf("Wait on a context that expires: %v", err)
		}
		if d := time.Since(start); d != 20*time.Millisecond {
			t.Fatalf("Wait held the caller %v past a 20ms context", d)
		}
	})
}

func TestReadState_TornFileIsIgnored(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "amo.rate")
	if err := writeState(path, state{}); err != nil {
		t.Fatal(err)
	}
	for _, content := range []string{"", "garbage", "12 x", "-5 -5"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := readState(path); err != nil {
			t.Errorf("readState(%q): %v", content, err)
		}
	}
}

// A state file written by a clock far ahead (a wrong clock, a hand edit)
// holds the limiter at most an hour, not for ever.
func TestWait_StateFromTheFarFutureIsCapped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "amo.rate")
		far := time.Now().Add(1000 * time.Hour)
		if err := writeState(path, state{last: far, pausedUntil: far}); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if err := New(path, 1000).Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != time.Hour {
			t.Fatalf("a far-future state held the limiter %v, want the 1h cap", d)
		}
	})
}

// Under a ceiling of 7 a pace of 6 needs no slack (exactly 1/6 s apart),
// while a pace at the ceiling is widened so that no 1-second window can
// hold an eighth request.
func TestNewUnder_SlackOnlyAtTheCeiling(t *testing.T) {
	if got, want := NewUnder("", 6, 7).Interval(), time.Second/6; got != want {
		t.Errorf("6 under 7: interval %v, want %v", got, want)
	}
	if got := NewUnder("", 7, 7).Interval(); got <= time.Second/7 {
		t.Errorf("7 under 7: interval %v, want wider than %v", got, time.Second/7)
	}
	if got := NewUnder("", 9, 7).Interval(); got <= time.Second/7 {
		t.Errorf("a pace over the ceiling must be held under it: interval %v", got)
	}
}

// Forty goroutines at 6 per second under a ceiling of 7 never put more than
// 7 requests in any second.
func TestNewUnder_FortyGoroutinesStayUnderTheCeiling(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := NewUnder("", 6, 7)
		ts := fire(t, 40, l)
		if n := maxInWindow(ts, time.Second); n > 7 {
			t.Fatalf("%d requests in one second, ceiling 7", n)
		}
		evenlySpaced(t, ts, l.Interval())
	})
}

// A bounded wait whose slot falls after its bound is refused at once and
// reserves nothing: the next unbounded waiter gets the slot the refused
// one would have taken.
func TestWaitBy_RefusesASlotPastTheBoundAndReservesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "amo.rate")
		l := New(path, 0.1) // slots ~10.6 s apart
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		before, err := readState(path)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i := 0; i < 50; i++ {
			if err := New(path, 0.1).WaitBy(context.Background(), time.Now().Add(time.Second)); err != ErrNoSlot {
				t.Fatalf("bounded wait %d: %v, want ErrNoSlot", i, err)
			}
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("refusals took %v; a slot past the bound is refused at once", d)
		}
		after, err := readState(path)
		if err != nil {
			t.Fatal(err)
		}
		if !after.last.Equal(before.last) {
			t.Fatalf("refused waits moved the last slot from %v to %v", before.last, after.last)
		}
		if err := l.WaitBy(context.Background(), time.Now().Add(-time.Second)); err != ErrNoSlot {
			t.Fatalf("a bound in the past: %v", err)
		}
		// The next unbounded waiter gets the very slot after the first.
		if err := l.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := time.Since(start); got != l.Interval() {
			t.Fatalf("the next wait took %v, want one interval (%v)", got, l.Interval())
		}
	})
}

// A slot within the bound is granted as by Wait.
func TestWaitBy_GrantsASlotWithinTheBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New(filepath.Join(t.TempDir(), "amo.rate"), 1000)
		for i := 0; i < 3; i++ {
			if err := l.WaitBy(context.Background(), time.Now().Add(time.Minute)); err != nil {
				t.Fatalf("wait %d: %v", i, err)
			}
		}
	})
}

// A waiter queued behind another in this process is refused once its bound
// passes, without waiting for its turn.
func TestWaitBy_QueuedWaiterRefusedAtItsBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New("", 0.1) // slots ~10.6 s apart
		_ = l.Wait(context.Background())
		held := make(chan struct{})
		go func() { _ = l.Wait(context.Background()); close(held) }() // holds the queue for ~10.6 s
		synctest.Wait()
		defer func() { <-held }()
		start := time.Now()
		if err := l.WaitBy(context.Background(), start.Add(2*time.Second)); err != ErrNoSlot {
			t.Fatalf("got %v, want ErrNoSlot", err)
		}
		if d := time.Since(start); d != 2*time.Second {
			t.Fatalf("refused after %v, want at the 2s bound", d)
		}
	})
}

// A pause longer than the bound refuses a bounded waiter instead of
// holding it for the whole pause.
func TestWaitBy_PauseLongerThanTheBoundRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := New("", 1000)
		l.Pause(time.Hour)
		start := time.Now()
		if err := l.WaitBy(context.Background(), time.Now().Add(time.Second)); err != ErrNoSlot {
			t.Fatalf("got %v, want ErrNoSlot", err)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("refused after %v, want at once", d)
		}
	})
}
