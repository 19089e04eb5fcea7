package scheduler

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

// env is a tick's environment over a real database; Run records the task
// and answers what the test scripted.
type env struct {
	*store.DB
	runs   *[]string
	result func(task string) error
	closed *int
}

func (e env) Run(ctx context.Context, task string) error {
	*e.runs = append(*e.runs, task)
	if e.result != nil {
		return e.result(task)
	}
	return nil
}

func (e env) Close() error { *e.closed++; return nil }

type rig struct {
	t      *testing.T
	db     *store.DB
	now    time.Time
	runs   []string
	opens  int
	closed int
	result func(string) error
	s      *Scheduler
}

func newRig(t *testing.T) *rig { return newRigOn(t, storetest.Open(t, store.DriverSQLite)) }

func newRigOn(t *testing.T, db *store.DB) *rig {
	r := &rig{t: t, db: db, now: time.Unix(1_750_000_000, 0)}
	r.s = &Scheduler{
		Tasks: DefaultTasks,
		Now:   func() time.Time { return r.now },
		Open: func(ctx context.Context) (Env, error) {
			r.opens++
			return env{DB: r.db, runs: &r.runs, result: r.result, closed: &r.closed}, nil
		},
	}
	return r
}

func (r *rig) tick() Result {
	r.t.Helper()
	r.runs = nil
	res, err := r.s.Tick(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return res
}

func (r *rig) setting(key string) string {
	v, _, err := r.db.Setting(context.Background(), key)
	if err != nil {
		r.t.Fatal(err)
	}
	return v
}

func same(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A fresh install runs both tasks and records their start in the PHP keys.
func TestTick_RunsDueTasksAndRecordsThePHPKeys(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) { testRecords(t, newRigOn(t, db)) })
}

func testRecords(t *testing.T, r *rig) {
	r.tick()
	if !same(r.runs, []string{"fetch_new", "reconcile"}) {
		t.Fatalf("ran %v", r.runs)
	}
	want := strconv.FormatInt(r.now.Unix(), 10)
	for _, k := range []string{"scheduler_last_run_fetch_new", "scheduler_last_run_reconcile"} {
		if got := r.setting(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if r.opens != 1 || r.closed != 1 {
		t.Errorf("opened %d, closed %d", r.opens, r.closed)
	}
}

// fetch_new runs every 60 s and reconcile every 600 s.
func TestTick_KeepsTheIntervals(t *testing.T) {
	r := newRig(t)
	start := r.now
	r.tick()
	steps := []struct {
		after time.Duration
		want  []string
	}{
		{30 * time.Second, nil},
		{60 * time.Second, []string{"fetch_new"}},
		{119 * time.Second, nil},
		{120 * time.Second, []string{"fetch_new"}},
		{600 * time.Second, []string{"fetch_new", "reconcile"}},
		{610 * time.Second, nil},
	}
	for _, st := range steps {
		r.now = start.Add(st.after)
		r.tick()
		if !same(r.runs, st.want) {
			t.Errorf("at +%v ran %v, want %v", st.after, r.runs, st.want)
		}
	}
}

// Intervals written by the PHP scheduler are honoured.
func TestTick_HonoursPHPLastRuns(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	r.db.SetSetting(ctx, "scheduler_last_run_fetch_new", strconv.FormatInt(r.now.Unix()-10, 10))
	r.db.SetSetting(ctx, "scheduler_last_run_reconcile", strconv.FormatInt(r.now.Unix()-500, 10))
	r.tick()
	if len(r.runs) != 0 {
		t.Fatalf("ran %v before the intervals passed", r.runs)
	}
	r.now = r.now.Add(50 * time.Second)
	r.tick()
	if !same(r.runs, []string{"fetch_new"}) {
		t.Fatalf("ran %v", r.runs)
	}
}

// A failing task is not retried every tick: it waits its interval, then
// twice that, and so on; only a success records a last run and clears it.
func TestTick_FailingTaskBacksOff(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) { testBackoff(t, newRigOn(t, db)) })
}

func testBackoff(t *testing.T, r *rig) {
	r.result = func(task string) error {
		if task == "fetch_new" {
			return errors.New("kaspi down")
		}
		return nil
	}
	start := r.now
	res := r.tick()
	if !same(res.Failed, []string{"fetch_new"}) || r.setting("scheduler_last_run_fetch_new") != "" {
		t.Fatalf("failed=%v last=%q", res.Failed, r.setting("scheduler_last_run_fetch_new"))
	}
	ranAt := []time.Duration{}
	for s := time.Duration(0); s <= 8*time.Minute; s += 5 * time.Second {
		r.now = start.Add(s)
		r.tick()
		for _, task := range r.runs {
			if task == "fetch_new" {
				ranAt = append(ranAt, s)
			}
		}
	}
	// Failures at 0, then tries after 60 s, +120 s, +240 s.
	want := []time.Duration{60 * time.Second, 180 * time.Second, 420 * time.Second}
	if len(ranAt) != len(want) {
		t.Fatalf("fetch_new tried at %v, want %v", ranAt, want)
	}
	for i := range want {
		if ranAt[i] != want[i] {
			t.Fatalf("fetch_new tried at %v, want %v", ranAt, want)
		}
	}
	r.result = nil
	r.now = start.Add(20 * time.Minute)
	r.tick()
	if r.setting("scheduler_last_run_fetch_new") != strconv.FormatInt(r.now.Unix(), 10) || r.setting(BackoffKey("fetch_new")) != "0 0" {
		t.Fatalf("success did not record: last=%q backoff=%q", r.setting("scheduler_last_run_fetch_new"), r.setting(BackoffKey("fetch_new")))
	}
	r.now = r.now.Add(60 * time.Second)
	r.tick()
	if !same(r.runs, []string{"fetch_new"}) {
		t.Fatalf("after recovery ran %v", r.runs)
	}
}

func TestBackoff_DoublesAndCaps(t *testing.T) {
	for _, c := range []struct {
		failures int
		want     time.Duration
	}{{1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {6, 30 * time.Minute}, {60, 30 * time.Minute}} {
		if got := Backoff(time.Minute, c.failures, 30*time.Minute); got != c.want {
			t.Errorf("Backoff(%d) = %v, want %v", c.failures, got, c.want)
		}
	}
}

// A task whose database lock another host holds is skipped, neither
// recorded nor counted as a failure.
func TestTick_BusyIsNotAFailure(t *testing.T) {
	r := newRig(t)
	r.result = func(string) error { return domain.ErrBusy }
	res := r.tick()
	if len(res.Busy) != 2 || len(res.Failed) != 0 || r.setting(BackoffKey("fetch_new")) != "" || r.setting(LastRunKey("fetch_new")) != "" {
		t.Fatalf("busy=%v failed=%v", res.Busy, res.Failed)
	}
}

// A stop signal lets the running task finish (its context stays alive)
// and starts no further task.
func TestTick_StopsBetweenTasks(t *testing.T) {
	r := newRig(t)
	stop, cancel := context.WithCancel(context.Background())
	var taskCtxErr error
	r.s.Open = func(ctx context.Context) (Env, error) {
		return runFunc{env{DB: r.db, runs: &r.runs, closed: &r.closed}, func(ctx context.Context) {
			cancel()
			taskCtxErr = ctx.Err()
		}}, nil
	}
	if _, err := r.s.Tick(stop); err != nil {
		t.Fatal(err)
	}
	if !same(r.runs, []string{"fetch_new"}) || taskCtxErr != nil {
		t.Fatalf("ran %v, task ctx err %v", r.runs, taskCtxErr)
	}
	if r.setting(LastRunKey("fetch_new")) == "" {
		t.Fatal("the finished task was not recorded")
	}
}

type runFunc struct {
	env
	during func(ctx context.Context)
}

func (e runFunc) Run(ctx context.Context, task string) error {
	e.during(ctx)
	return e.env.Run(ctx, task)
}

// The loop reopens the environment (.env, database) on every tick and
// sleeps until the next task is due.
func TestLoop_ReopensPerTickAndSleepsUntilDue(t *testing.T) {
	r := newRig(t)
	var waits []time.Duration
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r.s.Loop(ctx, func(ctx context.Context, d time.Duration) bool {
		waits = append(waits, d)
		r.now = r.now.Add(d)
		return len(waits) < 3
	})
	if r.opens != 3 || r.closed != 3 {
		t.Fatalf("opened %d closed %d, want 3 each", r.opens, r.closed)
	}
	if waits[0] != 60*time.Second {
		t.Fatalf("first wait %v, want 60s (fetch_new due)", waits[0])
	}
}

// A tick that cannot open its environment (bad .env) is retried later,
// not in a tight loop.
func TestLoop_OpenFailureWaits(t *testing.T) {
	r := newRig(t)
	r.s.Open = func(ctx context.Context) (Env, error) {
		r.opens++
		return nil, errors.New("DB_DRIVER: не задан")
	}
	var waits []time.Duration
	r.s.Loop(context.Background(), func(ctx context.Context, d time.Duration) bool {
		waits = append(waits, d)
		return len(waits) < 2
	})
	if r.opens != 2 || waits[0] != MaxSleep {
		t.Fatalf("opens %d waits %v", r.opens, waits)
	}
}
