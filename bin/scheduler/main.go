// Command scheduler runs fetch_new and reconcile on their intervals under one
// lock: --once from a minute cron line, or --loop under systemd/Supervisor.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/runner"
)

const usage = `Usage: scheduler --once | --loop

Запускает fetch_new (раз в минуту) и reconcile (раз в 10 минут) по
расписанию под одной блокировкой storage/cron.lock.
Runs fetch_new every minute and reconcile every 10 minutes under one lock.

  --once   run what is due and exit (a "* * * * *" cron line) / один проход
  --loop   keep running (systemd, Supervisor); --daemon is the same / работать постоянно
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if app.PrintVersion("scheduler", args, stdout) {
		return app.ExitOK
	}
	if app.WantsHelp(args) {
		fmt.Fprint(stdout, usage)
		return app.ExitOK
	}
	return runner.SchedulerMain(context.Background(), args, app.Options{Getenv: getenv}, stdout, stderr)
}
