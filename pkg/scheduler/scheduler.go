// Package scheduler runs fetch_new and reconcile at their intervals from
// one process, as the PHP version's scheduler did, without its defects: a
// failing task backs off instead of being retried every tick, .env is
// re-read and the database reopened on every tick, and a stop signal is
// honoured between tasks.
//
// The caller holds the run lock (flock on storage/cron.lock) for the whole
// process; tasks run in-process under it and never take the same file
// lock a second time.
package scheduler

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// Task is one job and its interval.
type Task struct {
	// Name is the task's name as the settings keys spell it: fetch_new, reconcile.
	Name  string
	Every time.Duration
}

// DefaultTasks are the PHP version's intervals: fetch every minute,
// reconcile every ten minutes.
var DefaultTasks = []Task{
	{Name: domain.TaskFetchNew, Every: 60 * time.Second},
	{Name: domain.TaskReconcile, Every: 600 * time.Second},
}

// Env is what one tick opens and closes again.
type Env interface {
	domain.Settings
	// Run runs a task to its end (or its time budget) under the lock the
	// process holds. An error wrapping domain.ErrBusy means another host holds
	// the database lock: nothing was done and it is not a failure.
	Run(ctx context.Context, task string) error
	Close() error
}

// Scheduler runs the due tasks of a tick.
type Scheduler struct {
	Tasks []Task
	// Open loads .env and opens the database for one tick.
	Open func(ctx context.Context) (Env, error)
	// MaxBackoff caps the wait after repeated failures (default 30 min).
	MaxBackoff time.Duration
	Now        func() time.Time
	Log        *slog.Logger
}

// LastRunKey is the settings key of a task's last successful start (unix
// seconds), the PHP version's key.
func LastRunKey(task string) string { return "scheduler_last_run_" + task }

// BackoffKey is the settings key of a task's failure count and the time
// of its next try ("failures next_unix"), kept in the database so that
// `--once` from cron backs off too.
func BackoffKey(task string) string { return "scheduler_backoff_" + task }

func (s *Scheduler) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Scheduler) maxBackoff() time.Duration {
	if s.MaxBackoff > 0 {
		return s.MaxBackoff
	}
	return 30 * time.Minute
}

// Result is what one tick did.
type Result struct {
	Ran     []string // tasks that ran and succeeded
	Failed  []string // tasks that ran and failed
	Busy    []string // tasks whose lock another host held
	NextDue time.Time
}

// Tick opens the environment, runs every due task in order and closes it.
// stop is checked between tasks: once it is done no further task starts.
// Tasks run with a context that the stop signal does not cancel (their own
// time budget ends them).
func (s *Scheduler) Tick(stop context.Context) (Result, error) {
	var res Result
	env, err := s.Open(stop)
	if err != nil {
		return res, err
	}
	defer env.Close()
	taskCtx := context.WithoutCancel(stop)
	for _, t := range s.Tasks {
		if stop.Err() != nil {
			break
		}
		due, err := s.dueAt(taskCtx, env, t)
		if err != nil {
			return res, err
		}
		start := s.now()
		if start.Before(due) {
			continue
		}
		runErr := env.Run(taskCtx, t.Name)
		switch {
		case errors.Is(runErr, domain.ErrBusy):
			res.Busy = append(res.Busy, t.Name)
			s.log().Info("scheduler: task skipped, lock held elsewhere", slog.String("task", t.Name))
		case runErr != nil:
			res.Failed = append(res.Failed, t.Name)
			wait, err := s.recordFailure(taskCtx, env, t, start)
			if err != nil {
				return res, err
			}
			s.log().Error("scheduler: task failed", slog.String("task", t.Name),
				slog.String("error", runErr.Error()), slog.Duration("next_try_in", wait))
		default:
			res.Ran = append(res.Ran, t.Name)
			if err := s.recordSuccess(taskCtx, env, t, start); err != nil {
				return res, err
			}
		}
	}
	res.NextDue, err = s.nextDue(taskCtx, env)
	return res, err
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// dueAt is when a task should run next: its interval after the last
// success, or later while it is backing off.
func (s *Scheduler) dueAt(ctx context.Context, env Env, t Task) (time.Time, error) {
	var due time.Time
	v, ok, err := env.Setting(ctx, LastRunKey(t.Name))
	if err != nil {
		return due, fmt.Errorf("scheduler: read last run of %s: %w", t.Name, err)
	}
	if ok {
		if last, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && last > 0 {
			due = time.Unix(last, 0).Add(t.Every)
		}
	}
	_, next, err := s.backoff(ctx, env, t)
	if err != nil {
		return due, err
	}
	if next.After(due) {
		due = next
	}
	return due, nil
}

func (s *Scheduler) backoff(ctx context.Context, env Env, t Task) (failures int, next time.Time, err error) {
	v, ok, err := env.Setting(ctx, BackoffKey(t.Name))
	if err != nil {
		return 0, next, fmt.Errorf("scheduler: read backoff of %s: %w", t.Name, err)
	}
	if !ok {
		return 0, next, nil
	}
	f, n, _ := strings.Cut(strings.TrimSpace(v), " ")
	failures, _ = strconv.Atoi(f)
	if unix, err := strconv.ParseInt(n, 10, 64); err == nil && unix > 0 {
		next = time.Unix(unix, 0)
	}
	return failures, next, nil
}

// Backoff is the wait after the n-th failure in a row: the task's interval,
// doubled per further failure, capped.
func Backoff(every time.Duration, failures int, max time.Duration) time.Duration {
	d := every
	for i := 1; i < failures && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

func (s *Scheduler) recordFailure(ctx context.Context, env Env, t Task, start time.Time) (time.Duration, error) {
	failures, _, err := s.backoff(ctx, env, t)
	if err != nil {
		return 0, err
	}
	failures++
	wait := Backoff(t.Every, failures, s.maxBackoff())
	v := fmt.Sprintf("%d %d", failures, start.Add(wait).Unix())
	if err := env.SetSetting(ctx, BackoffKey(t.Name), v); err != nil {
		return wait, fmt.Errorf("scheduler: record failure of %s: %w", t.Name, err)
	}
	return wait, nil
}

// recordSuccess stores the tick the task started in (only a success
// counts, as in the PHP version) and clears its backoff.
func (s *Scheduler) recordSuccess(ctx context.Context, env Env, t Task, start time.Time) error {
	if err := env.SetSetting(ctx, LastRunKey(t.Name), strconv.FormatInt(start.Unix(), 10)); err != nil {
		return fmt.Errorf("scheduler: record run of %s: %w", t.Name, err)
	}
	if failures, _, err := s.backoff(ctx, env, t); err == nil && failures == 0 {
		return nil
	}
	if err := env.SetSetting(ctx, BackoffKey(t.Name), "0 0"); err != nil {
		return fmt.Errorf("scheduler: clear backoff of %s: %w", t.Name, err)
	}
	return nil
}

func (s *Scheduler) nextDue(ctx context.Context, env Env) (time.Time, error) {
	var next time.Time
	for _, t := range s.Tasks {
		due, err := s.dueAt(ctx, env, t)
		if err != nil {
			return next, err
		}
		if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next, nil
}

// Loop ticks until stop is done. Between ticks it sleeps until the next
// task is due (at least MinSleep, at most MaxSleep, so an edited .env or a
// cleared backoff is noticed soon). A tick that cannot open its
// environment (bad .env, database down) is logged and retried after
// MaxSleep. sleep returns false when stop ended the wait.
func (s *Scheduler) Loop(stop context.Context, sleep func(context.Context, time.Duration) bool) {
	if sleep == nil {
		sleep = Sleep
	}
	for stop.Err() == nil {
		res, err := s.Tick(stop)
		wait := MaxSleep
		if err != nil {
			s.log().Error("scheduler: tick failed", slog.String("error", err.Error()))
		} else if !res.NextDue.IsZero() {
			wait = min(max(res.NextDue.Sub(s.now()), MinSleep), MaxSleep)
		}
		if len(res.Busy) > 0 {
			wait = min(wait, BusyRetry)
		}
		if !sleep(stop, wait) {
			return
		}
	}
}

// Sleep bounds of Loop.
const (
	MinSleep  = time.Second
	MaxSleep  = 60 * time.Second
	BusyRetry = 10 * time.Second
)

// Sleep waits d or until ctx is done; it reports whether the full wait passed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
