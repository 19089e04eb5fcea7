package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"os/user"
	"runtime"
	"strconv"
	"syscall"
	"time"

	"kaspi-amocrm/pkg/applog"
	"kaspi-amocrm/pkg/cronpaths"
	"kaspi-amocrm/pkg/runlock"
	"kaspi-amocrm/pkg/scheduler"
	"kaspi-amocrm/pkg/web"
)

// BusyMessage is what a run says when another one holds the lock.
const BusyMessage = "Другой запуск ещё работает (storage/cron.lock занят) — этот завершается без работы."

// ServeCGI runs an endpoint as CGI, FastCGI or from a shell (--help aside).
func ServeCGI(name, help string, h http.Handler) int {
	if len(os.Args) > 1 && (os.Args[1] == "--help" || os.Args[1] == "-h") {
		fmt.Print(help)
		return 0
	}
	return web.Serve(h)
}

// TaskMain is bin/fetch_new and bin/reconcile: flags, the run lock (held →
// say so, exit 0), one run, the summary line. Exit 0 when the run did its
// job (orders waiting for a retry included), 2 on a configuration problem,
// 1 when it could not work at all (database, auth, ban).
func TaskMain(ctx context.Context, task string, args []string, o Options, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet(task, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dry := fs.Bool("dry-run", false, "read everything, write nothing to amoCRM, print what would be created")
	since := fs.String("since", "", "backfill from this date (YYYY-MM-DD, Asia/Almaty)")
	limit := fs.Int("limit", 0, "process at most N orders (0 = no limit)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: %s [--dry-run] [--since YYYY-MM-DD] [--limit N]\n", task)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", task, fs.Arg(0))
		return 2
	}
	ro := RunOptions{DryRun: *dry, Limit: *limit, Out: stdout}
	if *since != "" {
		day, err := time.ParseInLocation("2006-01-02", *since, applog.Almaty)
		if err != nil {
			fmt.Fprintf(stderr, "%s: --since: want a date like 2024-05-01\n", task)
			return 2
		}
		ro.Since = day.UnixMilli()
	}
	if *limit < 0 {
		fmt.Fprintf(stderr, "%s: --limit must be 0 or more\n", task)
		return 2
	}
	if o.LogAlso == nil {
		o.LogAlso = stderr
	}
	env, err := Open(ctx, NeedSync, o)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitCode(err)
	}
	defer env.Close()
	sum, err := env.RunTask(ctx, task, ro)
	if errors.Is(err, ErrBusy) {
		fmt.Fprintln(stdout, BusyMessage)
		return 0
	}
	if err != nil {
		env.Log.Error(task+" failed", slog.String("error", err.Error()))
		fmt.Fprintln(stderr, task+": "+err.Error())
		return ExitCode(err)
	}
	fmt.Fprintln(stdout, sum.String())
	return 0
}

// SchedulerMain is bin/scheduler --loop|--daemon|--once.
func SchedulerMain(ctx context.Context, args []string, o Options, stdout, stderr io.Writer) int {
	p := o.Paths
	if p.Root == "" {
		var err error
		if p, err = Locate(o.getenv()); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
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
			return 0
		default:
			fmt.Fprintf(stderr, "scheduler: unknown argument %q\n%s", a, SchedulerHelp)
			return 2
		}
	}
	if mode == "" {
		fmt.Fprint(stderr, SchedulerHelp)
		return 2
	}
	// The file lock is held for the whole process; the tasks run under it
	// and take only the database lock.
	release, ok, err := runlock.TryAcquire(ctx, p.Storage, nil)
	if err != nil {
		fmt.Fprintln(stderr, "scheduler:", err)
		return 1
	}
	if !ok {
		fmt.Fprintln(stderr, "scheduler: "+BusyMessage)
		return 0
	}
	defer release()

	log := slog.New(applog.NewHandler(stderr, slog.LevelInfo))
	s := &scheduler.Scheduler{
		Tasks: scheduler.DefaultTasks,
		Log:   log,
		Open: func(ctx context.Context) (scheduler.Env, error) {
			env, err := Open(ctx, NeedSync, o)
			if err != nil {
				return nil, err
			}
			return &schedEnv{Env: env, out: stdout}, nil
		},
	}
	if mode == "once" {
		res, err := s.Tick(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "scheduler:", err)
			return ExitCode(err)
		}
		if len(res.Failed) > 0 {
			return 1
		}
		return 0
	}
	stop, cancel := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	log.Info("scheduler started", slog.Int("pid", os.Getpid()))
	s.Loop(stop, nil)
	log.Info("scheduler stopped")
	return 0
}

// SchedulerHelp is bin/scheduler --help.
const SchedulerHelp = `Usage: scheduler --once | --loop (--daemon)
  --once   run the tasks that are due now and exit (cron: every minute)
  --loop   keep running: fetch_new every 60 s, reconcile every 600 s
           (systemd/Supervisor; SIGTERM/SIGINT stop it between tasks)
A second copy exits at once while the first holds storage/cron.lock.
`

// schedEnv runs the scheduler's tasks in-process under the lock it holds.
type schedEnv struct {
	*Env
	out io.Writer
}

func (e *schedEnv) Run(ctx context.Context, task string) error {
	sum, err := e.RunTask(ctx, task, RunOptions{LockHeld: true, Out: e.out})
	if errors.Is(err, ErrBusy) {
		return errors.Join(err, scheduler.ErrBusy)
	}
	if err != nil {
		e.Log.Error(task+" failed", slog.String("error", err.Error()))
		return err
	}
	fmt.Fprintln(e.out, time.Now().In(applog.Almaty).Format(time.DateTime), sum.String())
	return nil
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

// CronPathsMain is bin/cron_paths [--show-secret]. It works without .env.
func CronPathsMain(args []string, o Options, stdout, stderr io.Writer) int {
	show := false
	for _, a := range args {
		switch a {
		case "--show-secret", "-show-secret":
			show = true
		case "--help", "-h":
			fmt.Fprintln(stdout, "Usage: cron_paths [--show-secret]\nPrints the cron lines, a systemd unit, a Supervisor block and the HTTP cron URLs for this install.")
			return 0
		default:
			fmt.Fprintf(stderr, "cron_paths: unknown argument %q\n", a)
			return 2
		}
	}
	p, cfg, _ := LoadConfig(0, o) // a missing or broken .env only leaves placeholders
	if p.Root == "" {
		fmt.Fprintln(stderr, "cron_paths: cannot find the app root")
		return 1
	}
	_ = p.Ensure()
	params := cronpaths.Params{
		Root:    p.Root,
		Arch:    runtime.GOARCH,
		CGIBase: cronpaths.CGIBaseFromRedirect(cfg.AmoRedirectURI),
	}
	if show && !web.IsExampleSecret(cfg.CronSecret.Reveal()) {
		params.Secret = cfg.CronSecret.Reveal()
	}
	if u, err := user.Current(); err == nil && u.Username != "" && u.Uid != strconv.Itoa(0) {
		params.User = u.Username
	}
	if err := cronpaths.Write(stdout, params); err != nil {
		fmt.Fprintln(stderr, "cron_paths:", err)
		return 1
	}
	return 0
}
