package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/phone"
	"kaspi-amocrm/pkg/sandbox"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/orders"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

// world is one shop for one scenario: the sandbox (fake Kaspi and amoCRM
// on loopback, amoCRM at its real 7 requests/s), a database, and hosting
// trees with the built binaries and an .env pointing at the sandbox.
type world struct {
	c     *chaos
	dir   string
	sb    *sandbox.Sandbox
	db    store.Config
	drop  func() error
	trees []string // app roots; trees[0] is the main one
	wave  int
	codes []string // codes of the orders that must become deals
	byKey map[string]domain.Order
}

func (c *chaos) newWorld(ctx context.Context, name string) (*world, error) {
	dir := filepath.Join(c.work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	w := &world{c: c, dir: dir, byKey: map[string]domain.Order{}}
	sb, err := sandbox.Start(sandbox.Config{AmoRPS: 7, Seed: c.o.seed})
	if err != nil {
		return nil, err
	}
	w.sb = sb
	w.db, w.drop, err = storetest.NewDatabase(ctx, c.o.driver, dir, "ka_chaos_")
	if err != nil {
		w.close()
		return nil, err
	}
	if _, err := w.addTree("app"); err != nil {
		w.close()
		return nil, err
	}
	return w, nil
}

func (w *world) close() {
	if w.sb != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = w.sb.Close(ctx)
		cancel()
	}
	if w.drop != nil {
		if err := w.drop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
}

// addTree installs the built binaries as a hosting account would (its own
// storage/ and logs/), with an .env naming the world's database.
func (w *world) addTree(name string) (string, error) {
	root := filepath.Join(w.dir, name)
	for _, d := range []string{"bin", "storage", "logs"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o750); err != nil {
			return "", err
		}
	}
	for _, prog := range []string{"fetch_new", "reconcile"} {
		if err := linkOrCopy(filepath.Join(w.c.bin, prog), filepath.Join(root, "bin", prog)); err != nil {
			return "", err
		}
	}
	var env strings.Builder
	switch w.db.Driver {
	case store.DriverSQLite:
		fmt.Fprintf(&env, "DB_DRIVER=sqlite\nDB_NAME=%s\n", w.db.SQLitePath)
	default:
		fmt.Fprintf(&env, "DB_DRIVER=%s\nDB_HOST=%s\nDB_PORT=%s\nDB_NAME=%s\nDB_USER=%s\nDB_PASS=%s\n",
			w.db.Driver, w.db.Host, w.db.Port, w.db.Name, w.db.User, w.db.Pass)
	}
	env.WriteString(w.sb.EnvLines())
	env.WriteString("AMO_MAX_RPS=6\nRUN_TIME_BUDGET_SECONDS=50\nKASPI_LOOKBACK_MINUTES=180\nCRON_SECRET=" + rand.Text() + "\n")
	if err := os.WriteFile(filepath.Join(root, ".env"), []byte(env.String()), 0o600); err != nil {
		return "", err
	}
	w.trees = append(w.trees, root)
	return root, nil
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// addOrders puts n new orders of a new wave into the fake Kaspi: buyers
// and products of their own (so that contacts and products are created),
// some buyers already in amoCRM with a phone typed by hand, a decoy
// contact holding a buyer's digits in another field, and a few masked
// phones.
func (w *world) addOrders(n int) []domain.Order {
	w.wave++
	now := time.Now()
	batch := orders.Generate(orders.Spec{
		N: n, Phones: max(n*2/3, 1), SKUs: max(n/3, 2), Seed: w.c.o.seed*100 + int64(w.wave),
		PoolSeed: w.c.o.seed*100 + int64(w.wave), MaskedShare: 0.05,
		From: now.Add(-3 * time.Hour), To: now.Add(-time.Minute),
		States:   []string{domain.StateNew, domain.StatePickup, domain.StateDelivery, domain.StateKaspiDelivery},
		CodeBase: 100_000_000 * int64(w.wave+1),
	})
	seeded := map[string]bool{}
	for i := range batch {
		o := &batch[i]
		for j := range o.Lines {
			o.Lines[j].SKU = fmt.Sprintf("W%d-%s", w.wave, o.Lines[j].SKU)
		}
		if p, ok := phone.Normalize(o.Customer.Phone, "KZ"); ok && !seeded[p] && len(seeded) < n/10+1 {
			seeded[p] = true
			d := p[len(p)-10:]
			w.sb.Amo.AddContact(o.Customer.FirstName, fmt.Sprintf("8 (%s) %s-%s-%s", d[:3], d[3:6], d[6:8], d[8:]))
			if len(seeded) == 1 {
				w.sb.Amo.AddContactFields("Поставщик "+d, nil, map[int64]string{amofake.ContactPositionFieldID: "тел. " + d})
			}
		}
		w.sb.Kaspi.AddOrder(*o)
		w.codes = append(w.codes, o.Code)
		w.byKey[o.Code] = *o
	}
	return batch
}

// result is one finished process.
type result struct {
	exit           int
	killed         bool
	stdout, stderr string
	took           time.Duration
}

func (r result) busy() bool {
	return strings.Contains(r.stdout, "Другой запуск") || strings.Contains(r.stderr, "Другой запуск")
}

// start launches a program of a tree.
func (w *world) start(ctx context.Context, tree, prog string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(tree, "bin", prog))
	cmd.Dir = tree
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + tree}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, err
	}
	return cmd, &out, &errb, nil
}

func finish(cmd *exec.Cmd, out, errb *bytes.Buffer, started time.Time) result {
	err := cmd.Wait()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(started)}
	if err != nil {
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.killed = true
			r.exit = -1
		} else {
			r.exit = cmd.ProcessState.ExitCode()
		}
	}
	return r
}

// run runs a program of the main tree to its end.
func (w *world) run(ctx context.Context, prog string) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	started := time.Now()
	cmd, out, errb, err := w.start(ctx, w.trees[0], prog)
	if err != nil {
		return result{}, err
	}
	r := finish(cmd, out, errb, started)
	if w.c.o.verbose {
		fmt.Fprintf(os.Stderr, "    %s: exit %d, %s\n", prog, r.exit, lastLine(r.stdout+r.stderr))
	}
	return r, nil
}

// pending counts the ledger rows not done (quarantined included).
func (w *world) pending(ctx context.Context) (int, string, error) {
	db, err := store.Open(ctx, w.db)
	if err != nil {
		return 0, "", err
	}
	defer db.Close()
	counts, err := db.StepCounts(ctx)
	if err != nil {
		return 0, "", err
	}
	n := 0
	for k, v := range counts {
		if k != string(domain.StepDone) {
			n += v
		}
	}
	var why []string
	if n > 0 {
		recs, err := db.Due(ctx, time.Now().Add(48*time.Hour), 5, true)
		if err == nil {
			for _, r := range recs {
				why = append(why, fmt.Sprintf("%s %s (attempts %d: %s)", r.Code, r.Step, r.Attempts, r.LastError))
			}
		}
	}
	return n, strings.Join(why, "; "), nil
}

// drain runs fetch_new (and a reconcile now and then, as the scheduler
// would) until every order is done, at most maxRuns runs.
func (w *world) drain(ctx context.Context, maxRuns int) (int, error) {
	for i := 1; i <= maxRuns; i++ {
		prog := "fetch_new"
		if i%4 == 0 {
			prog = "reconcile"
		}
		r, err := w.run(ctx, prog)
		if err != nil {
			return i, err
		}
		if r.exit != 0 && !r.busy() {
			return i, fmt.Errorf("%s exited %d: %s", prog, r.exit, lastLine(r.stderr+r.stdout))
		}
		n, why, err := w.pending(ctx)
		if err != nil {
			return i, err
		}
		if n == 0 {
			return i, nil
		}
		if i == maxRuns {
			return i, fmt.Errorf("%d orders still pending after %d runs: %s", n, maxRuns, why)
		}
	}
	return maxRuns, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
