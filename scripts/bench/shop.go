package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
	"kaspi-amocrm/pkg/syncer"
)

const kaspiToken = "YmVuY2gta2FzcGktdG9rZW4tMDAwMDAwMDAwMDAwMDA9"

// shop is one merchant: a database, a fake Kaspi and a fake amoCRM served
// on loopback, and the storage folder its runs share.
type shop struct {
	o       options
	dir     string
	storage string
	db      store.Config
	drop    func() error
	kf      *kaspifake.Server
	kf2     *kaspifake.Server // the second Kaspi store (stores.go), nil with one
	// storeTokens are the tokens of stores 2 … 9 by number.
	storeTokens map[int]string
	amo         *amofake.Server
	servers     []*httptest.Server
	maxRPS      float64
	cfg         syncer.Config
}

// newShop starts the fakes (the fake amoCRM allowing fakeRPS requests per
// second; negative: unlimited) and a fresh migrated database holding a
// valid token pair. The runs pace themselves at maxRPS (0: not at all).
func newShop(ctx context.Context, o options, fakeRPS int, maxRPS float64) (*shop, error) {
	filters, err := listFilters(o.filters)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "kaspi-amocrm-bench-")
	if err != nil {
		return nil, err
	}
	s := &shop{o: o, dir: dir, storage: filepath.Join(dir, "storage"), maxRPS: maxRPS}
	if err := os.MkdirAll(s.storage, 0o750); err != nil {
		return nil, err
	}
	s.db, s.drop, err = storetest.NewDatabase(ctx, o.driver, s.storage, "ka_bench_")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.kf = kaspifake.New(kaspifake.Options{Token: kaspiToken, Seed: o.seed})
	s.amo = amofake.New(amofake.Options{RPS: fakeRPS, Now: fakeNow, ListFilters: filters})
	ks, as := httptest.NewServer(s.kf), httptest.NewServer(s.amo)
	s.servers = []*httptest.Server{ks, as}

	db, err := store.Open(ctx, s.db)
	if err != nil {
		s.close()
		return nil, err
	}
	defer db.Close()
	access, refresh, exp := s.amo.IssueTokens()
	if err := db.SaveToken(ctx, domain.TokenServiceAmo, domain.Token{AccessToken: access, RefreshToken: refresh, ExpiresAt: exp.Unix()}); err != nil {
		s.close()
		return nil, err
	}
	// What a shop's .env would say (the sandbox's own ids).
	s.cfg = syncer.Config{
		PipelineID:                 amofake.PipelineID,
		StatusID:                   amofake.StatusNewOrder,
		ResponsibleUserID:          amofake.UserID,
		CatalogID:                  amofake.CatalogID,
		OrderCodeFieldID:           amofake.LeadOrderCodeFieldID,
		ContactAddressFieldID:      amofake.ContactAddressFieldID,
		LeadDeliveryAddressFieldID: amofake.LeadAddressFieldID,
		LeadOrderDateFieldID:       amofake.LeadOrderDateTimeFieldID,
		DefaultCountry:             "KZ",
		ImportStates:               syncer.DefaultImportStates,
		Lookback:                   180 * time.Minute,
		Budget:                     o.budget,
		SnapshotRetention:          90 * 24 * time.Hour,
		StatusMap: map[string]int64{
			domain.StatusApprovedByBank:     amofake.StatusNewOrder,
			domain.StatusAcceptedByMerchant: amofake.StatusConfirmed,
			domain.StateKaspiDelivery:       amofake.StatusInDelivery,
			domain.StatusCompleted:          domain.StatusWon,
			domain.StatusCancelled:          domain.StatusLost,
			domain.StatusReturned:           domain.StatusLost,
		},
	}
	return s, nil
}

func (s *shop) close() {
	for _, srv := range s.servers {
		srv.Close()
	}
	if s.drop != nil {
		if err := s.drop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.RemoveAll(s.dir)
}

// runStat is one run's outcome.
type runStat struct {
	sum    syncer.Summary
	wall   time.Duration
	rssKB  int64
	err    string
	busy   bool
	stderr string
}

// run starts one run of task as a child process and waits for it.
func (s *shop) run(ctx context.Context, task string) (runStat, error) {
	spec := childSpec{Task: task, DB: s.db, KaspiURL: s.servers[0].URL, KaspiToken: kaspiToken,
		AmoURL: s.servers[1].URL, Storage: s.storage, MaxRPS: s.maxRPS, Sync: s.cfg, StoreTokens: s.storeTokens}
	raw, err := json.Marshal(spec)
	if err != nil {
		return runStat{}, err
	}
	path := filepath.Join(s.dir, "run.json")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return runStat{}, err
	}
	exe, err := os.Executable()
	if err != nil {
		return runStat{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.o.budget+2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-child", path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	runErr := cmd.Run()
	st := runStat{wall: time.Since(start), stderr: stderr.String()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		st.rssKB = ru.Maxrss
	}
	var res childResult
	if err := json.Unmarshal(lastLine(stdout.Bytes()), &res); err != nil {
		return st, fmt.Errorf("%s run: %v; stderr: %s", task, runErr, strings.TrimSpace(stderr.String()))
	}
	st.sum, st.err, st.busy = res.Summary, res.Error, res.Busy
	if res.PeakRSSKB > 0 {
		st.rssKB = res.PeakRSSKB
	}
	return st, nil
}

func lastLine(b []byte) []byte {
	b = bytes.TrimSpace(b)
	if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return b
}

// drained is the outcome of running a task until nothing is pending.
type drained struct {
	runs     []runStat
	wall     time.Duration
	peakRSS  int64 // KB
	pending  int
	failed   int
	runError string
}

// drain runs fetch_new again and again, each run right after the previous
// one (as minute cron runs would when each uses its whole budget), until
// no order is pending, at most maxRuns times.
func (s *shop) drain(ctx context.Context, task string, maxRuns int) (drained, error) {
	var d drained
	start := time.Now()
	for i := 0; i < maxRuns; i++ {
		st, err := s.run(ctx, task)
		if err != nil {
			return d, err
		}
		d.runs = append(d.runs, st)
		d.peakRSS = max(d.peakRSS, st.rssKB)
		d.failed += st.sum.Failed
		d.pending = st.sum.Pending
		if s.o.verbose {
			fmt.Fprintf(os.Stderr, "  run %d: %s (rss %.1f MB)\n", i+1, st.sum.String(), float64(st.rssKB)/1024)
		}
		if st.err != "" {
			d.runError = st.err
			break
		}
		if !st.busy && st.sum.Pending == 0 {
			break
		}
	}
	d.wall = time.Since(start)
	return d, nil
}

// amoStats is what the fake amoCRM saw.
type amoStats struct {
	total, api, oauth int
	n429, maxPerSec   int
	banned            bool
	byEndpoint        map[string]int
}

var idRe = regexp.MustCompile(`/\d+`)

func (s *shop) amoStats() amoStats {
	st := amoStats{byEndpoint: map[string]int{}, n429: s.amo.Count429(), maxPerSec: s.amo.MaxPerSecond(), banned: s.amo.Banned()}
	for _, r := range s.amo.Requests() {
		st.total++
		if strings.HasPrefix(r.Path, "/oauth2/") {
			st.oauth++
		} else {
			st.api++
		}
		key := r.Method + " " + idRe.ReplaceAllString(r.Path, "/{id}")
		if r.Method == "GET" && (strings.Contains(r.Query, "query=")) {
			key += "?query="
		}
		st.byEndpoint[key]++
	}
	return st
}

func (st amoStats) profile() string {
	keys := make([]string, 0, len(st.byEndpoint))
	for k := range st.byEndpoint {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return st.byEndpoint[keys[i]] > st.byEndpoint[keys[j]] })
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "      %-48s %6d\n", k, st.byEndpoint[k])
	}
	return b.String()
}

// resetStats clears both fakes' request logs.
func (s *shop) resetStats() {
	s.amo.ResetStats()
	s.kf.ResetRequests()
}

// checkDeals verifies that the numbers describe a correct result: one
// deal per order code, no contact twice for one phone, no product twice
// for one SKU. It returns a problem description or "".
func (s *shop) checkDeals(codes []string) string {
	leads := map[string]int{}
	for _, l := range s.amo.Leads() {
		if code, ok := strings.CutPrefix(l.Name, "Kaspi Order "); ok {
			code, _, _ = strings.Cut(code, " · ") // the store, with several
			leads[code]++
		}
	}
	var problems []string
	missing, dup := 0, 0
	for _, c := range codes {
		switch n := leads[c]; {
		case n == 0:
			missing++
		case n > 1:
			dup++
		}
	}
	if missing > 0 || dup > 0 {
		problems = append(problems, fmt.Sprintf("%d orders without a deal, %d with more than one", missing, dup))
	}
	skus := map[string]int{}
	for _, e := range s.amo.Elements() {
		skus[e.SKU()]++
	}
	for sku, n := range skus {
		if n > 1 {
			problems = append(problems, fmt.Sprintf("SKU %s: %d products", sku, n))
			break
		}
	}
	if n := duplicatePhones(s.amo.Contacts()); n > 0 {
		problems = append(problems, fmt.Sprintf("%d phones with more than one contact", n))
	}
	return strings.Join(problems, "; ")
}

// newVariantShop is newShop with the contact-resolution variant applied
// (phone index or one search per phone).
func newVariantShop(ctx context.Context, o options, fakeRPS int, maxRPS float64, v variant) (*shop, error) {
	s, err := newShop(ctx, o, fakeRPS, maxRPS)
	if err != nil {
		return nil, err
	}
	s.cfg.ContactIndexMax = v.indexMax
	return s, nil
}
