// Command flood measures what a flood of anonymous oauth_callback.cgi
// requests costs a shop: it installs the real programs (built from this
// tree) with SQLite against the sandbox (fake Kaspi and amoCRM on loopback,
// amoCRM at its real 7 requests per second), authorizes once, times a quiet
// fetch_new of N orders, then times fetch_new of N more orders while F
// anonymous requests run oauth_callback.cgi as CGI processes at once. It
// prints the amoCRM requests the flood caused, the 429s and both times.
//
//	go run ./scripts/flood [-orders 150] [-requests 600] [-parallel 600]
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"kaspi-amocrm/pkg/sandbox"
)

func main() {
	var o options
	flag.IntVar(&o.orders, "orders", 150, "orders per fetch_new run")
	flag.IntVar(&o.requests, "requests", 600, "anonymous oauth_callback.cgi requests")
	flag.IntVar(&o.parallel, "parallel", 600, "requests running at once")
	flag.BoolVar(&o.keep, "keep", false, "keep the installed trees")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "flood:", err)
		os.Exit(1)
	}
}

type options struct {
	orders, requests, parallel int
	keep                       bool
}

func run(o options) error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bin, err := os.MkdirTemp("", "kaspi-amocrm-flood-bin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(bin)
	if err := build(ctx, bin); err != nil {
		return err
	}
	// The same shop twice (same seed, same orders): once quiet, once
	// under the flood.
	quiet, err := scenario(ctx, bin, o, false)
	if err != nil {
		return err
	}
	fmt.Printf("quiet fetch_new:   %5.1f s  %s\n", quiet.took.Seconds(), quiet.line)
	loaded, err := scenario(ctx, bin, o, true)
	if err != nil {
		return err
	}
	f := loaded.flood
	fmt.Printf("flooded fetch_new: %5.1f s  %s\n", loaded.took.Seconds(), loaded.line)
	fmt.Printf("flood: %d requests (%d at once) in %.1f s; answers %s; failed to run %d\n",
		o.requests, o.parallel, f.took.Seconds(), f.statuses(), f.failed)
	fmt.Printf("amoCRM requests caused by the flood: %d (code exchanges %d, account checks %d)\n",
		loaded.tokenCalls+loaded.accountCalls, loaded.tokenCalls, loaded.accountCalls)
	fmt.Printf("amoCRM 429 answers: quiet run %d, flooded run %d\n", quiet.n429, loaded.n429)
	return nil
}

type outcome struct {
	took                     time.Duration
	line                     string
	flood                    *floodResult
	tokenCalls, accountCalls int
	n429                     int
}

// scenario installs a fresh tree against a fresh sandbox, authorizes it
// and times one fetch_new of o.orders orders, under the flood or not.
func scenario(ctx context.Context, bin string, o options, withFlood bool) (outcome, error) {
	var res outcome
	root, err := os.MkdirTemp("", "kaspi-amocrm-flood-")
	if err != nil {
		return res, err
	}
	if o.keep {
		fmt.Println("tree:", root)
	} else {
		defer os.RemoveAll(root)
	}
	if err := os.CopyFS(root, os.DirFS(bin)); err != nil {
		return res, err
	}
	sb, err := sandbox.Start(sandbox.Config{AmoRPS: 7, Seed: 5})
	if err != nil {
		return res, err
	}
	defer sb.Close(context.Background())
	// Only the authorization below may store tokens: drop the pasted pair.
	var lines []string
	for _, l := range strings.Split(sb.EnvLines(), "\n") {
		if !strings.HasPrefix(l, "AMO_ACCESS_TOKEN=") && !strings.HasPrefix(l, "AMO_REFRESH_TOKEN=") && !strings.HasPrefix(l, "AMO_EXPIRES_AT=") {
			lines = append(lines, l)
		}
	}
	lines = append(lines, "DB_DRIVER=sqlite", "CRON_SECRET="+rand.Text(), "RUN_TIME_BUDGET_SECONDS=300")
	if err := os.WriteFile(filepath.Join(root, ".env"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return res, err
	}
	if _, err := shell(ctx, root, "cgi-bin/migrate.cgi"); err != nil {
		return res, err
	}
	host := strings.TrimPrefix(sb.AmoURL, "http://")
	if _, err := shell(ctx, root, "cgi-bin/oauth_callback.cgi", "code="+sb.Amo.IssueCode(), "referer="+host); err != nil {
		return res, err
	}
	sb.AddOrders(o.orders, 2*time.Hour)
	before := len(sb.Amo.Requests())
	var (
		wg   sync.WaitGroup
		ferr error
	)
	if withFlood {
		wg.Add(1)
		go func() { defer wg.Done(); res.flood = flood(ctx, root, host, o) }()
	}
	res.took, res.line, ferr = fetch(ctx, root)
	wg.Wait()
	if ferr != nil {
		return res, ferr
	}
	for _, r := range sb.Amo.Requests()[before:] {
		switch r.Path {
		case "/oauth2/access_token":
			res.tokenCalls++
		case "/api/v4/account":
			res.accountCalls++
		}
	}
	res.n429 = sb.Amo.Count429()
	return res, nil
}

// build compiles the two programs into a hosting tree under root.
func build(ctx context.Context, root string) error {
	for _, p := range []struct{ pkg, out string }{
		{"./cgi-bin/oauth_callback", "cgi-bin/oauth_callback.cgi"},
		{"./cgi-bin/migrate", "cgi-bin/migrate.cgi"},
		{"./bin/fetch_new", "bin/fetch_new"},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", filepath.Join(root, p.out), p.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", p.pkg, err, out)
		}
	}
	return nil
}

// shell runs a program of the tree from a shell (trusted, no token).
func shell(ctx context.Context, root, rel string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(root, rel), args...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %v\n%s%s", rel, err, errOut.String(), out.String())
	}
	return out.String(), nil
}

func fetch(ctx context.Context, root string) (time.Duration, string, error) {
	start := time.Now()
	out, err := shell(ctx, root, "bin/fetch_new")
	took := time.Since(start)
	if err != nil {
		return took, "", err
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return took, lines[len(lines)-1], nil
}

type floodResult struct {
	mu     sync.Mutex
	status map[int]int
	failed int
	took   time.Duration
}

func (f *floodResult) statuses() string {
	var parts []string
	for _, s := range []int{200, 400, 403, 429, 500, 502, 503} {
		if n := f.status[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d×%d", n, s))
		}
	}
	for s, n := range f.status {
		if !strings.Contains(" 200 400 403 429 500 502 503 ", fmt.Sprintf(" %d ", s)) {
			parts = append(parts, fmt.Sprintf("%d×%d", n, s))
		}
	}
	return strings.Join(parts, ", ")
}

var statusLine = regexp.MustCompile(`(?m)^Status: (\d{3})`)

// flood runs the anonymous requests as CGI processes, as Apache would:
// a code of the right shape without a state, the same from the widget
// form, one with a made-up state, and junk.
func flood(ctx context.Context, root, host string, o options) *floodResult {
	res := &floodResult{status: map[int]int{}}
	sem := make(chan struct{}, max(1, o.parallel))
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < o.requests; i++ {
		code := "def50200" + strings.ToLower(rand.Text()+rand.Text())
		q := "code=" + code + "&referer=" + host
		switch i % 4 {
		case 1:
			q += "&from_widget=1"
		case 2:
			q += "&state=" + strings.ToLower(rand.Text())
		case 3:
			q = "code=x%27%22"
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			cmd := exec.CommandContext(ctx, filepath.Join(root, "cgi-bin/oauth_callback.cgi"))
			cmd.Env = []string{"PATH=/usr/bin:/bin", "GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET",
				"QUERY_STRING=" + q, "SERVER_SOFTWARE=Apache", "SERVER_NAME=shop.example.kz", "SERVER_PORT=443",
				"SERVER_PROTOCOL=HTTP/1.1", "REMOTE_ADDR=203.0.113.7", "SCRIPT_NAME=/cgi-bin/oauth_callback.cgi",
				"REQUEST_URI=/cgi-bin/oauth_callback.cgi?" + q, "HTTPS=on"}
			out, err := cmd.Output()
			res.mu.Lock()
			defer res.mu.Unlock()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) {
				res.failed++
				return
			}
			st := 200
			if m := statusLine.FindSubmatch(out); m != nil {
				fmt.Sscan(string(m[1]), &st)
			}
			res.status[st]++
		}()
	}
	wg.Wait()
	res.took = time.Since(start)
	return res
}
