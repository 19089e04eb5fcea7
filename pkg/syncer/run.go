package syncer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// run is the state of one FetchNew or Reconcile call.
type run struct {
	cfg    Config
	ledger domain.Ledger
	crm    *countingCRM
	kaspi  *countingKaspi // store 1's
	// actions and writer are set when Kaspi actions are configured
	// (writer is store 1's).
	actions domain.KaspiActions
	writer  domain.OrderWriter
	// stageLedger and stageWriter are set when stage actions are configured.
	stageLedger domain.StageLedger
	stageWriter domain.StageActions
	// stores are the Kaspi stores, store 1 first; kaspis and writers the
	// clients of stores 2 … 9 (stores.go).
	stores       []Store
	kaspis       map[int]*countingKaspi
	writers      map[int]domain.OrderWriter
	kaspiMs      []requestMeter
	failedStores int                            // stores whose listing failed this run
	storeStates  map[int]domain.KaspiStoreState // each store's listing outcome this run
	storeDown    map[int]bool                   // stores whose token failed this run: not asked again
	log          *slog.Logger
	out          io.Writer
	clock        func() time.Time
	loc          *time.Location

	start, deadline time.Time
	sum             Summary
	amoM, kaspiM    requestMeter
	seen            map[string]bool // codes processed by this run
	foundNow        map[string]bool // codes this run put into the ledger
	processed       int
	transient       int // temporary amoCRM failures met by this run
	fields          *leadFieldSet
	statusMaps      map[int]statusMap // by store; nil until loaded
	dryNew          []domain.Order    // dry run: listed orders the ledger lacks
	dryNewSeen      map[string]bool
	index           indexRun // the phone index in this run (contactindex.go)
	// adoptPending: existing deals are not adopted yet; nothing is created.
	adoptPending bool
	// account lists the account's pipelines and users (nil: no checks).
	account         domain.AccountReader
	settingsChecked bool
	// contactFieldChecked: AMO_CONTACT_ADDRESS_FIELD_ID was found in the
	// account this run.
	contactFieldChecked bool
	accountZone         *time.Location // the account's time zone, from the cached lists
	refreshedByCode     int            // reconcile: orders asked about by code this run (capped)
}

// maxTransient stops the processing of a run after this many temporary
// amoCRM failures: the client has already retried and backed off, so the
// next run is the better time to go on.
const maxTransient = 3

func newRun(task string, cfg Config, d Deps) (*run, error) {
	if d.Ledger == nil || d.CRM == nil || d.Kaspi == nil {
		return nil, fmt.Errorf("%s: ledger, amoCRM and Kaspi clients are required", task)
	}
	if cfg.AutoAccept && (d.Actions == nil || d.Writer == nil) {
		return nil, fmt.Errorf("%s: KASPI_AUTO_ACCEPT needs the Kaspi action ledger and writer", task)
	}
	stores := normalizeStores(cfg)
	for _, st := range stores[1:] {
		c, ok := d.Stores[st.No]
		if !ok || c.Kaspi == nil {
			return nil, fmt.Errorf("%s: no Kaspi client for store %d", task, st.No)
		}
		if cfg.AutoAccept && c.Writer == nil {
			return nil, fmt.Errorf("%s: KASPI_AUTO_ACCEPT needs the Kaspi writer of store %d", task, st.No)
		}
	}
	var sl domain.StageLedger
	var sw domain.StageActions
	for _, st := range stores {
		if !st.Actions.Enabled() {
			continue
		}
		var ok bool
		if sl, ok = d.Actions.(domain.StageLedger); !ok {
			return nil, fmt.Errorf("%s: KASPI_ACTIONS needs the Kaspi action ledger", task)
		}
		w := d.Writer
		if st.No > 1 {
			w = d.Stores[st.No].Writer
		}
		if _, ok := w.(domain.StageActions); !ok {
			return nil, fmt.Errorf("%s: KASPI_ACTIONS%s needs the Kaspi writer of store %d", task, st.Suffix, st.No)
		}
	}
	sw, _ = d.Writer.(domain.StageActions) // store 1's
	r := &run{
		stageLedger: sl,
		stageWriter: sw,
		cfg:         cfg,
		ledger:      d.Ledger, // a dryLedger in a dry run (below)
		crm:         &countingCRM{CRM: d.CRM},
		kaspi:       &countingKaspi{OrderSource: d.Kaspi},
		actions:     d.Actions,
		writer:      d.Writer,
		log:         d.Logger,
		out:         d.Out,
		clock:       d.Now,
		loc:         almaty(),
		seen:        map[string]bool{},
		foundNow:    map[string]bool{},
		dryNewSeen:  map[string]bool{},
		stores:      stores,
		kaspis:      map[int]*countingKaspi{},
		writers:     map[int]domain.OrderWriter{},
		storeDown:   map[int]bool{},
	}
	for _, st := range stores[1:] {
		k := &countingKaspi{OrderSource: d.Stores[st.No].Kaspi}
		r.kaspis[st.No] = k
		r.writers[st.No] = d.Stores[st.No].Writer
		r.kaspiMs = append(r.kaspiMs, newMeter(k.OrderSource, &k.calls))
	}
	if cfg.DryRun {
		r.ledger = dryLedger{d.Ledger}
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if a, ok := d.CRM.(domain.AccountReader); ok {
		r.account = a
	}
	r.log = r.log.With("task", task)
	if r.out == nil {
		r.out = io.Discard
	}
	if r.clock == nil {
		r.clock = time.Now
	}
	if len(r.cfg.ImportStates) == 0 {
		r.cfg.ImportStates = DefaultImportStates
	}
	if r.cfg.Budget <= 0 {
		r.cfg.Budget = defaultBudget
	}
	if r.cfg.RefreshEvery <= 0 {
		r.cfg.RefreshEvery = defaultRefreshEvery
	}
	if r.cfg.ReturnWindow == 0 {
		r.cfg.ReturnWindow = defaultReturnWindow
	}
	if r.cfg.RefreshLimit <= 0 {
		r.cfg.RefreshLimit = defaultRefreshLimit
	}
	r.start = r.clock()
	r.deadline = r.start.Add(r.cfg.Budget)
	r.sum.Task = task
	for _, w := range r.cfg.Warnings {
		r.sum.AddWarning(w)
	}
	r.amoM = newMeter(d.CRM, &r.crm.calls)
	r.kaspiM = newMeter(d.Kaspi, &r.kaspi.calls)
	return r, nil
}

// execute runs one task and keeps the run log (not for a dry run, which
// writes nothing): a run is recorded as started before any work, and
// finished with its summary line and whether it did its job.
func execute(ctx context.Context, task string, cfg Config, d Deps, body func(*run, context.Context) error) (Summary, error) {
	r, err := newRun(task, cfg, d)
	if err != nil {
		return Summary{Task: task}, err
	}
	runID, err := r.ledger.StartRun(ctx, task, r.start) // 0 in a dry run
	if err != nil {
		return r.summary(), fmt.Errorf("%s: %w", task, lerr("start run", err))
	}
	// No limiter wait of this run may end past its budget (the limiter
	// keeps real time, whatever clock the run was given).
	ctx = domain.WithWaitBound(ctx, time.Now().Add(r.deadline.Sub(r.start)))
	var sum Summary
	if err = body(r, ctx); err != nil {
		err = fmt.Errorf("%s: %w", task, err)
		r.settle(err, 0, "")
		sum = r.summary()
	} else {
		sum, err = r.finish(ctx)
	}
	if runID != 0 {
		line := sum.String()
		if err != nil {
			line += "; ошибка: " + domain.Explain(err)
		}
		// Recorded even when the run was cancelled.
		if ferr := r.ledger.FinishRunResult(context.WithoutCancel(ctx), runID,
			domain.RunEnd{Result: sum.Result, Reason: sum.Reason(), Summary: line, AmoRequests: sum.AmoRequests}, r.now()); ferr != nil && err == nil {
			err = fmt.Errorf("%s: %w", task, lerr("finish run", ferr))
			r.settle(err, 0, "")
			sum = r.summary()
		}
	}
	return sum, err
}

func (r *run) now() time.Time { return r.clock() }

// expired reports whether the run's time budget is spent.
func (r *run) expired() bool { return !r.now().Before(r.deadline) }

func (r *run) printf(format string, args ...any) { fmt.Fprintf(r.out, format+"\n", args...) }

// finish fills the counters of the summary from the ledger and the clients.
func (r *run) finish(ctx context.Context) (Summary, error) {
	counts, err := r.ledger.StepCounts(ctx)
	if err != nil {
		err = fmt.Errorf("%s: %w", r.sum.Task, lerr("count ledger rows", err))
		r.settle(err, 0, "")
		return r.summary(), err
	}
	r.sum.Pending, r.sum.Quarantined = 0, counts["quarantined"]
	for k, n := range counts {
		if k != string(domain.StepDone) && k != "quarantined" {
			r.sum.Pending += n
		}
	}
	waiting, why, err := r.ledger.SetAsideCount(ctx)
	if err != nil {
		err = fmt.Errorf("%s: %w", r.sum.Task, lerr("count set-aside orders", err))
		r.settle(err, 0, "")
		return r.summary(), err
	}
	r.settle(nil, waiting, why)
	return r.summary(), nil
}

func (r *run) summary() Summary {
	s := r.sum
	s.AmoRequests = r.amoM.count()
	s.KaspiReqs = r.kaspiM.count()
	for _, m := range r.kaspiMs {
		s.KaspiReqs += m.count()
	}
	s.Seconds = r.now().Sub(r.start).Seconds()
	if s.Seconds < 0 {
		s.Seconds = 0
	}
	return s
}

// dropSnapshots removes personal data of orders finished long ago.
func (r *run) dropSnapshots(ctx context.Context) error {
	if r.cfg.SnapshotRetention <= 0 {
		return nil
	}
	n, err := r.ledger.DropSnapshots(ctx, r.now().Add(-r.cfg.SnapshotRetention))
	if err != nil {
		return ledgerErr{fmt.Errorf("drop old snapshots: %w", err)}
	}
	if n > 0 {
		r.log.Info("dropped personal data of finished orders", "rows", n)
	}
	return nil
}

// ledgerErr marks a database failure: the run cannot go on.
type ledgerErr struct{ error }

func (e ledgerErr) Unwrap() error { return e.error }

// Service names the database in the owner's lines (domain.Explain).
func (e ledgerErr) Service() string { return "база данных" }

func lerr(op string, err error) error {
	if err == nil {
		return nil
	}
	return ledgerErr{fmt.Errorf("ledger: %s: %w", op, err)}
}

// fatal reports whether err stops the whole run: the database failed, the
// credentials were rejected, the account is blocked or unpaid, or the run
// was cancelled.
func fatal(err error) bool {
	var le ledgerErr
	return errors.As(err, &le) ||
		errors.Is(err, domain.ErrAuth) ||
		errors.Is(err, domain.ErrForbidden) ||
		errors.Is(err, domain.ErrBanned) ||
		errors.Is(err, domain.ErrPaymentRequired) ||
		errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded)
}

// oneLine flattens an error or message for the one-line outputs.
func oneLine(s string) string { return domain.OneLine(s, 500) }
