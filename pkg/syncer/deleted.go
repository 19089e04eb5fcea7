package syncer

import (
	"context"
	"fmt"
	"sort"

	"kaspi-amocrm/pkg/domain"
)

// dropDeletedLeads asks amoCRM which of the items' deals still exist. A
// deal deleted by a manager is reported once and its order is no longer
// tracked; the live items are returned.
func (r *run) dropDeletedLeads(ctx context.Context, items []*item) ([]*item, error) {
	ids := make([]int64, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.rec.LeadID)
	}
	leads, err := r.crm.GetLeads(ctx, ids)
	if err != nil {
		if fatal(err) {
			return nil, fmt.Errorf("amocrm: get leads: %w", err)
		}
		// Cannot tell: treat them all as live; the per-order retry decides.
		return items, nil
	}
	exists := map[int64]bool{}
	for _, l := range leads {
		if !l.IsDeleted {
			exists[l.ID] = true
		}
	}
	var live []*item
	for _, it := range items {
		if exists[it.rec.LeadID] {
			live = append(live, it)
			continue
		}
		if err := r.leadGone(ctx, it); err != nil {
			return nil, err
		}
	}
	return live, nil
}

// leadGone stops tracking an order whose deal was deleted in amoCRM.
func (r *run) leadGone(ctx context.Context, it *item) error {
	r.printf("заказ %s: сделку #%d удалили в amoCRM — заказ больше не отслеживается", it.code(), it.rec.LeadID)
	r.log.Warn("deal deleted in amoCRM; order no longer tracked", "order", it.code(), "lead", it.rec.LeadID)
	it.out = true
	if it.rec.Step != domain.StepDone {
		if err := r.ledger.SetStep(ctx, []string{it.code()}, domain.StepDone, r.now()); err != nil {
			return lerr("finish order "+it.code(), err)
		}
	}
	state, status := it.rec.State, it.rec.Status
	if it.o != nil {
		state, status = it.o.State, it.o.Status
	}
	return lerr("untrack order "+it.code(), r.ledger.SetSynced(ctx, it.code(), state, status, 0, false, r.now()))
}

// liveChanges drops the changes whose deal was deleted in amoCRM.
func (r *run) liveChanges(ctx context.Context, batch []*change, gone map[string]bool) ([]*change, error) {
	items := make([]*item, 0, len(batch))
	byCode := map[string]*change{}
	for _, c := range batch {
		o := c.o
		items = append(items, &item{rec: c.rec, o: &o})
		byCode[c.o.Code] = c
	}
	live, err := r.dropDeletedLeads(ctx, items)
	if err != nil {
		return nil, err
	}
	var out []*change
	alive := map[string]bool{}
	for _, it := range live {
		alive[it.code()] = true
		out = append(out, byCode[it.code()])
	}
	for _, c := range batch {
		if !alive[c.o.Code] {
			gone[c.o.Code] = true
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].o.Code < out[j].o.Code })
	return out, nil
}
