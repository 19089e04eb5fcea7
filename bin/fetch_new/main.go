// Command fetch_new turns new Kaspi orders into amoCRM deals: one complete deal
// (contact, products, note) per order, batched, crash-safe, within the run's
// time budget. Run it from cron every minute.
package main

import (
	"io"
	"os"

	"kaspi-amocrm/pkg/app/runner"
)

const usage = `Usage: fetch_new [--dry-run] [--confirm-actions] [--since YYYY-MM-DD] [--limit N]

Переносит новые заказы Kaspi в сделки amoCRM (одна сделка на заказ:
контакт, товары, примечание). Запускайте из cron каждую минуту.
Turns new Kaspi orders into amoCRM deals; run it from cron every minute.

  --dry-run            read everything, write nothing to amoCRM / ничего не создавать
  --since YYYY-MM-DD   load orders created since that date / загрузить заказы с даты
  --limit N            process at most N orders / обработать не больше N заказов
  --confirm-actions    take the Kaspi stage actions even when more than
                       KASPI_ACTIONS_MAX_PER_RUN are pending / выполнить действия
                       в Kaspi, даже если их больше KASPI_ACTIONS_MAX_PER_RUN

Settings are read from .env in the folder above bin/ (APP_ROOT overrides).
Настройки читаются из .env в папке над bin/.
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	return runner.Main(runner.TaskFetchNew, usage, args, getenv, stdout, stderr)
}
