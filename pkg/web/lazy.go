package web

import (
	"context"
	"log/slog"
	"net/http"
)

// Builder makes the handler for one request: it loads .env and prepares
// what the endpoint needs (opening the database lazily, after the token
// check). done releases what was opened; it may be nil.
type Builder func(ctx context.Context) (h http.Handler, done func(), err error)

// PerRequest builds the handler anew for every request. Under CGI there is
// one request per process anyway; under FastCGI the process lives on, and
// this is what makes an edited .env count without a restart and a dropped
// database connection heal. A build error (a bad .env) is answered through
// the error table.
func PerRequest(log *slog.Logger, build Builder) http.Handler {
	return Recover(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, done, err := build(r.Context())
		if done != nil {
			defer done()
		}
		if err != nil {
			fail(w, r, log, "setup", err)
			return
		}
		h.ServeHTTP(w, r)
	}))
}
