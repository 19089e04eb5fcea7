// Command oauth_callback receives amoCRM's OAuth redirect (oauth_callback.cgi):
// exchanges the code for tokens, checks they belong to the configured
// account and stores them.
package main

import (
	"io"
	"os"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/endpoints"
)

const usage = `Usage: oauth_callback.cgi (called by amoCRM as the integration Redirect URI)

Принимает перенаправление amoCRM после авторизации интеграции, получает
токены и сохраняет их в базе. Укажите адрес этого файла в AMO_REDIRECT_URI
и в настройках интеграции amoCRM.
Receives the amoCRM OAuth redirect, exchanges the code and stores the tokens.
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run serves the request as CGI or FastCGI when a web server started the
// program; from a shell the arguments become the query (no token needed).
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if !app.ServedByWeb(getenv) && app.PrintVersion("oauth_callback.cgi", args, stdout) {
		return app.ExitOK
	}
	return app.ServeEndpoint(endpoints.OAuthHandler(app.Options{Getenv: getenv}), usage, args, getenv, stdout, stderr)
}
