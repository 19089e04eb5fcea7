package runner

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/wiring"
	"kaspi-amocrm/pkg/applog"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/runlock"
	"kaspi-amocrm/pkg/scheduler"
)

// Main is the whole run of bin/fetch_new and bin/reconcile: --version and
// --help need no .env; otherwise the task runs until done or interrupted
// (SIGINT, SIGTERM). It returns the exit code.
func Main(task, usage string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if app.PrintVersion(task, args, stdout) {
		return app.ExitOK
	}
	if app.WantsHelp(args) {
		fmt.Fprint(stdout, usage)
		return app.ExitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return TaskMain(ctx, task, args, app.Options{Getenv: getenv}, stdout, stderr)
}

// TaskMain is bin/fetch_new and bin/reconcile: flags, the run lock (held →
// say so, exit 0), one run, the summary line. Exit 0 when the run did its
// job (orders waiting for a retry included), 2 on a configuration problem
// or bad flags, 1 when it could not work at all (database, auth, ban).
func TaskMain(ctx context.Context, task string, args []string, o app.Options, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(task, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dry := fs.Bool("dry-run", false, "read everything, write nothing to amoCRM, print what would be created")
	since := fs.String("since", "", "backfill from this date (YYYY-MM-DD, Asia/Almaty)")
	limit := fs.Int("limit", 0, "process at most N orders (0 = no limit)")
	confirm := fs.Bool("confirm-actions", false, "take the Kaspi stage actions even when more than KASPI_ACTIONS_MAX_PER_RUN are pending")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s [--dry-run] [--confirm-actions] [--since YYYY-MM-DD] [--limit N]\n", task)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return app.ExitOK
		}
		return app.ExitConfig
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: лишний аргумент %q (см. --help)\n", task, fs.Arg(0))
		return app.ExitConfig
	}
	ro := Options{DryRun: *dry, ConfirmActions: *confirm, Limit: *limit, Out: stdout}
	if *since != "" {
		day, err := time.ParseInLocation("2006-01-02", *since, applog.Almaty)
		if err != nil {
			fmt.Fprintf(stderr, "%s: --since: нужна дата вида 2024-05-01\n", task)
			return app.ExitConfig
		}
		ro.Since = day
	}
	if *limit < 0 {
		fmt.Fprintf(stderr, "%s: --limit должен быть 0 или больше\n", task)
		return app.ExitConfig
	}
	if o.LogAlso == nil {
		o.LogAlso = stderr
	}
	env, err := wiring.Open(ctx, app.NeedSync, o)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return app.ExitCode(err)
	}
	defer env.Close()
	sum, err := Run(ctx, env, task, ro)
	if errors.Is(err, domain.ErrBusy) {
		fmt.Fprintln(stdout, BusyMessage)
		return app.ExitOK
	}
	tell(stdout, stderr, env.Log, "", task, sum, err)
	return ExitFor(sum, err)
}

// SchedulerHelp is bin/scheduler's usage.
const SchedulerHelp = `Usage: scheduler --once | --loop (--daemon)
  --once   run the tasks that are due now and exit (cron: every minute)
  --loop   keep running: fetch_new every 60 s, reconcile every 600 s
           (systemd/Supervisor; SIGTERM/SIGINT stop it between tasks)
A second copy exits at once while the first holds storage/cron.lock.
`

// SchedulerMain is bin/scheduler --loop|--daemon|--once: the file lock is
// held for the whole process (held elsewhere → exit 0 at once); each tick
// re-reads .env and reopens the database, and the tasks run in-process
// taking only the database lock.
func SchedulerMain(ctx context.Context, args []string, o app.Options, stdout, stderr io.Writer) int {
	p := o.Paths
	if p.Root == "" {
		var err error
		if p, err = app.Locate(o.GetenvFunc()); err != nil {
			fmt.Fprintln(stderr, err)
			return app.ExitFail
		}
	}
	o.Paths = p
	_ = p.Ensure()
	mode := ""
	for _, a := range args {
		switch a {
		case "--loop", "--daemon", "-loop", "-daemon":
			mode = "loop"
		case "--once", "-once":
			mode = "once"
		case "--help", "-h":
			fmt.Fprint(stdout, SchedulerHelp)
			return app.ExitOK
		default:
			fmt.Fprintf(stderr, "scheduler: неизвестный аргумент %q\n%s", a, SchedulerHelp)
			return app.ExitConfig
		}
	}
	if mode == "" {
		fmt.Fprint(stderr, SchedulerHelp)
		return app.ExitConfig
	}
	release, ok, err := runlock.TryAcquire(ctx, p.Storage, nil)
	if err != nil {
		fmt.Fprintln(stderr, "scheduler: ОШИБКА: "+domain.Explain(err))
		return app.ExitFail
	}
	if !ok {
		fmt.Fprintln(stderr, "scheduler: "+BusyMessage)
		return app.ExitOK
	}
	defer release()

	log := slog.New(applog.NewHandler(stderr, slog.LevelInfo))
	exit := app.ExitOK // the worst exit code of the tasks run
	s := &scheduler.Scheduler{
		Tasks: scheduler.DefaultTasks,
		Log:   log,
		Open: func(ctx context.Context) (scheduler.Env, error) {
			env, err := wiring.Open(ctx, app.NeedSync, o)
			if err != nil {
				return nil, err
			}
			return &schedEnv{Env: env, out: stdout, errOut: stderr, exit: &exit}, nil
		},
	}
	if mode == "once" {
		res, err := s.Tick(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "scheduler: ОШИБКА: "+domain.Explain(err))
			return app.ExitCode(err)
		}
		if len(res.Failed) > 0 && exit == app.ExitOK {
			return app.ExitFail
		}
		return exit
	}
	stop, cancel := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	log.Info("scheduler started", slog.Int("pid", os.Getpid()))
	s.Loop(stop, nil)
	log.Info("scheduler stopped")
	return app.ExitOK
}

// schedEnv runs the scheduler's tasks in-process under the lock it holds.
type schedEnv struct {
	*wiring.Env
	out, errOut io.Writer
	exit        *int // the worst exit code so far (--once exits with it)
}

func (e *schedEnv) Run(ctx context.Context, task string) error {
	sum, err := Run(ctx, e.Env, task, Options{LockHeld: true, Out: e.out})
	if errors.Is(err, domain.ErrBusy) {
		return err
	}
	if code := ExitFor(sum, err); code > *e.exit {
		*e.exit = code
	}
	tell(e.out, e.errOut, e.Log, time.Now().In(applog.Almaty).Format(time.DateTime), task, sum, err)
	return err
}

func (e *schedEnv) Setting(ctx context.Context, key string) (string, bool, error) {
	return e.Store.Setting(ctx, key)
}

func (e *schedEnv) SetSetting(ctx context.Context, key, value string) error {
	return e.Store.SetSetting(ctx, key, value)
}

func (e *schedEnv) Close() error {
	e.Env.Close()
	return nil
}
