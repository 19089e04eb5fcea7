// Package runner runs the sync use cases — fetch_new and reconcile — under
// the run lock, for every way they are started: bin/fetch_new and
// bin/reconcile from cron, bin/scheduler, and cron.cgi. It is the only
// wiring that links pkg/syncer (and with it the phone library), so the
// other endpoints stay small and start fast.
package runner

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"kaspi-amocrm/pkg/alert"
	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/wiring"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/runlock"
	"kaspi-amocrm/pkg/syncer"
)

// BusyMessage is what a run says when another one holds the lock.
const BusyMessage = "Другой запуск ещё работает (storage/cron.lock занят) — этот завершается без работы."

// Task names as the settings keys and the run log spell them.
const (
	TaskFetchNew  = domain.TaskFetchNew
	TaskReconcile = domain.TaskReconcile
)

// TaskName accepts "new" (cron.cgi's name) for fetch_new.
func TaskName(s string) (string, bool) {
	switch s {
	case domain.TaskNewAlias, TaskFetchNew:
		return TaskFetchNew, true
	case TaskReconcile:
		return TaskReconcile, true
	}
	return "", false
}

// StoreClients are the Kaspi clients of stores 2 … 9 as the use cases
// need them.
func StoreClients(c app.Clients) map[int]syncer.StoreClient {
	out := map[int]syncer.StoreClient{}
	for no, kc := range c.KaspiStores() {
		out[no] = syncer.StoreClient{Kaspi: kc, Writer: kc}
	}
	return out
}

// SyncStores are the Kaspi stores as the use cases need them.
func SyncStores(c config.Config) []syncer.Store {
	var out []syncer.Store
	for _, st := range c.KaspiStores {
		out = append(out, syncer.Store{No: st.No, Name: st.Name, Suffix: st.Suffix,
			PipelineID: st.PipelineID, StatusID: st.StatusID, ResponsibleUserID: st.ResponsibleUserID,
			StatusMap: st.StatusMap, NoStageMoves: st.NoStageMoves(), OwnStatusMap: st.OwnStatusMap, Actions: st.Actions})
	}
	return out
}

// SyncConfig is the use cases' configuration from .env.
func SyncConfig(e *wiring.Env) syncer.Config {
	c := e.Config
	sc := syncer.Config{
		PipelineID:                 c.AmoPipelineID,
		StatusID:                   c.AmoStatusID,
		ResponsibleUserID:          c.AmoResponsibleUserID,
		CatalogID:                  c.AmoCatalogID,
		OrderCodeFieldID:           c.AmoLeadOrderCodeFieldID,
		ContactAddressFieldID:      c.AmoContactAddressFieldID,
		LeadDeliveryAddressFieldID: c.AmoLeadDeliveryAddressFieldID,
		LeadOrderDateFieldID:       c.AmoLeadOrderDateFieldID,
		DefaultCountry:             c.DefaultCountry,
		ImportStates:               c.KaspiImportStates,
		Lookback:                   c.KaspiLookback,
		ReturnWindow:               returnWindow(c.KaspiReturnWindow),
		Budget:                     c.RunTimeBudget,
		StatusMap:                  c.AmoStatusMap,
		AutoAccept:                 c.KaspiAutoAccept,
		Actions:                    c.KaspiActions,
		Stores:                     SyncStores(c),
	}
	sc.ContactIndexMax = c.AmoContactIndexMax
	sc.Warnings = ConfigWarnings(e)
	if c.SnapshotRetentionDays > 0 {
		sc.SnapshotRetention = time.Duration(c.SnapshotRetentionDays) * 24 * time.Hour
	}
	return sc
}

// ConfigWarnings lists the settings that make every run warn without
// stopping it (Russian, one reason each). Checks of .env that should reach
// the owner through the run's result go here.
func ConfigWarnings(e *wiring.Env) []string { return e.Config.Warnings() }

// Options tune one run.
type Options struct {
	// LockHeld: the caller (the scheduler) holds storage/cron.lock for
	// the process already; only the database lock is taken here.
	LockHeld bool
	DryRun   bool
	// ConfirmActions: take the Kaspi stage actions even when more than
	// KASPI_ACTIONS_MAX_PER_RUN are pending (--confirm-actions).
	ConfirmActions bool
	Since          time.Time // backfill start; zero = none
	Limit          int
	// Out receives progress and set-aside lines (nil: discard).
	Out io.Writer
}

// Run runs fetch_new or reconcile once, under the run lock, then checks the
// alerts (CheckAlerts). Every way a task starts — bin/fetch_new,
// bin/reconcile, a scheduler tick, cron.cgi — passes here. A held lock
// returns an error wrapping domain.ErrBusy with nothing done.
func Run(ctx context.Context, e *wiring.Env, task string, o Options) (syncer.Summary, error) {
	var sum syncer.Summary
	name, ok := TaskName(task)
	if !ok {
		return sum, fmt.Errorf("unknown task %q", task)
	}
	var (
		release func()
		got     bool
		err     error
	)
	if o.LockHeld {
		release, got, err = e.Store.TryLock(ctx, runlock.Name)
	} else {
		release, got, err = runlock.TryAcquire(ctx, e.Paths.Storage, e.Store)
	}
	if err != nil {
		return sum, fmt.Errorf("%s: %w", name, err)
	}
	if !got {
		return sum, fmt.Errorf("%s: %w", name, domain.ErrBusy)
	}
	defer release()
	// The first line of every run in the daily log names the version:
	// the file owners send to support.
	e.Log.Info(name+" started", slog.String("version", app.Version))

	clients := e.Clients()
	amo, err := clients.Amo()
	if err != nil {
		return sum, err
	}
	cfg := SyncConfig(e)
	cfg.DryRun = o.DryRun
	cfg.ConfirmActions = o.ConfirmActions
	cfg.Limit = o.Limit
	cfg.Since = o.Since
	out := o.Out
	if out == nil {
		out = io.Discard
	}
	kc := clients.Kaspi()
	deps := syncer.Deps{Ledger: e.Store, CRM: amo, Kaspi: kc, Actions: e.Store, Writer: kc, Stores: StoreClients(clients),
		Logger: e.Log, Out: out}
	if name == TaskFetchNew {
		sum, err = syncer.FetchNew(ctx, cfg, deps)
	} else {
		sum, err = syncer.Reconcile(ctx, cfg, deps)
	}
	if !o.DryRun {
		// Still under the run lock, so two processes never send the same
		// alert twice.
		CheckAlerts(ctx, e, time.Now())
	}
	return sum, err
}

// CheckAlerts sends the Telegram alerts the status report calls for (runs
// failing, ban, quarantine, refresh token, no success), each at most once
// per its repeat interval. It does nothing unless both Telegram keys are
// set. A failure to check or send is logged and never fails the run: the
// alert is tried again after the next run.
func CheckAlerts(ctx context.Context, e *wiring.Env, now time.Time) {
	c := e.Config
	if !c.AlertTelegramBotToken.IsSet() || c.AlertTelegramChatID == "" || ctx.Err() != nil {
		return
	}
	tg := alert.NewTelegram(c.AlertTelegramBotToken.Reveal(), c.AlertTelegramChatID, c.AlertTelegramAPIBase, nil)
	if _, err := alert.New(tg, e.Store, e.Log, alert.Policy{}).CheckSource(ctx, e.Store, now); err != nil {
		e.Log.Warn("alert check failed", slog.String("error", err.Error()))
	}
}

// returnWindow maps KASPI_RETURN_WINDOW_DAYS=0 (not watched) to the
// syncer's "none".
func returnWindow(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
