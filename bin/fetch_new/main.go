// Command fetch_new turns new Kaspi orders into amoCRM deals: one complete deal
// (contact, products, note) per order, batched, crash-safe, within the run's
// time budget. Run it from cron every minute.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/runner"
)

const usage = `Usage: fetch_new [--dry-run] [--since YYYY-MM-DD] [--limit N]

Переносит новые заказы Kaspi в сделки amoCRM (одна сделка на заказ:
контакт, товары, примечание). Запускайте из cron каждую минуту.
Turns new Kaspi orders into amoCRM deals; run it from cron every minute.

  --dry-run            read everything, write nothing to amoCRM / ничего не создавать
  --since YYYY-MM-DD   load orders created since that date / загрузить заказы с даты
  --limit N            process at most N orders / обработать не больше N заказов

Settings are read from .env in the folder above bin/ (APP_ROOT overrides).
Настройки читаются из .env в папке над bin/.
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if app.PrintVersion("fetch_new", args, stdout) {
		return app.ExitOK
	}
	if app.WantsHelp(args) {
		fmt.Fprint(stdout, usage)
		return app.ExitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runner.TaskMain(ctx, "fetch_new", args, app.Options{Getenv: getenv}, stdout, stderr)
}
