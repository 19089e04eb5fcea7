package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/kaspi"
	"kaspi-amocrm/pkg/ratelimit"
	"kaspi-amocrm/pkg/runlock"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/syncer"
)

// childSpec is one run as cron would start it: a fresh process that opens
// the database, builds the real clients and runs one task under the run
// lock. Each run is its own process so that its peak memory is its own.
type childSpec struct {
	Task       string        `json:"task"` // fetch_new or reconcile
	DB         store.Config  `json:"db"`
	KaspiURL   string        `json:"kaspi_url"`
	KaspiToken string        `json:"kaspi_token"`
	AmoURL     string        `json:"amo_url"`
	Storage    string        `json:"storage"`
	MaxRPS     float64       `json:"max_rps"` // AMO_MAX_RPS; 0: no pacing (short form)
	Sync       syncer.Config `json:"sync"`
	// StoreTokens are the Kaspi tokens of stores 2 … 9 (same KaspiURL).
	StoreTokens map[int]string `json:"store_tokens,omitempty"`
}

// childResult is what a run prints on stdout.
type childResult struct {
	Summary syncer.Summary `json:"summary"`
	Error   string         `json:"error,omitempty"`
	Busy    bool           `json:"busy,omitempty"`
	// PeakRSSKB is the run's own peak RSS (VmHWM). The rusage that wait4
	// reports is not: the child starts in the parent's address space
	// (vfork), and exec carries that space's high-water mark over.
	PeakRSSKB int64 `json:"peak_rss_kb,omitempty"`
}

// peakRSS reads VmHWM from /proc/self/status (0 when unavailable).
func peakRSS() int64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// childMain runs one task from the spec file and prints its result.
func childMain(specPath string) int {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	var spec childSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	res := runTask(context.Background(), spec)
	res.PeakRSSKB = peakRSS()
	_ = json.NewEncoder(os.Stdout).Encode(res)
	if res.Error != "" {
		return 1
	}
	return 0
}

func runTask(ctx context.Context, spec childSpec) childResult {
	fail := func(err error) childResult { return childResult{Error: err.Error()} }
	db, err := store.Open(ctx, spec.DB)
	if err != nil {
		return fail(err)
	}
	defer db.Close()
	release, got, err := runlock.TryAcquire(ctx, spec.Storage, db)
	if err != nil {
		return fail(err)
	}
	if !got {
		return childResult{Busy: true}
	}
	defer release()

	logFile, err := os.OpenFile(filepath.Join(spec.Storage, "bench.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fail(err)
	}
	defer logFile.Close()
	log := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelInfo}))

	// The product's limiter keeps its state in storage/, so that a run
	// that follows another does not burst; the short form does not pace.
	lim := amocrm.NewLimiter(spec.Storage, spec.MaxRPS)
	if spec.MaxRPS <= 0 {
		lim = ratelimit.New("", 10000)
	}
	crm, err := amocrm.New(amocrm.Config{
		BaseURL: spec.AmoURL, ClientID: amofake.DefaultClientID, ClientSecret: amofake.DefaultClientSecret,
		RedirectURI: amofake.DefaultRedirectURI, Tokens: db, Settings: db,
		Limiter: lim, LockDir: spec.Storage, Logger: log,
		HTTPClient: &http.Client{Timeout: 30 * time.Second},
	})
	if err != nil {
		return fail(err)
	}
	kc := kaspi.New(kaspi.Config{BaseURL: spec.KaspiURL, Token: spec.KaspiToken, Logger: log})
	deps := syncer.Deps{Ledger: db, CRM: crm, Kaspi: kc, Logger: log, Out: io.Discard, Stores: map[int]syncer.StoreClient{}}
	for no, tok := range spec.StoreTokens {
		k := kaspi.New(kaspi.Config{BaseURL: spec.KaspiURL, Token: tok, Logger: log})
		deps.Stores[no] = syncer.StoreClient{Kaspi: k, Writer: k}
	}
	var sum syncer.Summary
	if spec.Task == domain.TaskReconcile {
		sum, err = syncer.Reconcile(ctx, spec.Sync, deps)
	} else {
		sum, err = syncer.FetchNew(ctx, spec.Sync, deps)
	}
	res := childResult{Summary: sum}
	if err != nil {
		res.Error = err.Error()
	}
	return res
}
