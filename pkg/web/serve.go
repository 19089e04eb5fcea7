package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"kaspi-amocrm/pkg/domain"
	"net/http"
	"net/http/cgi"
	"net/http/fcgi"
	"net/url"
	"os"
	"strings"
	"syscall"
)

// Serve runs h for the web server that started the program (see
// StartedByWeb) and returns the exit code: FastCGI when stdin is a
// listening socket (mod_fcgid, php-fpm style process managers hand one
// over), CGI otherwise. A run from a shell or cron goes through ServeCLI.
func Serve(h http.Handler) int {
	if stdinIsListener() {
		if err := fcgi.Serve(nil, h); err != nil {
			fmt.Fprintln(os.Stderr, "fastcgi:", err)
			return 1
		}
		return 0
	}
	if err := cgi.Serve(h); err != nil {
		fmt.Fprintln(os.Stderr, "cgi:", err)
		return 1
	}
	return 0
}

// StartedByWeb reports whether a web server started the program: as a CGI
// program (any of CGIVars set) or as a FastCGI one (stdin is a listening
// socket). Otherwise it runs from a shell or cron.
func StartedByWeb(getenv func(string) string) bool {
	return IsCGI(getenv) || stdinIsListener()
}

// CGIVars are the variables of which any one marks a start by a web
// server. GATEWAY_INTERFACE alone is not enough: some fcgiwrap set-ups
// omit it, and a request taken for a shell run would skip the secret.
var CGIVars = []string{"GATEWAY_INTERFACE", "REQUEST_METHOD", "SERVER_SOFTWARE", "SCRIPT_NAME"}

// IsCGI reports whether any of CGIVars is set: the program serves a web
// request, and the secret is required.
func IsCGI(getenv func(string) string) bool {
	if getenv == nil {
		return false
	}
	for _, k := range CGIVars {
		if getenv(k) != "" {
			return true
		}
	}
	return false
}

// stdinIsListener reports whether fd 0 is a socket in listening state.
func stdinIsListener() bool {
	v, err := syscall.GetsockoptInt(int(os.Stdin.Fd()), syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN)
	return err == nil && v == 1
}

// ServeCLI runs one request built from command-line arguments through h
// and prints the answer: the body to stdout on success, to stderr
// otherwise (a redirect prints its Location). Arguments:
//
//	key=value, --key=value, --flag (flag=1)   query parameters
//	--post                                    POST with the body read from stdin
//	--header=Name:value                       a request header
//
// A shell user can read .env already, so the request counts as trusted:
// no token is asked. The exit code is 0 for 2xx/3xx, 2 when the request
// failed on a bad .env (ErrConfig) or bad arguments, 1 otherwise — the
// codes of the other programs.
func ServeCLI(ctx context.Context, h http.Handler, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	q := url.Values{}
	method := http.MethodGet
	headers := http.Header{}
	for _, a := range args {
		switch {
		case a == "--post":
			method = http.MethodPost
		case strings.HasPrefix(a, "--header="):
			name, value, _ := strings.Cut(strings.TrimPrefix(a, "--header="), ":")
			headers.Add(strings.TrimSpace(name), strings.TrimSpace(value))
		default:
			kv := strings.TrimLeft(a, "-")
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				v = "1"
			}
			if k == "" {
				fmt.Fprintf(stderr, "unexpected argument %q\n", a)
				return 2
			}
			q.Add(k, v)
		}
	}
	var body io.Reader
	if method == http.MethodPost {
		b, err := io.ReadAll(io.LimitReader(stdin, 1<<20))
		if err != nil {
			fmt.Fprintln(stderr, "read stdin:", err)
			return 1
		}
		body = bytes.NewReader(b)
	}
	outcome := &cliOutcome{}
	ctx = context.WithValue(withTrusted(ctx), cliKey{}, outcome)
	req, err := http.NewRequestWithContext(ctx, method, "http://localhost/?"+q.Encode(), body)
	if err != nil {
		fmt.Fprintln(stderr, "request:", err)
		return 2
	}
	req.RemoteAddr = "127.0.0.1:0"
	for k, vs := range headers {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, req)
	out := rec.body.Bytes()
	switch {
	case rec.code() >= 200 && rec.code() < 300 && outcome.exit != 0:
		// A run that answered WARN or ERROR: the answer is the owner's
		// line, the exit code says it was not ok.
		stderr.Write(out)
		return outcome.exit
	case rec.code() >= 200 && rec.code() < 300:
		stdout.Write(out)
		return 0
	case rec.code() >= 300 && rec.code() < 400:
		fmt.Fprintln(stdout, rec.header.Get("Location"))
		return 0
	default:
		stderr.Write(out)
		if outcome.configErr {
			return 2
		}
		return 1
	}
}

// cliOutcome is what a command-line request learns beyond the answer:
// whether it failed on the configuration, and the exit code of a run that
// answered 200 but was not ok (1 warn or error, 2 a refused .env value).
type cliOutcome struct {
	configErr bool
	exit      int
}

// noteResult records a run's result on a command-line request.
func noteResult(r *http.Request, res domain.Result, err error) {
	o, _ := r.Context().Value(cliKey{}).(*cliOutcome)
	if o == nil || res == domain.ResultOK || res == "" {
		return
	}
	o.exit = 1
	var se *domain.SettingError
	if errors.As(err, &se) {
		o.exit = 2
	}
}

type cliKey struct{}

// noteError records on a command-line request that it failed on a bad
// .env. Every error answer passes here, so the exit code follows the
// error, not the status (a 500 may be a bad .env or a crash).
func noteError(r *http.Request, err error) {
	if o, _ := r.Context().Value(cliKey{}).(*cliOutcome); o != nil && errors.Is(err, ErrConfig) {
		o.configErr = true
	}
}

// recorder keeps the answer of a command-line request (httptest would
// register test flags in every binary).
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}
func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}
