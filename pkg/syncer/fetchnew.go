package syncer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// FetchNew lists the new Kaspi orders, stores every one in the ledger
// before any amoCRM call, moves the watermark, and then turns the due
// orders into complete deals within the time budget. The caller holds the
// run lock. The error is non-nil only when the run could not do its job
// (database, Kaspi or amoCRM credentials, a ban, an unpaid account); orders
// that wait for a retry are not an error.
func FetchNew(ctx context.Context, cfg Config, d Deps) (Summary, error) {
	return execute(ctx, domain.TaskFetchNew, cfg, d, (*run).fetchNew)
}

func (r *run) fetchNew(ctx context.Context) error {
	now := r.now()
	toMs := now.UnixMilli()
	floor := toMs - windowMs

	adoptFrom := floor
	if !r.cfg.Since.IsZero() {
		adoptFrom = min(r.cfg.Since.UnixMilli(), floor)
	}
	if err := r.adoptCheck(ctx, adoptFrom); err != nil {
		return err
	}
	for _, st := range r.stores {
		found := r.sum.Found
		if err := r.fetchStore(ctx, st, floor, toMs); err != nil {
			if err := r.storeFailed(st, err); err != nil {
				// Every store failed: the run stops, each store's state kept.
				_ = r.saveStoreStates(context.WithoutCancel(ctx))
				return err
			}
			continue
		}
		r.setStoreState(st, "ok", "", r.sum.Found-found)
	}
	if err := r.saveStoreStates(ctx); err != nil {
		return err
	}

	if err := r.adoptExisting(ctx); err != nil {
		return err
	}
	if err := r.processDue(ctx, false); err != nil {
		return err
	}
	if err := r.autoAccept(ctx); err != nil {
		return err
	}
	if err := r.stageActions(ctx); err != nil {
		return err
	}
	return r.dropSnapshots(ctx)
}

// fetchStore lists one store's new orders with its own token and
// watermark into the ledger.
func (r *run) fetchStore(ctx context.Context, st Store, floor, toMs int64) error {
	if !r.cfg.Since.IsZero() {
		return r.backfill(ctx, st, r.cfg.Since.UnixMilli(), toMs)
	}
	key := domain.SettingWatermarkOf(st.No)
	raw, _, err := r.ledger.Setting(ctx, key)
	if err != nil {
		return lerr("read watermark", err)
	}
	wm := parseMs(raw)
	from := floor
	if wm > 0 && wm >= floor {
		from = max(wm-r.cfg.Lookback.Milliseconds(), floor)
	}
	newest, complete, err := r.ingest(ctx, st, r.cfg.ImportStates, from, toMs)
	if err != nil {
		return err
	}
	return r.moveWatermark(ctx, key, wm, newest, complete)
}

// backfill ingests from fromMs in windows of at most 14 days, oldest
// first, with a progress line per window.
func (r *run) backfill(ctx context.Context, st Store, fromMs, toMs int64) error {
	key := domain.SettingWatermarkOf(st.No)
	raw, _, err := r.ledger.Setting(ctx, key)
	if err != nil {
		return lerr("read watermark", err)
	}
	wm := parseMs(raw)
	newest, complete := int64(0), true
	for start := fromMs; start <= toMs; start += windowMs + 1 {
		end := min(start+windowMs, toMs)
		found := r.sum.Found
		n, ok, err := r.ingest(ctx, st, r.cfg.ImportStates, start, end)
		if err != nil {
			return err
		}
		newest, complete = max(newest, n), complete && ok
		r.printf("загрузка за прошлые даты %s – %s: новых заказов %d", day(start, r), day(end, r), r.sum.Found-found)
		if r.expired() {
			r.printf("загрузка за прошлые даты остановлена на %s: время запуска вышло; запустите снова с тем же --since", day(end, r))
			complete = false
			break
		}
	}
	return r.moveWatermark(ctx, key, wm, newest, complete)
}

func day(ms int64, r *run) string { return time.UnixMilli(ms).In(r.loc).Format("2006-01-02") }

// moveWatermark stores the newest creationDate safely in the ledger, only
// when every state was listed completely and only forwards.
func (r *run) moveWatermark(ctx context.Context, key string, old, newest int64, complete bool) error {
	if !complete || newest <= old {
		return nil
	}
	return lerr("move watermark", r.ledger.SetSetting(ctx, key, strconv.FormatInt(newest, 10)))
}

// ingest lists the orders of states created in [fromMs, toMs] and stores
// the ones the ledger lacks. It returns the newest creation time stored and
// whether every listing completed. A Kaspi failure other than rejected
// credentials is logged and leaves complete false: the orders already in
// the ledger are still worth processing.
func (r *run) ingest(ctx context.Context, st Store, states []string, fromMs, toMs int64) (newest int64, complete bool, err error) {
	complete = true
	for _, state := range states {
		err := r.listChunks(ctx, st, state, fromMs, toMs, nil, func(buf []domain.Order) error {
			n, err := r.store(ctx, buf)
			newest = max(newest, n)
			return err
		})
		if err == nil {
			continue
		}
		if fatal(err) {
			return newest, false, err
		}
		complete = false
		r.log.Warn("listing Kaspi orders failed; the next run lists them again", "store", st.No, "state", state, "err", err)
		r.setStoreState(st, "warn", r.storePrefix(st)+"Kaspi не отдал список заказов "+state+": "+domain.Explain(err), 0)
		if !errors.Is(err, domain.ErrTransient) && !errors.Is(err, context.DeadlineExceeded) {
			// Kaspi refused the listing itself; a temporary failure is only
			// retried by the next run and is no warning.
			r.sum.AddWarning(r.storePrefix(st) + fmt.Sprintf("Kaspi не отдал список заказов %s: %s", state, domain.Explain(err)))
		}
	}
	return newest, complete, nil
}

// store puts listed orders into the ledger (a dry run only remembers the
// ones the ledger lacks) and returns their newest creation time.
func (r *run) store(ctx context.Context, listed []domain.Order) (int64, error) {
	var newest int64
	orders := listed[:0:0]
	var rejected []domain.Order
	for _, o := range listed {
		if o.Rejected != "" {
			rejected = append(rejected, o)
			continue
		}
		if o.Code == "" {
			// One malformed order must not stop every run.
			r.log.Warn("Kaspi listed an order without a code; skipped", "kaspi_id", o.ID)
			continue
		}
		orders = append(orders, o)
		newest = max(newest, o.CreationMs)
	}
	if err := r.setAsideRejected(ctx, rejected); err != nil {
		return 0, err
	}
	if len(orders) == 0 {
		return newest, nil
	}
	if r.cfg.DryRun {
		codes := make([]string, 0, len(orders))
		for _, o := range orders {
			codes = append(codes, o.Code)
		}
		known, err := r.ledger.Records(ctx, codes)
		if err != nil {
			return 0, lerr("read orders", err)
		}
		for _, o := range orders {
			if _, ok := known[o.Code]; !ok && !r.dryNewSeen[o.Code] {
				r.dryNewSeen[o.Code] = true
				r.dryNew = append(r.dryNew, o)
				r.sum.Found++
			}
		}
		return newest, nil
	}
	inserted, err := r.ledger.Ingest(ctx, orders, r.now())
	if err != nil {
		return 0, lerr("ingest orders", err)
	}
	r.sum.Found += len(inserted)
	for _, c := range inserted {
		r.foundNow[c] = true
	}
	if r.multiStore() && len(inserted) < len(orders) {
		if err := r.setAsideOtherStores(ctx, orders, inserted); err != nil {
			return 0, err
		}
	}
	return newest, nil
}
