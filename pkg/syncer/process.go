package syncer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// errBudget postpones the rest of a batch when the run's time is spent.
var errBudget = errors.New("run time budget spent")

// item is one order on its way through a batch.
type item struct {
	rec       domain.Record
	o         *domain.Order
	phone     string // E.164, "" when the order has no usable phone
	noContact string // why the deal has no contact
	contactID int64
	out       bool // set aside, postponed or finished elsewhere: no further step this run
	// resumed: the row came in at step linked, so an earlier run may have
	// written its note before losing amoCRM's answer.
	resumed bool
}

func (it *item) code() string { return it.rec.Code }

// processDue works through the due ledger rows, oldest first, in batches
// of at most domain.MaxBatch, until none is left, the budget is spent, the
// limit is reached or amoCRM keeps failing.
func (r *run) processDue(ctx context.Context, withQuarantined bool) error {
	if r.adoptPending {
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, ok := r.nextBatchSize()
		if !ok {
			return nil
		}
		recs, err := r.ledger.Due(ctx, r.now(), n+len(r.seen), withQuarantined)
		if err != nil {
			return lerr("list due orders", err)
		}
		var batch []domain.Record
		for _, rec := range recs {
			if !r.seen[rec.Code] && len(batch) < n {
				batch = append(batch, rec)
			}
		}
		if len(batch) == 0 {
			break
		}
		for _, rec := range batch {
			r.seen[rec.Code] = true
		}
		r.processed += len(batch)
		if err := r.processBatch(ctx, batch); err != nil {
			return err
		}
	}
	// A dry run also shows what the listed orders the ledger lacks would become.
	for len(r.dryNew) > 0 {
		n, ok := r.nextBatchSize()
		if !ok {
			return nil
		}
		n = min(n, len(r.dryNew))
		var batch []domain.Record
		for _, o := range r.dryNew[:n] {
			batch = append(batch, domain.Record{Code: o.Code, State: o.State, Status: o.Status,
				CreationMs: o.CreationMs, Step: domain.StepNew, Order: &o, Tracked: true, StoreNo: storeNo(o.StoreNo)})
		}
		r.dryNew = r.dryNew[n:]
		r.processed += len(batch)
		if err := r.processBatch(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// nextBatchSize is how many orders the next batch may take (false: stop).
func (r *run) nextBatchSize() (int, bool) {
	if r.expired() || r.transient >= maxTransient {
		return 0, false
	}
	n := domain.MaxBatch
	if r.cfg.Limit > 0 {
		if r.processed >= r.cfg.Limit {
			return 0, false
		}
		n = min(n, r.cfg.Limit-r.processed)
	}
	return n, true
}

// processBatch takes up to MaxBatch ledger rows one step further each,
// as far as they go: snapshot, adoption of a lead that may exist,
// contacts, products, leads, links, notes.
func (r *run) processBatch(ctx context.Context, recs []domain.Record) error {
	items := make([]*item, 0, len(recs))
	for _, rec := range recs {
		items = append(items, &item{rec: rec, o: rec.Order, resumed: rec.Step == domain.StepLinked})
	}
	if err := r.loadSnapshots(ctx, items); err != nil {
		return err
	}
	if err := r.adoptLeads(ctx, items); err != nil {
		return err
	}
	if len(pick(items, func(it *item) bool { return it.rec.LeadID == 0 && !it.out })) > 0 {
		if err := r.checkSettings(ctx, false); err != nil {
			return err
		}
		if err := r.checkFieldSettings(ctx); err != nil {
			return err
		}
	}
	needLead := pick(items, func(it *item) bool { return it.rec.LeadID == 0 })
	if err := r.resolveContacts(ctx, needLead); err != nil {
		return err
	}
	elements := map[string]int64{}
	if r.cfg.CatalogID != 0 {
		var err error
		elements, err = r.resolveElements(ctx, pick(items, func(it *item) bool { return beforeLinked(it.rec.Step) }))
		if err != nil {
			return err
		}
	}
	if err := r.createLeads(ctx, pick(items, func(it *item) bool { return it.rec.LeadID == 0 }), false); err != nil {
		return err
	}
	if err := r.linkProducts(ctx, pick(items, func(it *item) bool {
		return it.rec.LeadID > 0 && beforeLinked(it.rec.Step)
	}), elements); err != nil {
		return err
	}
	return r.addOrderNotes(ctx, pick(items, func(it *item) bool {
		return it.rec.LeadID > 0 && it.rec.Step == domain.StepLinked
	}))
}

func beforeLinked(s domain.Step) bool {
	return s == domain.StepNew || s == domain.StepLeadRequested || s == domain.StepLeadCreated || s == ""
}

// pick returns the items still in play that match.
func pick(items []*item, match func(*item) bool) []*item {
	var out []*item
	for _, it := range items {
		if !it.out && match(it) {
			out = append(out, it)
		}
	}
	return out
}

// loadSnapshots asks Kaspi for orders the ledger holds no usable snapshot
// of (rows adopted from the PHP version, snapshots dropped by retention).
func (r *run) loadSnapshots(ctx context.Context, items []*item) error {
	for _, it := range items {
		if it.o != nil && it.o.LinesLoaded {
			continue
		}
		o, err := r.kaspiOf(it.rec.StoreNo).OrderByCode(ctx, it.code())
		switch {
		case err == nil:
			o.StoreNo = it.rec.StoreNo
			it.o = &o
			if err := r.ledger.UpdateOrder(ctx, o, r.now()); err != nil {
				return lerr("update order "+it.code(), err)
			}
		case fatal(err):
			return fmt.Errorf("kaspi: order %s: %w", it.code(), err)
		case errors.Is(err, domain.ErrNotFound):
			if err := r.setAside(ctx, it, "Kaspi не знает заказа с таким кодом"); err != nil {
				return err
			}
		default:
			r.postpone(it, fmt.Errorf("kaspi: order by code: %w", err))
		}
	}
	return nil
}

func (r *run) markStep(ctx context.Context, items []*item, step domain.Step) error {
	codes := make([]string, 0, len(items))
	for _, it := range items {
		codes = append(codes, it.code())
		it.rec.Step = step
	}
	return lerr("set step "+string(step), r.ledger.SetStep(ctx, codes, step, r.now()))
}

// setAside records an order's failure with its backoff, names it in the
// run's output and takes it out of this run.
func (r *run) setAside(ctx context.Context, it *item, reason string) error {
	it.out = true
	reason = oneLine(reason)
	r.sum.Failed++
	why := ""
	if len(r.sum.Reasons) < maxReasons {
		why = fmt.Sprintf("заказ %s отложен: %s", it.code(), reason)
	}
	r.sum.AddWarning(why)
	if r.cfg.DryRun {
		r.printf("проверка без записи: заказ %s был бы отложен: %s", it.code(), reason)
		return nil
	}
	attempts := it.rec.Attempts + 1
	quarantined := attempts >= QuarantineAfter
	next := r.now().Add(backoff(attempts))
	r.printf("заказ %s отложен (попытка %d): %s", it.code(), attempts, reason)
	r.log.Warn("order set aside", "order", it.code(), "attempts", attempts, "quarantined", quarantined, "reason", reason)
	return lerr("set aside "+it.code(), r.ledger.SetAside(ctx, it.code(), reason, next, quarantined, r.now()))
}

// postpone leaves an order for a later run without counting an attempt:
// the failure was not the order's (amoCRM or Kaspi did not answer).
func (r *run) postpone(it *item, err error) {
	if it == nil || it.out {
		return
	}
	it.out = true
	r.log.Info("order postponed", "order", it.code(), "err", err)
}

// maxReasons bounds the reasons a run keeps (the first one is shown).
const maxReasons = 5

// created counts a deal made (or adopted) by this run; an order an earlier
// run found counts as retried too.
func (r *run) created(it *item) {
	r.sum.Created++
	if !r.foundNow[it.code()] {
		r.sum.Retried++
	}
	r.log.Info("deal created", "order", it.code(), "lead", it.rec.LeadID)
}

func (r *run) noteTransient(err error) {
	if errors.Is(err, domain.ErrTransient) {
		r.transient++
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parseMs reads an epoch-ms setting (0 when absent or malformed).
func parseMs(s string) int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v
}
