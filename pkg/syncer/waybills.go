package syncer

import (
	"context"
	"errors"
	"fmt"

	"kaspi-amocrm/pkg/domain"
)

// pollWaybills asks Kaspi about assembled orders until their waybill
// appears, then writes the link into the deal; an order read by this run
// (skip) waits for the next.
func (r *run) pollWaybills(ctx context.Context, skip map[string]bool) error {
	if !r.anyStage(domain.ActionAssemble) || r.cfg.DryRun {
		return nil
	}
	rows, err := r.stageLedger.ActionsInState(ctx, domain.ActionAssemble, domain.ActionWaiting, pollPerRun)
	if err != nil || len(rows) == 0 {
		return lerr("assembled orders", err)
	}
	codes := make([]string, 0, len(rows))
	for _, a := range rows {
		codes = append(codes, a.Code)
	}
	recs, err := r.ledger.Records(ctx, codes)
	if err != nil {
		return lerr("assembled orders", err)
	}
	var notes []domain.Note
	var updates []domain.LeadUpdate
	for _, a := range rows {
		rec, ok := recs[a.Code]
		if !ok || skip[a.Code] || r.expired() || r.storeDown[rec.StoreNo] {
			continue
		}
		o, err := r.kaspiOf(rec.StoreNo).OrderByCode(ctx, a.Code)
		if err != nil {
			if errors.Is(err, domain.ErrAuth) && r.multiStore() {
				if err := r.storeFailed(r.storeOf(rec.StoreNo), err); err != nil {
					return err
				}
				continue
			}
			if fatal(err) {
				return fmt.Errorf("kaspi: order %s: %w", a.Code, err)
			}
			r.log.Warn("cannot ask Kaspi about the waybill; the next run asks again", "order", a.Code, "err", err)
			continue
		}
		switch {
		case o.Waybill != "":
			text, upd := r.waybillNote(rec.LeadID, o)
			notes = append(notes, domain.Note{LeadID: rec.LeadID, RequestID: a.Code, Text: text})
			if upd != nil {
				updates = append(updates, *upd)
			}
		case domain.IsFinalStatus(o.Status):
			// Cancelled before the waybill: reconcile notes the status.
		default:
			continue
		}
		if err := r.actions.SetActionState(ctx, a.Code, a.Action, domain.ActionDone, "", false, r.now()); err != nil {
			return lerr("record assemble of "+a.Code, err)
		}
	}
	if err := r.actionFieldUpdates(ctx, updates); err != nil {
		return err
	}
	return r.actionNotes(ctx, notes)
}

// waybillNote is the note (and field write) of a ready waybill.
func (r *run) waybillNote(leadID int64, o domain.Order) (string, *domain.LeadUpdate) {
	text := "Kaspi: накладная готова — " + o.Waybill
	if o.WaybillNumber != "" {
		text += " (№ " + o.WaybillNumber + ")"
	}
	if r.cfg.Actions.WaybillFieldID == 0 {
		return text, nil
	}
	return text, &domain.LeadUpdate{ID: leadID, Fields: []domain.FieldValue{{FieldID: r.cfg.Actions.WaybillFieldID,
		Values: []domain.FieldItem{{Value: o.Waybill}}}}}
}

// actionFieldUpdates writes the fields of the actions (waybill links,
// cleared codes) in batches; a failure is logged.
func (r *run) actionFieldUpdates(ctx context.Context, updates []domain.LeadUpdate) error {
	if r.cfg.DryRun {
		return nil
	}
	return inBatches(updates, func(b []domain.LeadUpdate) error {
		switch err := r.crm.UpdateLeads(ctx, b); classify(err) {
		case stopRun:
			return fmt.Errorf("amocrm: update leads: %w", err)
		case notNow, refusedIt:
			r.log.Warn("amoCRM did not take the fields of Kaspi actions", "err", err)
		}
		return nil
	})
}
