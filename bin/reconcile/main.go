// Command reconcile keeps deals in step with their Kaspi orders: re-lists the last
// 14 days in every state, moves deals by the status map, retries what
// failed. Run it from cron every 10 minutes.
package main

import (
	"io"
	"os"

	"kaspi-amocrm/pkg/app/runner"
)

const usage = `Usage: reconcile [--dry-run] [--confirm-actions]

Сверяет сделки amoCRM с заказами Kaspi: новые статусы, отмены, пропущенные
заказы, повтор неудавшихся. Запускайте из cron каждые 10 минут.
Keeps amoCRM deals in step with Kaspi orders; run it from cron every 10 minutes.

  --dry-run            read everything, write nothing / ничего не менять
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
	return runner.Main(runner.TaskReconcile, usage, args, getenv, stdout, stderr)
}
