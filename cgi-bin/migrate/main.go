// Command migrate brings the database schema up to date (migrate.cgi):
// it adopts a database made by the PHP version without losing a row, then
// runs the pending migrations. From a shell it needs no token.
package main

import (
	"io"
	"os"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/endpoints"
)

const usage = `Usage: migrate.cgi?token=CRON_SECRET   (in a browser / в браузере)
       cgi-bin/migrate.cgi                (from a shell, no token / из консоли)

Создаёт и обновляет таблицы в базе данных из .env. База PHP-версии
принимается как есть: ни одна строка не теряется. Повторный запуск ничего
не меняет. Отвечает "Migration OK: version N (driver)".
Creates or updates the database schema; adopts a PHP-version database as is.
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run serves the request as CGI or FastCGI when a web server started the
// program; from a shell the arguments become the query (no token needed).
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if !app.ServedByWeb(getenv) && app.PrintVersion("migrate.cgi", args, stdout) {
		return app.ExitOK
	}
	return app.ServeEndpoint(endpoints.MigrateHandler(app.Options{Getenv: getenv}), usage, args, getenv, stdout, stderr)
}
