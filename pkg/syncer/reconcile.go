package syncer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"kaspi-amocrm/pkg/domain"
)

// Reconcile keeps deals in step with their orders: it sweeps the last 14
// days of every Kaspi state (ingesting orders fetch_new missed), asks Kaspi
// by code about older open orders, moves deals by the status map, writes a
// note per change, updates the price after a partial cancellation, stops
// tracking finished orders, and retries the orders that were set aside.
// A run with nothing changed makes no amoCRM request. The caller holds the
// run lock; errors as FetchNew.
func Reconcile(ctx context.Context, cfg Config, d Deps) (Summary, error) {
	return execute(ctx, domain.TaskReconcile, cfg, d, (*run).reconcile)
}

// change is what reconcile found out about one finished deal's order.
type change struct {
	rec           domain.Record
	o             domain.Order
	statusChanged bool  // Kaspi status or state differs from the one reflected in amoCRM
	totalChanged  bool  // partial cancellation
	newTotal      int64 // the deal price after a total change
	target        int64 // amoCRM status to move the deal to, 0 = stay
	adopted       bool  // first sight of a row adopted from the PHP version
	mapped        int64
	refused       int64  // the status amoCRM refused to move the deal to: reported once, not retried
	actionNote    string // our own Kaspi action caused the change: this note stands in for the change note
	leadAt        int64  // the deal's stage as just read (0: unknown); a move there is not sent
}

// needsAmo reports whether the change needs an amoCRM request.
func (c *change) needsAmo() bool { return c.statusChanged || c.totalChanged || c.target != 0 }

func (r *run) reconcile(ctx context.Context) error {
	if err := r.loadStatusMap(ctx); err != nil {
		return err
	}
	changes := map[string]*change{}
	swept := map[string]bool{}
	now := r.now()
	to := now.UnixMilli()
	from := to - windowMs
	if err := r.adoptCheck(ctx, from); err != nil {
		return err
	}
	sweepComplete := true
	for _, st := range r.stores {
		complete, err := r.sweepStore(ctx, st, from, to, changes, swept)
		if err != nil {
			if err := r.storeFailed(st, err); err != nil {
				// Every store failed: the run stops, each store's state kept.
				_ = r.saveStoreStates(context.WithoutCancel(ctx))
				return err
			}
			complete = false
		} else if complete {
			r.setStoreState(st, "ok", "", 0)
		}
		sweepComplete = sweepComplete && complete
	}
	if err := r.saveStoreStates(ctx); err != nil {
		return err
	}
	if err := r.adoptExisting(ctx); err != nil {
		return err
	}
	if sweepComplete {
		// A tracked order created inside the swept range that the sweep did
		// not return (a return moved it where the listing misses it) is
		// asked about by code in this run.
		missed, err := r.ledger.MissedBySweep(ctx, from, to, now, r.cfg.RefreshLimit)
		if err != nil {
			return lerr("list orders the sweep missed", err)
		}
		if err := r.refreshRecords(ctx, missed, changes, swept); err != nil {
			return err
		}
	}
	if err := r.refreshStale(ctx, changes, swept); err != nil {
		return err
	}
	if err := r.leaveOwnActions(ctx, changes); err != nil {
		return err
	}
	if err := r.applyChanges(ctx, changes); err != nil {
		return err
	}
	if err := r.processDue(ctx, true); err != nil {
		return err
	}
	if err := r.placeNewDeals(ctx); err != nil {
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

// sweepStore lists one store's orders of the last 14 days in every state
// with its own token. complete is false when a listing failed for a
// reason that does not stop the store (it is swept again next run).
func (r *run) sweepStore(ctx context.Context, st Store, from, to int64, changes map[string]*change, swept map[string]bool) (complete bool, err error) {
	complete = true
	for _, state := range domain.AllStates {
		// A rejected order is never in the ledger; fetch_new reports it once.
		keep := func(o domain.Order) bool { return o.Rejected == "" }
		err := r.listChunks(ctx, st, state, from, to, keep, func(buf []domain.Order) error {
			return r.sweepChunk(ctx, buf, changes, swept)
		})
		if err != nil {
			if fatal(err) {
				return false, err
			}
			complete = false
			r.log.Warn("sweeping Kaspi orders failed; the next run sweeps again", "store", st.No, "state", state, "err", err)
			r.setStoreState(st, "warn", r.storePrefix(st)+"Kaspi не отдал список заказов "+state+": "+domain.Explain(err), 0)
		}
	}
	return complete, nil
}

// placeNewDeals moves the deals this run created to the stage the status
// map gives their order. A late order found by the sweep may already be
// accepted or delivered; left in AMO_STATUS_ID it would wait ten minutes
// for the next reconcile to be placed.
func (r *run) placeNewDeals(ctx context.Context) error {
	if !r.anyStatusMap() || len(r.seen) == 0 || r.cfg.DryRun {
		return nil
	}
	recs, err := r.ledger.Records(ctx, sortedKeys(r.seen))
	if err != nil {
		return lerr("read new deals", err)
	}
	changes := map[string]*change{}
	for code, rec := range recs {
		if rec.Step != domain.StepDone || rec.LeadID == 0 || rec.AmoStatusID != 0 || !rec.Tracked || rec.Order == nil {
			continue
		}
		if c := r.assess(rec, *rec.Order); c.target != 0 {
			changes[code] = c
		}
	}
	if len(changes) == 0 {
		return nil
	}
	return r.applyChanges(ctx, changes)
}

// loadStatusMap merges each store's AMO_STATUS_MAP over the database's
// active status_mapping rows of the store's pipeline. Without a pipeline
// no deal is moved (won/lost need it, and the map's ids belong to it); a
// store with its own pipeline and no map of its own is not moved either.
func (r *run) loadStatusMap(ctx context.Context) error {
	r.statusMaps = map[int]statusMap{}
	for _, st := range r.stores {
		if st.PipelineID == 0 {
			if len(st.StatusMap) > 0 {
				r.log.Warn("AMO_STATUS_MAP is set but AMO_PIPELINE_ID is not; deals are not moved", "store", st.No)
			}
			continue
		}
		if st.NoStageMoves {
			continue
		}
		db, err := r.ledger.ActiveStatusMappings(ctx, st.PipelineID)
		if err != nil {
			return lerr("read status mapping", err)
		}
		r.statusMaps[st.No] = mergeStatusMaps(db, st.StatusMap)
	}
	return nil
}

// anyStatusMap reports whether some store's deals move by a map.
func (r *run) anyStatusMap() bool {
	for _, m := range r.statusMaps {
		if len(m) > 0 {
			return true
		}
	}
	return false
}

// sweepChunk handles listed orders: unknown ones of the import states are
// ingested (the processor gives them deals), known ones are assessed.
func (r *run) sweepChunk(ctx context.Context, orders []domain.Order, changes map[string]*change, swept map[string]bool) error {
	if len(orders) == 0 {
		return nil
	}
	codes := make([]string, 0, len(orders))
	for _, o := range orders {
		codes = append(codes, o.Code)
	}
	recs, err := r.ledger.Records(ctx, codes)
	if err != nil {
		return lerr("read orders", err)
	}
	var fresh []domain.Order
	var dups []domain.Order
	for _, o := range orders {
		rec, ok := recs[o.Code]
		if ok && otherStore(rec, o) {
			// The same code from a second store: never merged (see
			// setAsideOtherStores).
			dups = append(dups, o)
			continue
		}
		swept[o.Code] = true
		if !ok {
			if slices.Contains(r.cfg.ImportStates, o.State) {
				fresh = append(fresh, o)
			}
			continue
		}
		if err := r.observe(ctx, rec, o, changes); err != nil {
			return err
		}
	}
	if len(fresh) > 0 {
		if _, err := r.store(ctx, fresh); err != nil {
			return err
		}
	}
	if len(dups) > 0 {
		return r.setAsideOtherStores(ctx, dups, nil)
	}
	return nil
}

// observe compares a ledger row with the order as Kaspi has it now. A row
// with nothing to bring into amoCRM just gets its snapshot refreshed.
func (r *run) observe(ctx context.Context, rec domain.Record, o domain.Order, changes map[string]*change) error {
	if !rec.Tracked {
		return nil // finished or deleted: leave it (its personal data may be dropped)
	}
	if rec.Step != domain.StepDone || rec.LeadID == 0 {
		// Still on its way to a deal: the processor uses the fresh snapshot.
		return r.updateOrder(ctx, o)
	}
	c := r.assess(rec, o)
	if c.needsAmo() || c.adopted || domain.IsFinalStatus(o.Status) {
		changes[o.Code] = c
		return nil
	}
	return r.updateOrder(ctx, o)
}

func (r *run) updateOrder(ctx context.Context, o domain.Order) error {
	return lerr("update order "+o.Code, r.ledger.UpdateOrder(ctx, o, r.now()))
}

// assess decides what an order's change means for its deal.
//
// The deal moves only to a mapped status that differs from the one we
// last set: a manager's later move is not fought on every run. A deal
// never moved by us counts as being where fetch_new created it. A row
// adopted from the PHP version holds a Kaspi state only; it moves or gets
// a note only when that state really changed.
func (r *run) assess(rec domain.Record, o domain.Order) *change {
	c := &change{rec: rec, o: o, adopted: rec.Status == ""}
	if c.adopted {
		c.statusChanged = rec.State != "" && o.State != rec.State && o.Status != rec.State
	} else {
		c.statusChanged = o.Status != rec.Status || o.State != rec.State
	}
	if rec.TotalPrice > 0 && o.TotalPrice > 0 && math.Abs(o.TotalPrice-float64(rec.TotalPrice)) >= 1 {
		c.totalChanged = true
		c.newTotal = int64(math.Round(o.TotalPrice))
	}
	st := r.storeOf(rec.StoreNo)
	c.mapped = r.statusMaps[st.No].Resolve(o.Status, o.State)
	lastSet := rec.AmoStatusID
	if lastSet == 0 && !c.adopted {
		lastSet = st.StatusID
	}
	firstPlacement := !c.adopted && rec.AmoStatusID == 0
	if c.mapped != 0 && c.mapped != lastSet && (c.statusChanged || firstPlacement) {
		c.target = c.mapped
	}
	return c
}

// refreshStale asks Kaspi by code about open orders the sweep did not
// return (older than 14 days, or adopted without a creation date), least
// recently checked first, a bounded number per run.
func (r *run) refreshStale(ctx context.Context, changes map[string]*change, swept map[string]bool) error {
	recs, err := r.ledger.Stale(ctx, r.now().Add(-r.cfg.RefreshEvery), r.cfg.RefreshLimit+len(changes))
	if err != nil {
		return lerr("list stale orders", err)
	}
	return r.refreshRecords(ctx, recs, changes, swept)
}

// refreshRecords asks Kaspi by code about rows the sweep did not return,
// within the per-run cap.
func (r *run) refreshRecords(ctx context.Context, recs []domain.Record, changes map[string]*change, swept map[string]bool) error {
	for _, rec := range recs {
		if swept[rec.Code] {
			continue
		}
		if r.refreshedByCode >= r.cfg.RefreshLimit || r.expired() {
			break
		}
		if r.storeDown[rec.StoreNo] {
			continue
		}
		r.refreshedByCode++
		o, err := r.kaspiOf(rec.StoreNo).OrderByCode(ctx, rec.Code)
		if err == nil {
			o.StoreNo = rec.StoreNo
		}
		switch {
		case err == nil:
			r.sum.Refreshed++
			swept[rec.Code] = true
			if err := r.observe(ctx, rec, o, changes); err != nil {
				return err
			}
		case fatal(err):
			if err := r.storeFailed(r.storeOf(rec.StoreNo), fmt.Errorf("kaspi: order %s: %w", rec.Code, err)); err != nil {
				return err
			}
			r.storeDown[rec.StoreNo] = true
		case errors.Is(err, domain.ErrNotFound):
			r.log.Warn("Kaspi does not know a tracked order; checked again later", "order", rec.Code)
			if err := r.ledger.SetSynced(ctx, rec.Code, rec.State, rec.Status, 0, true, r.now()); err != nil {
				return lerr("mark checked "+rec.Code, err)
			}
		default:
			r.log.Warn("refreshing an order by code failed; stopping refreshes for this run", "order", rec.Code, "err", err)
			return nil
		}
	}
	return nil
}

// applyChanges moves deals and updates prices in batched PATCHes, writes
// one note per change in bulk, and records what is now in amoCRM.
func (r *run) applyChanges(ctx context.Context, changes map[string]*change) error {
	if err := r.keepPendingCommands(ctx, changes); err != nil {
		return err
	}
	codes := sortedKeys(changes)
	failed := map[string]bool{} // not in amoCRM yet: not recorded, retried next run
	gone := map[string]bool{}

	var upd []*change
	for _, code := range codes {
		if c := changes[code]; (c.target != 0 && c.target != c.leadAt) || c.totalChanged {
			upd = append(upd, c)
		}
	}
	if err := inBatches(upd, func(b []*change) error { return r.updateLeads(ctx, b, failed, gone) }); err != nil {
		return err
	}

	unsure, err := r.unsureNotes(ctx)
	if err != nil {
		return err
	}
	wasUnsure := maps.Clone(unsure)
	var notes []*change
	for _, code := range codes {
		if c := changes[code]; !failed[code] && !gone[code] && (c.statusChanged || c.totalChanged) {
			notes = append(notes, c)
		}
	}
	if err := inBatches(notes, func(b []*change) error { return r.changeNotes(ctx, b, unsure, failed, gone) }); err != nil {
		return err
	}

	for _, code := range codes {
		if !failed[code] {
			delete(unsure, code) // recorded below, or no longer tracked
		}
	}
	if err := r.saveUnsureNotes(ctx, wasUnsure, unsure); err != nil {
		return err
	}
	for _, code := range codes {
		c := changes[code]
		if failed[code] || gone[code] {
			continue
		}
		amo := c.target
		switch {
		case c.refused != 0:
			// Counted as set, so that the same refusal is not met on every
			// run; a later, different mapped status is tried again.
			amo = c.refused
		case c.adopted && amo == 0:
			amo = c.mapped // the PHP version put the deal where the map says
		}
		if err := r.ledger.UpdateOrder(ctx, c.o, r.now()); err != nil {
			return lerr("update order "+code, err)
		}
		tracked := r.stillTracked(c.rec, c.o)
		if err := r.ledger.SetSynced(ctx, code, c.o.State, c.o.Status, amo, tracked, r.now()); err != nil {
			return lerr("record sync "+code, err)
		}
	}
	return nil
}

func (r *run) leadUpdate(c *change) domain.LeadUpdate {
	u := domain.LeadUpdate{ID: c.rec.LeadID}
	if c.target != 0 {
		u.PipelineID, u.StatusID = r.storeOf(c.rec.StoreNo).PipelineID, c.target
	}
	if c.totalChanged {
		p := c.newTotal
		u.Price = &p
	}
	return u
}

// updateLeads sends one PATCH batch. On a refusal, deleted deals are
// dropped and the rest is sent one by one; a deal amoCRM refuses alone is
// reported and not retried (never an endless 400).
func (r *run) updateLeads(ctx context.Context, batch []*change, failed, gone map[string]bool) error {
	if r.cfg.DryRun {
		for _, c := range batch {
			if c.target != 0 {
				r.printf("проверка без записи: заказ %s — сделка #%d была бы перенесена в этап %d", c.o.Code, c.rec.LeadID, c.target)
			}
			if c.totalChanged {
				r.printf("проверка без записи: заказ %s — бюджет сделки #%d стал бы %d", c.o.Code, c.rec.LeadID, c.newTotal)
			}
		}
		return nil
	}
	return batchWrite[*change]{
		what: "update leads",
		send: func(batch []*change) error {
			ups := make([]domain.LeadUpdate, 0, len(batch))
			for _, c := range batch {
				ups = append(ups, r.leadUpdate(c))
			}
			return r.crm.UpdateLeads(ctx, ups)
		},
		live:      func(batch []*change) ([]*change, error) { return r.liveChanges(ctx, batch, gone) },
		done:      func(batch []*change) error { r.countMoves(batch); return nil },
		transient: func(err error) { r.log.Warn("updating deals failed; retried next run", "err", err) },
		later:     func(c *change, _ error) { failed[c.o.Code] = true },
		refused: func(c *change, err error) error {
			r.sum.Failed++
			r.sum.AddWarning(fmt.Sprintf("заказ %s: amoCRM не перенёс сделку #%d в этап %d: «%s»", c.o.Code, c.rec.LeadID, c.target, apiText(err)))
			r.printf("заказ %s: amoCRM не обновил сделку #%d: «%s»", c.o.Code, c.rec.LeadID, apiText(err))
			r.log.Warn("amoCRM refused a deal update", "order", c.o.Code, "lead", c.rec.LeadID, "err", err)
			c.target, c.refused = 0, c.target
			return nil
		},
	}.run(batch)
}

func (r *run) countMoves(batch []*change) {
	for _, c := range batch {
		if c.target != 0 {
			r.sum.Moved++
			r.log.Info("deal moved", "order", c.o.Code, "lead", c.rec.LeadID, "status", c.target, "kaspi_status", c.o.Status, "kaspi_state", c.o.State)
		}
	}
}

// stillTracked decides whether reconcile keeps watching an order: CANCELLED
// and RETURNED are final; a COMPLETED order can still be returned, so it
// stays tracked for the return window from when it was first seen
// completed (now, when this is the first time).
func (r *run) stillTracked(rec domain.Record, o domain.Order) bool {
	switch o.Status {
	case domain.StatusCancelled, domain.StatusReturned:
		return false
	case domain.StatusCompleted:
		since := rec.CompletedAt
		if since.IsZero() || rec.Status != domain.StatusCompleted {
			since = r.now()
		}
		return r.cfg.ReturnWindow > 0 && r.now().Sub(since) < r.cfg.ReturnWindow
	}
	return true
}
