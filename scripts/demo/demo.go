package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// demo is one run of the demo.
type demo struct {
	o       Options
	out     io.Writer
	mod     string // module source dir
	work    string // the temporary folder (removed unless Keep)
	root    string // the installed app root
	step    string // the step running now, for the failure message
	logTail string

	sandbox     *exec.Cmd
	sandboxOut  *tailBuffer
	sandboxDone chan struct{}
	sb          sandboxInfo
}

func newDemo(o Options) (*demo, error) {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	d := &demo{o: o, out: o.Out}
	d.mod = o.ModuleDir
	if d.mod == "" {
		gomod, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			return nil, fmt.Errorf("find the module (go env GOMOD): %w", err)
		}
		p := strings.TrimSpace(string(gomod))
		if p == "" || p == os.DevNull {
			return nil, errors.New("run the demo inside the source tree (make demo)")
		}
		d.mod = filepath.Dir(p)
	}
	if o.Dir != "" {
		abs, err := filepath.Abs(o.Dir)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(abs, 0o755); err != nil {
			return nil, err
		}
		d.work = abs
	} else {
		w, err := os.MkdirTemp("", "kaspi-amocrm-demo-")
		if err != nil {
			return nil, err
		}
		d.work = w
	}
	d.root = filepath.Join(d.work, "kaspi-amocrm")
	return d, nil
}

func (d *demo) cleanup() {
	d.stopSandbox()
	if d.o.Keep {
		fmt.Fprintf(d.out, "\nThe installed tree is kept in %s\n", d.root)
		return
	}
	os.RemoveAll(d.work)
}

func (d *demo) say(format string, a ...any) { fmt.Fprintf(d.out, format+"\n", a...) }

// begin names the step that runs now and prints its header.
func (d *demo) begin(n int, title string) {
	d.step = title
	d.say("\n[%d] %s", n, title)
}

func (d *demo) run() error {
	start := time.Now()
	d.say("Kaspi → amoCRM demo: the real programs, installed like on a shared host, against the sandbox.")

	d.begin(1, "build the programs")
	if err := d.build(); err != nil {
		return err
	}

	d.begin(2, "start bin/sandbox (fake Kaspi + fake amoCRM on loopback)")
	if err := d.startSandbox(); err != nil {
		return err
	}

	d.begin(3, "install the tree with SQLite and write .env from the sandbox's lines")
	if err := d.install(); err != nil {
		return err
	}

	d.begin(4, "cgi-bin/migrate.cgi (run from a shell)")
	out, err := d.exec("cgi-bin/migrate.cgi")
	if err != nil {
		return err
	}
	d.say("    %s", firstLine(out))

	d.begin(5, "cgi-bin/oauth_callback.cgi with the sandbox's authorization code")
	code, err := d.sb.authCode()
	if err != nil {
		return err
	}
	args := []string{"code=" + code}
	if ref := d.sb.referer(); ref != "" {
		args = append(args, "referer="+ref)
	}
	out, err = d.exec("cgi-bin/oauth_callback.cgi", args...)
	if err != nil {
		return err
	}
	d.say("    %s", firstLine(out))

	d.begin(6, "bin/fetch_new")
	out, err = d.exec("bin/fetch_new")
	if err != nil {
		return err
	}
	printIndented(d.out, out)
	fetchSummary := lastLine(out)

	d.begin(7, "orders change status at Kaspi (sandbox admin endpoint)")
	changes, err := d.changeStatuses()
	if err != nil {
		return err
	}
	for _, c := range changes {
		d.say("    order %s → %s", c.Code, c.describe())
	}

	d.begin(8, "bin/reconcile")
	out, err = d.exec("bin/reconcile")
	if err != nil {
		return err
	}
	printIndented(d.out, out)
	reconcileSummary := lastLine(out)

	d.begin(9, "what amoCRM now holds")
	if err := d.summary(fetchSummary, reconcileSummary, changes); err != nil {
		return err
	}

	d.begin(10, "Kaspi follows amoCRM: auto-accept, then a manager's moves (KASPI_AUTO_ACCEPT, KASPI_ACTIONS)")
	if err := d.kaspiFollows(); err != nil {
		return err
	}

	d.begin(11, "bin/doctor --status")
	out, err = d.exec("bin/doctor", "--status")
	if err != nil {
		return err
	}
	printIndented(d.out, out)

	d.step = ""
	d.say("\n✓ demo finished in %.0f s", time.Since(start).Seconds())
	return nil
}

// programs lists the folders with a main.go under bin/ and cgi-bin/.
func (d *demo) programs() (bins, cgis []string, err error) {
	for _, dir := range []string{"bin", "cgi-bin"} {
		entries, err := os.ReadDir(filepath.Join(d.mod, dir))
		if err != nil {
			return nil, nil, err
		}
		for _, e := range entries {
			if _, err := os.Stat(filepath.Join(d.mod, dir, e.Name(), "main.go")); err != nil {
				continue
			}
			if dir == "bin" {
				bins = append(bins, e.Name())
			} else {
				cgis = append(cgis, e.Name())
			}
		}
	}
	sort.Strings(bins)
	sort.Strings(cgis)
	return bins, cgis, nil
}

// build compiles every program with one go build (static, as make build
// does) and lays them out as the hosting tree: bin/x and cgi-bin/x.cgi.
func (d *demo) build() error {
	bins, cgis, err := d.programs()
	if err != nil {
		return err
	}
	out := filepath.Join(d.work, "build")
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	args := []string{"build", "-trimpath", "-o", out + string(os.PathSeparator)}
	for _, b := range bins {
		args = append(args, "./bin/"+b)
	}
	for _, c := range cgis {
		args = append(args, "./cgi-bin/"+c)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = d.mod
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, b)
	}
	for _, dir := range []string{"bin", "cgi-bin", "storage", "logs"} {
		if err := os.MkdirAll(filepath.Join(d.root, dir), 0o755); err != nil {
			return err
		}
	}
	for _, b := range bins {
		if err := os.Rename(filepath.Join(out, b), filepath.Join(d.root, "bin", b)); err != nil {
			return err
		}
	}
	for _, c := range cgis {
		if err := os.Rename(filepath.Join(out, c), filepath.Join(d.root, "cgi-bin", c+".cgi")); err != nil {
			return err
		}
	}
	d.say("    bin/: %s", strings.Join(bins, " "))
	d.say("    cgi-bin/: %s.cgi", strings.Join(cgis, ".cgi "))
	return nil
}

// install writes .env: the sandbox's lines, SQLite, a fresh CRON_SECRET.
func (d *demo) install() error {
	if b, err := os.ReadFile(filepath.Join(d.mod, ".env.example")); err == nil {
		if err := os.WriteFile(filepath.Join(d.root, ".env.example"), b, 0o644); err != nil {
			return err
		}
	}
	var secret [16]byte
	rand.Read(secret[:])
	var b strings.Builder
	b.WriteString("# Written by the demo from bin/sandbox's lines.\n")
	b.WriteString("DB_DRIVER=sqlite\n")
	b.WriteString("CRON_SECRET=" + hex.EncodeToString(secret[:]) + "\n")
	b.WriteString("RUN_TIME_BUDGET_SECONDS=120\n")
	for _, kv := range d.sb.envLines {
		b.WriteString(kv + "\n")
	}
	if err := os.WriteFile(filepath.Join(d.root, ".env"), []byte(b.String()), 0o600); err != nil {
		return err
	}
	d.say("    %s (SQLite: storage/kaspi_amocrm.sqlite)", d.root)
	var keys []string
	for _, kv := range d.sb.envLines {
		k, _, _ := strings.Cut(kv, "=")
		keys = append(keys, k)
	}
	d.say("    .env: DB_DRIVER=sqlite, a fresh CRON_SECRET, and from the sandbox: %s", strings.Join(keys, ", "))
	return nil
}

// exec runs one installed program from a shell the way cron would: cwd
// "/", an almost empty environment (no HOME, no TZ, no APP_ROOT: the
// program finds its tree itself). A non-zero exit fails the step.
func (d *demo) exec(rel string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(d.root, rel), args...)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		msg := strings.TrimSpace(stderr.String() + "\n" + stdout.String())
		return stdout.String(), fmt.Errorf("%s %s: %w\n%s", rel, strings.Join(args, " "), err, msg)
	}
	return stdout.String(), nil
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func printIndented(w io.Writer, s string) {
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		fmt.Fprintf(w, "    %s\n", line)
	}
}

// tailBuffer keeps what a child process printed, safe for concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.Write(p)
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

func (t *tailBuffer) tail(n int) string {
	lines := strings.Split(strings.TrimRight(t.String(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// scanLines feeds each line of r to fn until it returns true or r ends.
func scanLines(r io.Reader, fn func(string) bool) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if fn(sc.Text()) {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return io.ErrUnexpectedEOF
}
