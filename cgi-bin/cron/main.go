// Command cron runs a task on an HTTP call (cron.cgi?task=new|reconcile|status),
// for hosts whose panel can only call a URL. CRON_SECRET is required.
package main

import (
	"io"
	"os"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/runner"
)

const usage = `Usage: cron.cgi?task=new|reconcile|status&token=CRON_SECRET
       cron.cgi task=new        (from a shell / из консоли)

Запускает задачу по HTTP-запросу: new — новые заказы, reconcile — сверка,
status — состояние. Нужен CRON_SECRET (параметр token или заголовок X-Cron-Token).
Runs a task on an HTTP call; CRON_SECRET is required (token= or X-Cron-Token).
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run serves the request as CGI or FastCGI when a web server started the
// program; from a shell the arguments become the query (no token needed).
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if !app.ServedByWeb(getenv) && app.PrintVersion("cron.cgi", args, stdout) {
		return app.ExitOK
	}
	return app.ServeEndpoint(runner.CronHandler(app.Options{Getenv: getenv}), usage, args, getenv, stdout, stderr)
}
