package ratelimit

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

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
// recording when it was let through.
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
	return ts
}

func TestWait_FortyGoroutinesNeverExceedRateInAnySecond(t *testing.T) {
	t.Parallel()
	const rps = 20
	l := New(filepath.Join(t.TempDir(), "amo.rate"), rps)
	ts := fire(t, 40, l)
	if got := maxInWindow(ts, time.Second); got > rps {
		t.Fatalf("%d requests in one second, limit %d", got, rps)
	}
	if len(ts) != 40 {
		t.Fatalf("granted %d of 40", len(ts))
	}
}

func TestWait_TwoProcessesOnOneFileShareTheRate(t *testing.T) {
	t.Parallel()
	const rps = 20
	path := filepath.Join(t.TempDir(), "amo.rate")
	a, b := New(path, rps), New(path, rps)
	ts := fire(t, 40, a, b)
	if got := maxInWindow(ts, time.Second); got > rps {
		t.Fatalf("%d requests in one second from two limiters, limit %d", got, rps)
	}
}

func TestWait_NextProcessDoesNotBurst(t *testing.T) {
	t.Parallel()
	const rps = 20
	path := filepath.Join(t.TempDir(), "amo.rate")
	first := fire(t, 20, New(path, rps))
	// A new process starts right after the first one finished.
	second := fire(t, 20, New(path, rps))
	if got := maxInWindow(append(first, second...), time.Second); got > rps {
		t.Fatalf("%d requests in one second across two runs, limit %d", got, rps)
	}
}

func TestPause_HoldsThisAndTheNextProcess(t *testing.T) {
	t.Parallel()
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
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("Wait returned %v after a 300ms pause", d)
	}

	l.Pause(300 * time.Millisecond)
	start = time.Now()
	next := New(path, 1000) // another process reading the same file
	if err := next.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("a new limiter on the file waited only %v of a 300ms pause", d)
	}
}

func TestPause_WakesASleepingWaiter(t *testing.T) {
	t.Parallel()
	l := New("", 2) // slots ~530ms apart
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan time.Time)
	go func() {
		_ = l.Wait(context.Background())
		done <- time.Now()
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	l.Pause(time.Second)
	if got := <-done; got.Sub(start) < time.Second-10*time.Millisecond {
		t.Fatalf("waiter went through %v into a 1s pause", got.Sub(start))
	}
}

func TestWait_ContextCancelled(t *testing.T) {
	t.Parallel()
	l := New("", 0.5)
	_ = l.Wait(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := l.Wait(ctx); err == nil {
		t.Fatal("Wait ignored a cancelled context")
	}
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
	ts := fire(t, 40, NewUnder("", 6, 7))
	if n := maxInWindow(ts, time.Second); n > 7 {
		t.Fatalf("%d requests in one second, ceiling 7", n)
	}
}

// A bounded wait whose slot falls after its bound is refused at once and
// reserves nothing: the next unbounded waiter gets the slot the refused
// one would have taken.
func TestWaitBy_RefusesASlotPastTheBoundAndReservesNothing(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "amo.rate")
	l := New(path, 0.1) // slots ~10.6 s apart
	if err := l.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	before, err := readState(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if err := New(path, 0.1).WaitBy(context.Background(), time.Now().Add(time.Second)); err != ErrNoSlot {
			t.Fatalf("bounded wait %d: %v, want ErrNoSlot", i, err)
		}
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
}

// A slot within the bound is granted as by Wait.
func TestWaitBy_GrantsASlotWithinTheBound(t *testing.T) {
	t.Parallel()
	l := New(filepath.Join(t.TempDir(), "amo.rate"), 1000)
	for i := 0; i < 3; i++ {
		if err := l.WaitBy(context.Background(), time.Now().Add(time.Minute)); err != nil {
			t.Fatalf("wait %d: %v", i, err)
		}
	}
}

// A pause longer than the bound refuses a bounded waiter instead of
// holding it for the whole pause.
func TestWaitBy_PauseLongerThanTheBoundRefuses(t *testing.T) {
	t.Parallel()
	l := New("", 1000)
	l.Pause(time.Hour)
	if err := l.WaitBy(context.Background(), time.Now().Add(time.Second)); err != ErrNoSlot {
		t.Fatalf("got %v, want ErrNoSlot", err)
	}
}
