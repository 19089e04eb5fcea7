// Command bench measures what the sync costs: amoCRM and Kaspi requests
// per order, the time to drain a backlog under amoCRM's real rate limit,
// peak memory of a run, two Kaspi stores draining into one amoCRM, the cost
// of a reconcile run, and the latency of cron.cgi. It runs the real sync engine, store and API clients against the
// strict fakes served on loopback, each run a child process as cron would
// start it, and prints a table. It exits non-zero when a target is missed.
//
//	go run ./scripts/bench            # full form: 1,000 orders at 7 rps (minutes)
//	go run ./scripts/bench -short     # CI form: 100 orders, no rate limit (seconds)
//	go run ./scripts/bench -driver mysql   # KA_TEST_MYSQL_DSN (pgsql: KA_TEST_PGSQL_DSN)
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/kaspi"
	"kaspi-amocrm/pkg/store"
)

type options struct {
	short    bool
	driver   string
	orders   int
	phones   int
	existing int
	skus     int
	open     int // reconcile: open orders
	changes  int // reconcile: orders that change
	budget   time.Duration
	cgiN     int
	seed     int64
	verbose  bool
	noCGI    bool
	cgiOnly  bool
	apache   bool
	profile  bool
	filters  string // what the fake's contact listing honours
}

func main() {
	if len(os.Args) == 3 && os.Args[1] == "-child" {
		os.Exit(childMain(os.Args[2]))
	}
	var o options
	flag.BoolVar(&o.short, "short", false, "small workload without a rate limit (CI): seconds, not minutes")
	flag.StringVar(&o.driver, "driver", store.DriverSQLite, "database: sqlite, mysql (KA_TEST_MYSQL_DSN) or pgsql (KA_TEST_PGSQL_DSN)")
	flag.IntVar(&o.orders, "orders", 0, "orders per backlog (default 1000; -short 100)")
	flag.Int64Var(&o.seed, "seed", 7, "workload seed")
	flag.DurationVar(&o.budget, "budget", 50*time.Second, "RUN_TIME_BUDGET_SECONDS of each run")
	flag.IntVar(&o.cgiN, "cgi-n", 100, "cron.cgi calls to time")
	flag.BoolVar(&o.noCGI, "no-cgi", false, "skip the cron.cgi latency")
	flag.BoolVar(&o.cgiOnly, "cgi-only", false, "measure only the cron.cgi latency")
	flag.BoolVar(&o.apache, "apache", true, "full form: also time cron.cgi under Apache (CGI and FastCGI) through scripts/e2e-apache (root, apache2)")
	flag.BoolVar(&o.verbose, "v", false, "print every run's summary line")
	flag.BoolVar(&o.profile, "profile", false, "print amoCRM requests per endpoint")
	flag.StringVar(&o.filters, "list-filters", "ignored", "what the fake amoCRM's contact listing honours: ignored (filter ignored, order honoured), honoured, or neither")
	flag.Parse()
	if o.orders <= 0 {
		o.orders = 1000
		if o.short {
			o.orders = 100
		}
	}
	// The target workload: 1,000 orders, ~600 phones (100 known to amoCRM),
	// ~150 SKUs; reconcile with 300 open orders, 30 of them changing.
	o.phones = o.orders * 6 / 10
	o.existing = o.orders / 10
	o.skus = max(o.orders*15/100, 5)
	o.open = max(o.orders*3/10, 10)
	o.changes = max(o.open/10, 3)
	if o.short {
		o.cgiN = min(o.cgiN, 20)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	b := &bench{o: o, out: os.Stdout}
	if err := b.run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	if b.missed > 0 {
		fmt.Fprintf(os.Stdout, "\n%d target(s) missed\n", b.missed)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stdout, "\nall targets met")
}

type bench struct {
	o      options
	out    io.Writer
	rows   [][]string
	missed int
	notes  []string
}

// row adds a line to the table: what, value, target, verdict.
func (b *bench) row(what, value, target string, ok *bool) {
	verdict := ""
	if ok != nil {
		verdict = "ok"
		if !*ok {
			verdict = "MISSED"
			b.missed++
		}
	}
	b.rows = append(b.rows, []string{what, value, target, verdict})
}

// section starts a group of rows under a title line.
func (b *bench) section(title string) { b.rows = append(b.rows, []string{"\x00" + title}) }

func flag_(v bool) *bool { return &v }

// enforce is the verdict of a target: always for request counts, only in
// the full form for time and memory (the short form runs unpaced).
func (b *bench) enforce(ok, countTarget bool) *bool {
	if b.o.short && !countTarget {
		return nil
	}
	return flag_(ok)
}

func (b *bench) run(ctx context.Context) error {
	o := b.o
	form := "full"
	fakeRPS, maxRPS := 7, 6.0
	if o.short {
		form, fakeRPS, maxRPS = "short (no rate limit)", -1, 0
	}
	fmt.Fprintf(b.out, "kaspi-amocrm bench — %s form, %s, %d orders per backlog\n", form, o.driver, o.orders)
	if !o.short {
		fmt.Fprintln(b.out, "fake amoCRM enforces 7 requests/s, client AMO_MAX_RPS=6: this takes a few minutes")
	}
	started := time.Now()

	if !o.cgiOnly {
		// Today's way (one search per new phone) and the phone index, on
		// the same workload in the same run.
		for _, v := range []variant{variantSearch, variantIndex} {
			if err := b.fetchNew(ctx, fakeRPS, maxRPS, v); err != nil {
				return err
			}
		}
		if err := b.contacts(ctx, fakeRPS, maxRPS); err != nil {
			return err
		}
		if err := b.twoStores(ctx, fakeRPS, maxRPS); err != nil {
			return err
		}
		if err := b.reconcile(ctx, maxRPS); err != nil {
			return err
		}
	}
	if !o.noCGI {
		if err := b.cgi(ctx); err != nil {
			b.notes = append(b.notes, "cron.cgi latency not measured: "+err.Error())
		}
	}
	fmt.Fprintln(b.out)
	tw := tabwriter.NewWriter(b.out, 2, 4, 2, ' ', 0)
	for _, r := range b.rows {
		if title, ok := strings.CutPrefix(r[0], "\x00"); ok {
			tw.Flush()
			fmt.Fprintf(b.out, "\n%s\n", title)
			continue
		}
		fmt.Fprintln(tw, "  "+strings.Join(r, "\t")+"\t")
	}
	tw.Flush()
	for _, n := range b.notes {
		fmt.Fprintln(b.out, "note:", n)
	}
	fmt.Fprintf(b.out, "bench took %.0f s\n", time.Since(started).Seconds())
	return nil
}

func (b *bench) fetchNew(ctx context.Context, fakeRPS int, maxRPS float64, v variant) error {
	o := b.o
	s, err := newVariantShop(ctx, o, fakeRPS, maxRPS, v)
	if err != nil {
		return err
	}
	defer s.close()
	now := time.Now()
	first := firstBacklog(o.orders, o.phones, o.skus, o.seed, now)
	w := describe(first)
	seeded := seedContacts(s.amo, first, o.existing)
	s.kf.AddOrders(first)
	s.resetStats()

	fmt.Fprintf(b.out, "backlog 1: %d orders, %d distinct phones (%d already in amoCRM, typed by hand), %d SKUs, %d lines\n",
		len(first), w.phones, len(seeded), w.skus, w.lines)
	d, err := s.drain(ctx, domain.TaskFetchNew, 40)
	if err != nil {
		return err
	}
	st := s.amoStats()
	b.section(fmt.Sprintf("fetch_new, %s, backlog 1: %d new orders (%d phones, %d in amoCRM; %d SKUs; %d lines)", v.name, len(first), w.phones, len(seeded), w.skus, w.lines))
	b.backlogRows(s, d, st, first, v.perOrder, v.wall)
	b.breakdownRow(st)
	if o.profile || b.o.verbose {
		fmt.Fprintf(b.out, "  amoCRM requests by endpoint, backlog 1:\n%s", st.profile())
	}

	// The PHP version's algorithm on the same backlog.
	knownPhones, knownSKUs := map[string]bool{}, map[string]bool{}
	for p := range seeded {
		knownPhones[p] = true
	}
	php := phpModel(first, knownPhones, knownSKUs)
	b.phpRows(php, len(first), st.total)

	// Backlog 2: the same customers and products again.
	second := secondBacklog(first, o.orders, o.skus, o.seed, time.Now())
	w2 := describe(second)
	s.kf.AddOrders(second)
	s.resetStats()
	fmt.Fprintf(b.out, "backlog 2: %d orders from the same %d customers and SKUs\n", len(second), w2.phones)
	d2, err := s.drain(ctx, domain.TaskFetchNew, 40)
	if err != nil {
		return err
	}
	st2 := s.amoStats()
	b.section(fmt.Sprintf("fetch_new, %s, backlog 2: %d orders of repeat customers (%d phones, %d SKUs, %d lines)", v.name, len(second), w2.phones, w2.skus, w2.lines))
	b.backlogRows(s, d2, st2, append(append([]domain.Order(nil), first...), second...), 0.1, 0)
	b.breakdownRow(st2)
	if o.profile || b.o.verbose {
		fmt.Fprintf(b.out, "  amoCRM requests by endpoint, backlog 2:\n%s", st2.profile())
	}
	php2 := phpModel(second, knownPhones, knownSKUs)
	b.phpRows(php2, len(second), st2.total)
	return nil
}

// backlogRows reports one drained backlog against its targets; a wall
// time limit of 0 is not a target.
func (b *bench) backlogRows(s *shop, d drained, st amoStats, all []domain.Order, perOrderTarget float64, limit time.Duration) {
	n := float64(b.o.orders)
	per := float64(st.total) / n
	b.row("amoCRM requests (all, token calls included)", fmt.Sprintf("%d", st.total), "", nil)
	b.row("amoCRM requests per order", fmt.Sprintf("%.3f", per), fmt.Sprintf("≤ %.2f", perOrderTarget), b.enforce(per <= perOrderTarget, true))
	b.row("Kaspi requests", fmt.Sprintf("%d", s.kf.RequestCount()), "", nil)
	b.row("runs to drain (budget "+b.o.budget.String()+" each)", fmt.Sprintf("%d", len(d.runs)), "", nil)
	if limit > 0 {
		b.row("wall time to drain", fmt.Sprintf("%.1f s", d.wall.Seconds()), fmt.Sprintf("≤ %.0f s", limit.Seconds()), b.enforce(d.wall <= limit, false))
	} else {
		b.row("wall time to drain", fmt.Sprintf("%.1f s", d.wall.Seconds()), "", nil)
	}
	mb := float64(d.peakRSS) / 1024
	b.row("peak RSS of a run", fmt.Sprintf("%.1f MB", mb), "≤ 64 MB", b.enforce(mb <= 64, false))
	b.row("HTTP 429 answers", fmt.Sprintf("%d", st.n429), "0", b.enforce(st.n429 == 0, true))
	b.row("most amoCRM requests in one second", fmt.Sprintf("%d", st.maxPerSec), "≤ 7", b.enforce(st.maxPerSec <= 7 || b.o.short, false))
	ok := d.pending == 0 && d.runError == "" && !st.banned
	v := fmt.Sprintf("pending %d, set aside %d", d.pending, d.failed)
	if d.runError != "" {
		v += ", run error: " + d.runError
	}
	if st.banned {
		v += ", BANNED"
	}
	b.row("drained", v, "pending 0", flag_(ok))
	problem := s.checkDeals(codesOf(all))
	if problem == "" {
		b.row("result", "one deal per order, no duplicate contact or product", "", flag_(true))
	} else {
		b.row("result", problem, "no duplicates, none missing", flag_(false))
	}
}

func (b *bench) phpRows(php phpCost, orders, ours int) {
	b.row("PHP version's way, amoCRM requests", fmt.Sprintf("%d (%d searches, %d creates, %d leads, %d links, %d notes)",
		php.total(), php.searches, php.creates, php.leads, php.links, php.notes), "", nil)
	b.row("PHP version's way, per order", fmt.Sprintf("%.2f, %.0f s at 7 rps", float64(php.total())/float64(orders), float64(php.total())/7), "", nil)
	if ours > 0 {
		b.row("PHP requests / ours", fmt.Sprintf("%.1f×", float64(php.total())/float64(ours)), "", nil)
	}
}

// reconcile measures reconcile runs over open orders: the first one after
// import, a quiet one, and one with changes.
func (b *bench) reconcile(ctx context.Context, maxRPS float64) error {
	o := b.o
	// Setting up the open orders is not what is measured: no rate limit.
	s, err := newShop(ctx, o, -1, 0)
	if err != nil {
		return err
	}
	defer s.close()
	now := time.Now()
	open := firstBacklog(o.open, o.open*6/10, o.skus, o.seed+100, now.Add(-24*time.Hour))
	// Spread the orders over ten days, as open orders of a shop are.
	for i := range open {
		open[i].CreationMs -= int64(i%10) * int64(24*time.Hour/time.Millisecond)
	}
	s.kf.AddOrders(open)
	d, err := s.drain(ctx, domain.TaskFetchNew, 20)
	if err != nil {
		return err
	}
	if d.pending != 0 || d.runError != "" {
		return fmt.Errorf("reconcile setup: %d open orders did not drain: %s", o.open, d.runError)
	}
	s.maxRPS = maxRPS
	pages := expectedPages(s)

	b.section(fmt.Sprintf("reconcile: %d open orders over 10 days", len(open)))
	measure := func(label string, amoTarget int, strict bool) error {
		s.resetStats()
		st, err := s.run(ctx, domain.TaskReconcile)
		if err != nil {
			return err
		}
		if st.err != "" {
			return fmt.Errorf("reconcile (%s): %s", label, st.err)
		}
		a := s.amoStats()
		k := s.kf.RequestCount()
		var kOK, aOK *bool
		kTarget, aTarget := "", ""
		if strict {
			kOK, kTarget = flag_(k <= pages), fmt.Sprintf("≤ %d (one per state per page)", pages)
			aOK, aTarget = flag_(a.total <= amoTarget), fmt.Sprintf("≤ %d", amoTarget)
		}
		b.row(label+": Kaspi requests", fmt.Sprintf("%d", k), kTarget, kOK)
		b.row(label+": amoCRM requests", fmt.Sprintf("%d", a.total), aTarget, aOK)
		b.row(label+": moved / notes / wall", fmt.Sprintf("%d / %d / %.1f s", st.sum.Moved, st.sum.Notes, st.wall.Seconds()), "", nil)
		if o.profile || o.verbose {
			fmt.Fprintf(b.out, "  amoCRM requests by endpoint, reconcile %s:\n%s", label, a.profile())
		}
		return nil
	}
	// The first run places deals by the status map (fetch_new put every
	// deal in AMO_STATUS_ID); then nothing changes; then a few orders do.
	if err := measure("first run after import", 0, false); err != nil {
		return err
	}
	if err := measure("quiet", 0, true); err != nil {
		return err
	}
	changed := changeOrders(s, open, o.changes)
	if err := measure(fmt.Sprintf("%d changed", changed), changed/10+4, true); err != nil {
		return err
	}
	return nil
}

// expectedPages is one Kaspi list request per state per page of the
// 14-day sweep.
func expectedPages(s *shop) int {
	cut := time.Now().Add(-14 * 24 * time.Hour).UnixMilli()
	per := map[string]int{}
	for _, o := range s.kf.Orders() {
		if o.CreationMs >= cut {
			per[o.State]++
		}
	}
	n := 0
	for _, st := range domain.AllStates {
		n += max(1, (per[st]+kaspi.PageSize-1)/kaspi.PageSize)
	}
	return n
}

// changeOrders moves n open orders in Kaspi: completions, cancellations
// with a reason, and hand-overs to Kaspi delivery.
func changeOrders(s *shop, open []domain.Order, n int) int {
	changed := 0
	for i, o := range open {
		if changed >= n {
			break
		}
		var err error
		switch i % 3 {
		case 0:
			err = s.kf.SetStatus(o.Code, domain.StateArchive, domain.StatusCompleted, "")
		case 1:
			err = s.kf.SetStatus(o.Code, domain.StateArchive, domain.StatusCancelled, "BUYER_NOT_REACHABLE")
		default:
			if o.State == domain.StateKaspiDelivery {
				continue
			}
			err = s.kf.SetStatus(o.Code, domain.StateKaspiDelivery, domain.StatusAcceptedByMerchant, "")
		}
		if err == nil {
			changed++
		}
	}
	return changed
}

func (b *bench) cgi(ctx context.Context) error {
	t, err := buildCGITree(ctx)
	if err != nil {
		return err
	}
	defer t.close()
	b.section(fmt.Sprintf("cron.cgi?task=status latency, median of %d (SQLite; no Apache: the program run as Apache would)", b.o.cgiN))
	c, err := t.measureCGI(ctx, b.o.cgiN)
	if err != nil {
		return err
	}
	b.row("CGI (a process per request)", fmt.Sprintf("%.1f ms (p90 %.1f ms)", ms(c.median), ms(c.p90)), "", nil)
	f, err := t.measureFastCGI(ctx, b.o.cgiN)
	if err != nil {
		return err
	}
	b.row("FastCGI (resident process, unix socket)", fmt.Sprintf("%.1f ms (p90 %.1f ms)", ms(f.median), ms(f.p90)), "", nil)
	if b.o.short || !b.o.apache {
		return nil
	}
	cgi, fcgi, err := apacheLatency(ctx, b.o.cgiN)
	if err != nil {
		b.notes = append(b.notes, "cron.cgi under Apache not measured: "+err.Error())
		return nil
	}
	b.section(fmt.Sprintf("cron.cgi?task=status latency under Apache, median of %d (scripts/e2e-apache: SQLite, HTTP over loopback)", b.o.cgiN))
	b.row("Apache, CGI (mod_cgid)", cgi, "", nil)
	b.row("Apache, FastCGI (mod_fcgid)", fcgi, "", nil)
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
