package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"kaspi-amocrm/pkg/store"
)

// latency is the spread of n timed calls.
type latency struct {
	n           int
	median, p90 time.Duration
}

func spread(ds []time.Duration) latency {
	slices.Sort(ds)
	return latency{n: len(ds), median: ds[len(ds)/2], p90: ds[len(ds)*9/10]}
}

// cgiTree builds cgi-bin/cron into a fresh hosting tree with an .env, a
// migrated SQLite database and a secret, as a shop would have it.
type cgiTree struct {
	root, exe, secret string
}

func buildCGITree(ctx context.Context) (*cgiTree, error) {
	mod, err := moduleDir()
	if err != nil {
		return nil, err
	}
	root, err := os.MkdirTemp("", "kaspi-amocrm-bench-cgi-")
	if err != nil {
		return nil, err
	}
	t := &cgiTree{root: root, exe: filepath.Join(root, "cgi-bin", "cron.cgi"), secret: rand.Text()}
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", t.exe, "./cgi-bin/cron")
	build.Dir = mod
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./cgi-bin/cron: %v\n%s", err, out)
	}
	for _, d := range []string{"storage", "logs"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o750); err != nil {
			return nil, err
		}
	}
	env := strings.Join([]string{
		"DB_DRIVER=sqlite",
		"KASPI_API_BASE=http://127.0.0.1:9/shop/api/v2",
		"KASPI_API_TOKEN=" + kaspiToken,
		"AMO_SUBDOMAIN=http://127.0.0.1:9",
		"AMO_CLIENT_ID=5b0f8d2e-2c1a-4f6e-9a77-0c3f1e2d4b61",
		"AMO_CLIENT_SECRET=bench-client-secret-0123456789",
		"AMO_REDIRECT_URI=https://shop.example.kz/cgi-bin/oauth_callback.cgi",
		"CRON_SECRET=" + t.secret,
	}, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(root, ".env"), []byte(env), 0o600); err != nil {
		return nil, err
	}
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, SQLitePath: filepath.Join(root, "storage", "kaspi_amocrm.sqlite")})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *cgiTree) close() { os.RemoveAll(t.root) }

func moduleDir() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	p := strings.TrimSpace(string(out))
	if p == "" || p == os.DevNull {
		return "", errors.New("run the bench inside the source tree")
	}
	return filepath.Dir(p), nil
}

// cgiEnv is what Apache's mod_cgid passes for GET cron.cgi?task=status.
func (t *cgiTree) cgiEnv() []string {
	return []string{
		"GATEWAY_INTERFACE=CGI/1.1",
		"SERVER_PROTOCOL=HTTP/1.1",
		"SERVER_SOFTWARE=Apache",
		"SERVER_NAME=127.0.0.1",
		"SERVER_PORT=80",
		"REMOTE_ADDR=127.0.0.1",
		"REQUEST_METHOD=GET",
		"SCRIPT_NAME=/cgi-bin/cron.cgi",
		"SCRIPT_FILENAME=" + t.exe,
		"REQUEST_URI=/cgi-bin/cron.cgi?task=status",
		"QUERY_STRING=task=status",
		"HTTP_HOST=127.0.0.1",
		"HTTP_X_CRON_TOKEN=" + t.secret,
		"PATH=/usr/bin:/bin",
	}
}

// measureCGI runs cron.cgi as a CGI process n times (one process per
// request, as mod_cgid does) and times each from start to exit.
func (t *cgiTree) measureCGI(ctx context.Context, n int) (latency, error) {
	var ds []time.Duration
	for i := 0; i < n+1; i++ {
		cmd := exec.CommandContext(ctx, t.exe)
		cmd.Env = t.cgiEnv()
		cmd.Dir = filepath.Dir(t.exe)
		var out bytes.Buffer
		cmd.Stdout = &out
		start := time.Now()
		err := cmd.Run()
		d := time.Since(start)
		if err != nil || !answeredOK(out.String()) {
			return latency{}, fmt.Errorf("cron.cgi as CGI: %v: %s", err, firstLines(out.String()))
		}
		if i > 0 { // the first call warms the page cache
			ds = append(ds, d)
		}
	}
	return spread(ds), nil
}

// measureFastCGI starts cron.cgi with a listening socket as stdin (what
// mod_fcgid does), then times n requests to the resident process.
func (t *cgiTree) measureFastCGI(ctx context.Context, n int) (latency, error) {
	sock := filepath.Join(t.root, "storage", "fcgi.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
	if err != nil {
		return latency{}, err
	}
	defer l.Close()
	f, err := l.File()
	if err != nil {
		return latency{}, err
	}
	cmd := exec.CommandContext(ctx, t.exe)
	cmd.Stdin = f
	cmd.Dir = filepath.Dir(t.exe)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		f.Close()
		return latency{}, err
	}
	f.Close()
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	params := map[string]string{}
	for _, kv := range t.cgiEnv() {
		k, v, _ := strings.Cut(kv, "=")
		params[k] = v
	}
	params["GATEWAY_INTERFACE"] = "CGI/1.1"
	var ds []time.Duration
	for i := 0; i < n+1; i++ {
		start := time.Now()
		body, err := fcgiGet(sock, params)
		d := time.Since(start)
		if err != nil {
			return latency{}, fmt.Errorf("cron.cgi as FastCGI: %v (stderr: %s)", err, firstLines(stderr.String()))
		}
		if !answeredOK(body) {
			return latency{}, fmt.Errorf("cron.cgi as FastCGI answered: %s", firstLines(body))
		}
		if i > 0 { // the first request starts the process and opens the app
			ds = append(ds, d)
		}
	}
	return spread(ds), nil
}

// answeredOK reports whether a CGI answer is a 200 with a body (a
// missing Status header means 200).
func answeredOK(resp string) bool {
	head, body, ok := strings.Cut(strings.ReplaceAll(resp, "\r\n", "\n"), "\n\n")
	if !ok || strings.TrimSpace(body) == "" || !strings.Contains(strings.ToLower(head), "content-type:") {
		return false
	}
	for _, line := range strings.Split(head, "\n") {
		if v, ok := strings.CutPrefix(line, "Status:"); ok && !strings.HasPrefix(strings.TrimSpace(v), "200") {
			return false
		}
	}
	return true
}

func firstLines(s string) string {
	lines := strings.SplitN(s, "\n", 6)
	if len(lines) > 5 {
		lines = lines[:5]
	}
	return strings.Join(lines, " | ")
}

// FastCGI record types (the FastCGI 1.0 specification).
const (
	fcgiBeginRequest = 1
	fcgiEndRequest   = 3
	fcgiParams       = 4
	fcgiStdin        = 5
	fcgiStdout       = 6
	fcgiStderr       = 7
	fcgiResponder    = 1
)

// fcgiGet sends one responder request over a new connection and returns
// the program's stdout (headers and body).
func fcgiGet(sock string, params map[string]string) (string, error) {
	c, err := net.DialTimeout("unix", sock, 10*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	w := bufio.NewWriter(c)
	write := func(typ byte, content []byte) {
		pad := (8 - len(content)%8) % 8
		h := []byte{1, typ, 0, 1, 0, 0, byte(pad), 0}
		binary.BigEndian.PutUint16(h[4:], uint16(len(content)))
		w.Write(h)
		w.Write(content)
		w.Write(make([]byte, pad))
	}
	write(fcgiBeginRequest, []byte{0, fcgiResponder, 0, 0, 0, 0, 0, 0})
	var p bytes.Buffer
	for k, v := range params {
		fcgiLen(&p, len(k))
		fcgiLen(&p, len(v))
		p.WriteString(k)
		p.WriteString(v)
	}
	write(fcgiParams, p.Bytes())
	write(fcgiParams, nil)
	write(fcgiStdin, nil)
	if err := w.Flush(); err != nil {
		return "", err
	}
	r := bufio.NewReader(c)
	var out bytes.Buffer
	for {
		h := make([]byte, 8)
		if _, err := io.ReadFull(r, h); err != nil {
			return out.String(), fmt.Errorf("read record: %w", err)
		}
		n, pad := int(binary.BigEndian.Uint16(h[4:])), int(h[6])
		content := make([]byte, n+pad)
		if _, err := io.ReadFull(r, content); err != nil {
			return out.String(), err
		}
		switch h[1] {
		case fcgiStdout:
			out.Write(content[:n])
		case fcgiStderr:
		case fcgiEndRequest:
			return out.String(), nil
		}
	}
}

func fcgiLen(b *bytes.Buffer, n int) {
	if n < 128 {
		b.WriteByte(byte(n))
		return
	}
	var x [4]byte
	binary.BigEndian.PutUint32(x[:], uint32(n)|1<<31)
	b.Write(x[:])
}

// apacheLatency runs scripts/e2e-apache, which installs the built tree
// under a real Apache (as CGI and as FastCGI), checks it, and times
// cron.cgi?task=status; it returns the two medians it prints.
func apacheLatency(ctx context.Context, n int) (cgi, fcgi string, err error) {
	if os.Geteuid() != 0 {
		return "", "", errors.New("scripts/e2e-apache needs root (Apache workers run as www-data)")
	}
	if _, err := os.Stat("/usr/sbin/apache2"); err != nil {
		return "", "", errors.New("apache2 is not installed (scripts/e2e-apache installs it: run it once)")
	}
	mod, err := moduleDir()
	if err != nil {
		return "", "", err
	}
	script := filepath.Join(mod, "scripts", "e2e-apache")
	if _, err := os.Stat(script); err != nil {
		return "", "", err
	}
	cmd := exec.CommandContext(ctx, script)
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), fmt.Sprintf("E2E_LATENCY_N=%d", n))
	out, runErr := cmd.CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "CGI:"); ok {
			cgi = strings.TrimSpace(v)
		}
		if v, ok := strings.CutPrefix(line, "FastCGI:"); ok {
			fcgi = strings.TrimSpace(v)
		}
	}
	if runErr != nil {
		return cgi, fcgi, fmt.Errorf("scripts/e2e-apache: %v: %s", runErr, firstLines(lastLines(string(out), 5)))
	}
	if cgi == "" || fcgi == "" {
		return "", "", errors.New("scripts/e2e-apache printed no latency lines")
	}
	return cgi, fcgi, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
