// Command reconcile keeps deals in step with their Kaspi orders: re-lists the last
// 14 days in every state, moves deals by the status map, retries what
// failed. Run it from cron every 10 minutes.
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

const usage = `Usage: reconcile

Сверяет сделки amoCRM с заказами Kaspi: новые статусы, отмены, пропущенные
заказы, повтор неудавшихся. Запускайте из cron каждые 10 минут.
Keeps amoCRM deals in step with Kaspi orders; run it from cron every 10 minutes.

Settings are read from .env in the folder above bin/ (APP_ROOT overrides).
Настройки читаются из .env в папке над bin/.
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if app.PrintVersion("reconcile", args, stdout) {
		return app.ExitOK
	}
	if app.WantsHelp(args) {
		fmt.Fprint(stdout, usage)
		return app.ExitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return runner.TaskMain(ctx, "reconcile", args, app.Options{Getenv: getenv}, stdout, stderr)
}
