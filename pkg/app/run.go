package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"kaspi-amocrm/pkg/web"
)

// Exit codes shared by every program.
const (
	ExitOK     = 0
	ExitFail   = 1 // the program could not do its job
	ExitConfig = 2 // bad .env or bad arguments: nothing was tried
)

// WantsHelp reports whether the arguments ask for the usage text
// (-h, --help, -help, help).
func WantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "--help", "-help", "help":
			return true
		}
	}
	return false
}

// ServedByWeb reports whether the process was started by a web server: as
// a CGI program (any of web.CGIVars set) or as a FastCGI one (stdin is a
// listening socket). Otherwise it runs from a shell or cron.
func ServedByWeb(getenv func(string) string) bool { return web.StartedByWeb(getenv) }

// ServeEndpoint is the whole run of a .cgi program: it serves h as CGI or
// FastCGI when a web server started it; from a shell it prints usage for
// --help, or turns the arguments into one trusted request (no token) and
// exits like the other programs (0 done, 2 bad .env, 1 failed).
func ServeEndpoint(h http.Handler, usage string, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if ServedByWeb(getenv) {
		return web.Serve(h)
	}
	if WantsHelp(args) {
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return web.ServeCLI(ctx, h, args, os.Stdin, stdout, stderr)
}
