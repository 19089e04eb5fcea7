// Command chaos abuses the built fetch_new and reconcile binaries, installed
// as on hosting with an .env pointing at the sandbox (fake Kaspi and amoCRM
// served in-process on loopback, amoCRM at its real 7 requests/s), and
// asserts after every scenario: no order has two deals, no phone two
// contacts, no SKU two products; every order has exactly one deal with its
// contact, products and note; every ledger row is done; amoCRM never
// banned or rate-limited the account.
//
// Scenarios: kill -9 of fetch_new at random moments, then a clean run;
// ghost creates (applied, answer lost) on every create endpoint; three runs
// started at once (two hosting trees on one database); 429 and 5xx storms;
// kill -9 the moment Kaspi has received a status change (auto-accept and a
// cancel stage), then no change may reach Kaspi twice.
//
//	go run ./scripts/chaos            # full form (20 kill rounds)
//	go run ./scripts/chaos -short     # CI form (5 kill rounds, ~2 minutes)
//	go run ./scripts/chaos -driver mysql   # KA_TEST_MYSQL_DSN (pgsql: KA_TEST_PGSQL_DSN)
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
)

type options struct {
	short   bool
	driver  string
	rounds  int
	seed    int64
	only    string
	keep    bool
	verbose bool
}

type chaos struct {
	o      options
	work   string // temporary folder
	bin    string // built binaries
	rnd    *rand.Rand
	passed int
	failed int
}

func main() {
	var o options
	flag.BoolVar(&o.short, "short", false, "CI form: fewer rounds and orders (about two minutes)")
	flag.StringVar(&o.driver, "driver", store.DriverSQLite, "database: sqlite, mysql (KA_TEST_MYSQL_DSN) or pgsql (KA_TEST_PGSQL_DSN)")
	flag.IntVar(&o.rounds, "rounds", 0, "kill -9 rounds (default 20; -short 5)")
	flag.Int64Var(&o.seed, "seed", 0, "random seed (default: from the clock; printed)")
	flag.StringVar(&o.only, "only", "", "run only the scenarios whose name contains this")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary trees and databases' files")
	flag.BoolVar(&o.verbose, "v", false, "print every run")
	flag.Parse()
	if o.rounds <= 0 {
		o.rounds = 20
		if o.short {
			o.rounds = 5
		}
	}
	if o.seed == 0 {
		o.seed = time.Now().UnixNano() % 1_000_000
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := &chaos{o: o, rnd: rand.New(rand.NewPCG(uint64(o.seed), 1))}
	code := c.main(ctx)
	os.Exit(code)
}

func (c *chaos) main(ctx context.Context) int {
	form := "full"
	if c.o.short {
		form = "short"
	}
	fmt.Printf("kaspi-amocrm chaos — %s form, %s, seed %d\n", form, c.o.driver, c.o.seed)
	started := time.Now()
	work, err := os.MkdirTemp("", "kaspi-amocrm-chaos-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	c.work = work
	if c.o.keep {
		fmt.Println("trees kept in", work)
	} else {
		defer os.RemoveAll(work)
	}
	if err := c.build(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	fmt.Printf("built fetch_new and reconcile in %.0f s\n", time.Since(started).Seconds())

	scenarios := []struct {
		name string
		fn   func(context.Context, *world) (string, error)
	}{
		{"kill-9", c.kill9},
		{"ghost-creates", c.ghosts},
		{"overlapping-runs", c.overlap},
		{"storms", c.storms},
		{"kill-9-kaspi-writes", c.killActions},
	}
	for _, s := range scenarios {
		if c.o.only != "" && !strings.Contains(s.name, c.o.only) {
			continue
		}
		if ctx.Err() != nil {
			break
		}
		c.scenario(ctx, s.name, s.fn)
	}
	fmt.Printf("%d passed, %d failed (%.0f s)\n", c.passed, c.failed, time.Since(started).Seconds())
	if c.failed > 0 {
		return 1
	}
	return 0
}

// build compiles the two programs the scenarios run.
func (c *chaos) build(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := filepath.Dir(strings.TrimSpace(string(out)))
	c.bin = filepath.Join(c.work, "build")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", c.bin+string(os.PathSeparator), "./bin/fetch_new", "./bin/reconcile")
	cmd.Dir = mod
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, b)
	}
	return nil
}

// scenario runs one scenario in a fresh world and checks the invariants.
func (c *chaos) scenario(ctx context.Context, name string, fn func(context.Context, *world) (string, error)) {
	start := time.Now()
	w, err := c.newWorld(ctx, name)
	if err != nil {
		c.report(name, "", start, verdict{failures: []string{"setup: " + err.Error()}})
		return
	}
	defer w.close()
	what, err := fn(ctx, w)
	var v verdict
	if err != nil {
		v.fail("%v", err)
	}
	got := w.check(ctx)
	v.failures = append(v.failures, got.failures...)
	v.remarks = append(v.remarks, got.remarks...)
	v.deals = got.deals
	c.report(name, what, start, v)
}

func (c *chaos) report(name, what string, start time.Time, v verdict) {
	took := time.Since(start).Seconds()
	if len(v.failures) == 0 {
		c.passed++
		fmt.Printf("PASS %-17s %s; %d deals, none duplicated or missing, no ban (%.0f s)\n", name, what, v.deals, took)
	} else {
		c.failed++
		fmt.Printf("FAIL %-17s %s (%.0f s)\n", name, what, took)
		for _, f := range v.failures {
			fmt.Printf("       - %s\n", f)
		}
	}
	for _, r := range v.remarks {
		fmt.Printf("       note: %s\n", r)
	}
}

// kill9 kills fetch_new with SIGKILL at random moments of its run, adding
// orders now and then so that ingestion is hit too, then lets clean runs
// finish the work.
func (c *chaos) kill9(ctx context.Context, w *world) (string, error) {
	n := 120
	if c.o.short {
		n = 40
	}
	w.addOrders(n)
	// The account already holds contacts: the first runs build the phone
	// index over several pages while being killed.
	for i := range indexContacts {
		w.sb.Amo.AddContact(fmt.Sprintf("Клиент %d", i), fmt.Sprintf("8 (705) %03d-%02d-%02d", i/10000, i/100%100, i%100))
	}
	killed, finished, onCreate, buildCut := 0, 0, 0, 0
	for round := 1; round <= c.o.rounds; round++ {
		if round%5 == 0 {
			w.addOrders(5)
		}
		started := time.Now()
		seen := len(w.sb.Amo.Requests())
		cmd, out, errb, err := w.start(ctx, w.trees[0], "fetch_new")
		if err != nil {
			return "", err
		}
		// Odd rounds kill at a random moment; even rounds kill the moment
		// amoCRM has answered a create (the answer in flight or just
		// read, its ids not yet stored), each create endpoint in turn.
		how := ""
		stopWatch := make(chan struct{})
		var timer *time.Timer
		if round == 1 {
			// The first run dies in the middle of building the phone index.
			how = "after the 3rd page of the contact listing"
			go killOnListing(w, cmd, seen, 3, stopWatch)
		} else if round%2 == 1 {
			delay := time.Duration(50+c.rnd.IntN(2950)) * time.Millisecond
			how = "after " + delay.String()
			timer = time.AfterFunc(delay, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
		} else {
			ep := createEndpoints[(round/2)%len(createEndpoints)]
			how = "on a create of " + ep.name
			go killOnCreate(w, cmd, seen, ep.path, stopWatch)
		}
		r := finish(cmd, out, errb, started)
		close(stopWatch)
		if timer != nil {
			timer.Stop()
		}
		if r.killed {
			killed++
			if round%2 == 0 {
				onCreate++
			}
		} else {
			finished++
			if r.exit != 0 {
				return "", fmt.Errorf("round %d: fetch_new exited %d: %s", round, r.exit, lastLine(r.stderr))
			}
		}
		if c.o.verbose {
			fmt.Fprintf(os.Stderr, "    round %d: kill %s: killed %v\n", round, how, r.killed)
		}
		if round == 1 {
			st, err := w.contactIndex(ctx)
			if err != nil {
				return "", err
			}
			if !r.killed || st.Complete || st.NextPage < 2 {
				return "", fmt.Errorf("round 1 was to die in the middle of the index build: killed %v, index %+v", r.killed, st)
			}
			buildCut = st.NextPage
		}
	}
	runs, err := w.drain(ctx, 12)
	what := fmt.Sprintf("%d rounds (%d killed mid-run, %d of them as a create was answered; %d finished first), %d clean run(s), %d orders",
		c.o.rounds, killed, onCreate, finished, runs, len(w.codes))
	if err != nil {
		return what, err
	}
	st, err := w.contactIndex(ctx)
	if err == nil && (!st.Complete || st.Contacts < indexContacts) {
		err = fmt.Errorf("phone index not built after the kills: %+v", st)
	}
	return what + fmt.Sprintf("; phone index killed before page %d, resumed, %d contacts", buildCut, st.Contacts), err
}

// killOnListing kills cmd once the fake amoCRM has answered n pages of
// the contact listing (GET /api/v4/contacts without a query), or after 10 s.
func killOnListing(w *world, cmd *exec.Cmd, seen, n int, stop <-chan struct{}) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-stop:
			return
		case <-time.After(2 * time.Millisecond):
		}
		reqs := w.sb.Amo.Requests()
		pages := 0
		for _, r := range reqs[min(seen, len(reqs)):] {
			if r.Method == "GET" && r.Path == "/api/v4/contacts" && !strings.Contains(r.Query, "query=") {
				pages++
			}
		}
		if pages >= n {
			_ = cmd.Process.Signal(syscall.SIGKILL)
			return
		}
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
}

// indexContacts is how many contacts the kill -9 world's amoCRM holds
// (several pages of the listing).
const indexContacts = 1200

// contactIndex reads the phone index's state from the world's database.
func (w *world) contactIndex(ctx context.Context) (domain.ContactIndexState, error) {
	db, err := store.Open(ctx, w.db)
	if err != nil {
		return domain.ContactIndexState{}, err
	}
	defer db.Close()
	return db.ContactIndexState(ctx)
}

// killOnCreate kills cmd as soon as the fake amoCRM has answered a POST
// to pattern (requests after the first `seen` of its log), or after 10 s.
func killOnCreate(w *world, cmd *exec.Cmd, seen int, pattern string, stop <-chan struct{}) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-stop:
			return
		case <-time.After(2 * time.Millisecond):
		}
		reqs := w.sb.Amo.Requests()
		for _, r := range reqs[min(seen, len(reqs)):] {
			if ok, _ := path.Match(pattern, r.Path); ok && r.Method == "POST" {
				_ = cmd.Process.Signal(syscall.SIGKILL)
				return
			}
		}
		seen = len(reqs)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
}

// createEndpoints are the amoCRM endpoints the sync creates through.
var createEndpoints = []struct{ name, path string }{
	{"contacts", "/api/v4/contacts"},
	{"elements", "/api/v4/catalogs/*/elements"},
	{"leads", "/api/v4/leads"},
	{"links", "/api/v4/leads/link"},
	{"notes", "/api/v4/leads/notes"},
}

// ghosts makes amoCRM apply a create and lose the answer (a 504, or the
// connection dropped) on every create endpoint in turn, each with a fresh
// wave of orders, buyers and products.
func (c *chaos) ghosts(ctx context.Context, w *world) (string, error) {
	n := 12
	kinds := []string{"ghost", "ghost-drop"}
	if c.o.short {
		n = 8
	}
	var done []string
	for i, ep := range createEndpoints {
		for j, kind := range kinds {
			if c.o.short && (i+j)%2 == 1 {
				continue // the short form alternates the kinds
			}
			w.addOrders(n)
			w.sb.Amo.InjectFault(faultFor(ep.path, kind))
			if _, err := w.drain(ctx, 8); err != nil {
				return strings.Join(done, ", "), fmt.Errorf("%s %s: %w", kind, ep.name, err)
			}
			if !triggered(w, ep.path, kind) {
				w.sb.Amo.ClearFaults()
				return strings.Join(done, ", "), fmt.Errorf("%s %s: the fault was never triggered", kind, ep.name)
			}
			done = append(done, kind+" "+ep.name)
		}
	}
	return strings.Join(done, ", "), nil
}

// overlap starts three runs at once: fetch_new and reconcile of one tree
// and fetch_new of a second tree on the same database (a second host),
// so the file lock and the database lock both have to hold.
func (c *chaos) overlap(ctx context.Context, w *world) (string, error) {
	n, rounds := 60, 3
	if c.o.short {
		n, rounds = 25, 1
	}
	other, err := w.addTree("second-host")
	if err != nil {
		return "", err
	}
	ran, busy := 0, 0
	for round := 0; round < rounds; round++ {
		w.addOrders(n)
		type proc struct {
			tree, prog string
		}
		procs := []proc{{w.trees[0], "fetch_new"}, {other, "fetch_new"}, {w.trees[0], "reconcile"}}
		results := make(chan result, len(procs))
		errs := make(chan error, len(procs))
		gate := make(chan struct{})
		for _, p := range procs {
			go func() {
				<-gate
				started := time.Now()
				cmd, out, errb, err := w.start(ctx, p.tree, p.prog)
				if err != nil {
					errs <- err
					return
				}
				results <- finish(cmd, out, errb, started)
			}()
		}
		close(gate)
		for range procs {
			select {
			case r := <-results:
				if r.busy() {
					busy++
				} else {
					ran++
					if r.exit != 0 {
						return "", fmt.Errorf("a run exited %d: %s", r.exit, lastLine(r.stderr))
					}
				}
			case err := <-errs:
				return "", err
			}
		}
	}
	runs, err := w.drain(ctx, 10)
	what := fmt.Sprintf("%d×3 runs at once: %d worked, %d found the lock held; %d clean run(s), %d orders", rounds, ran, busy, runs, len(w.codes))
	if err == nil && ran > rounds {
		err = fmt.Errorf("%d runs worked at the same time in %d rounds: the run lock did not hold", ran, rounds)
	}
	return what, err
}

// storms: 429s and 5xx answers on every amoCRM endpoint and 5xx/429 from
// Kaspi, while fetch_new and reconcile run; then calm, and clean runs.
func (c *chaos) storms(ctx context.Context, w *world) (string, error) {
	n, k := 60, 15
	if c.o.short {
		n, k = 25, 8
	}
	w.addOrders(n)
	storms := []struct {
		name  string
		apply func()
	}{
		{fmt.Sprintf("amoCRM 429×%d", k), func() { w.sb.Amo.InjectFault(amoFault("", "", "429", 0, k)) }},
		{fmt.Sprintf("amoCRM 503×%d", k), func() { w.sb.Amo.InjectFault(amoFault("", "", "status", 503, k)) }},
		{fmt.Sprintf("amoCRM 500 on creates×%d", k*2/3), func() { w.sb.Amo.InjectFault(amoFault("POST", "", "status", 500, k*2/3)) }},
		{fmt.Sprintf("amoCRM 502 on creates×%d", k*2/3), func() { w.sb.Amo.InjectFault(amoFault("POST", "", "status", 502, k*2/3)) }},
		{"Kaspi 503×6 and 429×4", func() { kaspiStorm(w) }},
	}
	var names []string
	for i, s := range storms {
		if i > 0 {
			w.addOrders(n / 5)
		}
		s.apply()
		names = append(names, s.name)
		prog := "fetch_new"
		if i%2 == 1 {
			prog = "reconcile"
		}
		r, err := w.run(ctx, prog)
		if err != nil {
			return strings.Join(names, ", "), err
		}
		if r.exit != 0 {
			return strings.Join(names, ", "), fmt.Errorf("%s during %s exited %d: %s", prog, s.name, r.exit, lastLine(r.stderr))
		}
	}
	w.sb.Amo.ClearFaults()
	w.sb.Kaspi.ClearFaults()
	runs, err := w.drain(ctx, 10)
	return fmt.Sprintf("%s; %d clean run(s), %d orders", strings.Join(names, ", "), runs, len(w.codes)), err
}
