// Command api_status_mapping is the JSON API for the Kaspi status → amoCRM status
// mapping (api_status_mapping.cgi), compatible with the PHP version's
// api_status_mapping.php; header X-API-Secret must carry CRON_SECRET.
package main

import (
	"io"
	"os"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/endpoints"
)

const usage = `Usage: api_status_mapping.cgi?action=get_mappings|get_kaspi_statuses|get_stats|get_amo_pipelines|get_amo_status_ids|upsert_mapping|delete_mapping|toggle_mapping

JSON API соответствия статусов Kaspi и этапов amoCRM (как api_status_mapping.php
в PHP-версии). Заголовок X-API-Secret должен содержать CRON_SECRET.
JSON API for the status mapping; the X-API-Secret header must carry CRON_SECRET.
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run serves the request as CGI or FastCGI when a web server started the
// program; from a shell the arguments become the query (no token needed).
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if !app.ServedByWeb(getenv) && app.PrintVersion("api_status_mapping.cgi", args, stdout) {
		return app.ExitOK
	}
	return app.ServeEndpoint(endpoints.MappingHandler(app.Options{Getenv: getenv}), usage, args, getenv, stdout, stderr)
}
