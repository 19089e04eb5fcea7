package syncer

import (
	"context"
	"errors"
	"fmt"

	"kaspi-amocrm/pkg/domain"
)

// Auto-accept (KASPI_AUTO_ACCEPT=1): every order Kaspi shows waiting for
// the merchant (NEW / APPROVED_BY_BANK) is accepted once its deal is
// complete, so that nothing is accepted that nobody sees, in the same run
// that made the deal when the budget allows. Exactly once: Kaspi is asked
// about the order first (never accept what the buyer has cancelled), the
// intent is recorded, then the one POST; an unknown outcome (timeout, 5xx,
// a crash after the intent) is settled on the next run by what Kaspi then
// shows, and the POST is sent again only when Kaspi still shows the order
// waiting. The deal then goes through reconcile's change path: it moves
// by the status map, and the action's note stands in for the change note.

// acceptPerRun bounds the accepts of one run (each costs a Kaspi GET and
// a POST).
const acceptPerRun = 100

// autoAccept accepts the due orders.
func (r *run) autoAccept(ctx context.Context) error {
	if !r.cfg.AutoAccept {
		return nil
	}
	recs, err := r.actions.AcceptCandidates(ctx, acceptPerRun)
	if err != nil {
		return lerr("list orders to accept", err)
	}
	if len(recs) == 0 {
		return nil
	}
	if r.statusMaps == nil {
		if err := r.loadStatusMap(ctx); err != nil {
			return err
		}
	}
	changes := map[string]*change{}
	var refusals []domain.Note
	for _, rec := range recs {
		if r.expired() || ctx.Err() != nil {
			break
		}
		if r.storeDown[rec.StoreNo] {
			continue
		}
		c, note, err := r.acceptOne(ctx, rec)
		if err != nil {
			if fatal(err) {
				// One store's token refused stops only that store.
				if err := r.storeFailed(r.storeOf(rec.StoreNo), err); err != nil {
					return err
				}
				continue
			}
			r.log.Warn("accepting the order in Kaspi did not finish; the next run checks it", "order", rec.Code, "err", err)
			continue
		}
		if c != nil {
			changes[rec.Code] = c
		}
		if note != "" {
			refusals = append(refusals, domain.Note{LeadID: rec.LeadID, RequestID: rec.Code, Text: note})
		}
	}
	if err := r.applyChanges(ctx, changes); err != nil {
		return err
	}
	return r.actionNotes(ctx, refusals)
}

// acceptOne settles one order. It returns the deal's change after an
// accept, or the text of a refusal note.
func (r *run) acceptOne(ctx context.Context, rec domain.Record) (*change, string, error) {
	// Every read and write of the order uses its own store's token.
	o, err := r.kaspiOf(rec.StoreNo).OrderByCode(ctx, rec.Code)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, "", nil // not visible at Kaspi now; reconcile follows it
	}
	if err != nil {
		return nil, "", fmt.Errorf("kaspi: order %s: %w", rec.Code, err)
	}
	prior, perr := r.actions.KaspiAction(ctx, rec.Code, domain.ActionAccept)
	if perr != nil && !errors.Is(perr, domain.ErrNotFound) {
		return nil, "", lerr("read accept of "+rec.Code, perr)
	}
	hadIntent := perr == nil && prior.State == domain.ActionIntent

	if o.Status != domain.StatusApprovedByBank || o.State != domain.StateNew {
		// Not waiting any more: our earlier POST went through, a manager
		// accepted it in the cabinet, or the buyer cancelled.
		if r.cfg.DryRun {
			return nil, "", nil
		}
		if !hadIntent {
			// Not ours: the deal follows as reconcile would make it
			// (moved by the map, with the usual change note).
			if c := r.assess(rec, o); c.needsAmo() {
				return c, "", nil
			}
			return nil, "", r.updateOrder(ctx, o)
		}
		if o.Status == domain.StatusAcceptedByMerchant {
			if err := r.actions.SetActionState(ctx, rec.Code, domain.ActionAccept, domain.ActionDone, "", false, r.now()); err != nil {
				return nil, "", lerr("record accept of "+rec.Code, err)
			}
			r.sum.Accepted++
			return r.acceptedChange(rec, o), "", nil
		}
		reason := "заказ в Kaspi уже " + statusLabel(o.Status, o.State)
		if err := r.actions.SetActionState(ctx, rec.Code, domain.ActionAccept, domain.ActionRefused, reason, false, r.now()); err != nil {
			return nil, "", lerr("record accept of "+rec.Code, err)
		}
		r.sum.KaspiRefused++
		r.sum.AddWarning("заказ " + rec.Code + ": Kaspi не принял заказ — " + reason)
		return nil, acceptRefusedNote(reason), nil
	}

	if r.cfg.DryRun {
		r.printf("пробный запуск: заказ %s был бы принят в Kaspi (сделка #%d)", rec.Code, rec.LeadID)
		return nil, "", nil
	}
	if hadIntent {
		// Kaspi still shows it waiting: the earlier POST did not take.
		if err := r.actions.SetActionState(ctx, rec.Code, domain.ActionAccept, domain.ActionIntent, "", true, r.now()); err != nil {
			return nil, "", lerr("record accept of "+rec.Code, err)
		}
	} else {
		mine, err := r.actions.BeginAction(ctx, rec.Code, domain.ActionAccept, r.now())
		if err != nil {
			return nil, "", lerr("record accept of "+rec.Code, err)
		}
		if !mine {
			return nil, "", nil // another run holds it
		}
	}
	got, err := r.writerOf(rec.StoreNo).Accept(ctx, o)
	switch {
	case err == nil:
		if err := r.actions.SetActionState(ctx, rec.Code, domain.ActionAccept, domain.ActionDone, "", false, r.now()); err != nil {
			return nil, "", lerr("record accept of "+rec.Code, err)
		}
		r.sum.Accepted++
		o.State, o.Status = got.State, got.Status // the lines stay those re-read
		r.log.Info("order accepted in Kaspi", "order", rec.Code, "lead", rec.LeadID, "state", o.State)
		return r.acceptedChange(rec, o), "", nil
	case errors.Is(err, domain.ErrAuth):
		return nil, "", fmt.Errorf("kaspi: accept order %s: %w", rec.Code, err)
	case errors.Is(err, domain.ErrBadRequest):
		reason := "Kaspi отказал: " + kaspiReason(err)
		if serr := r.actions.SetActionState(ctx, rec.Code, domain.ActionAccept, domain.ActionRefused, reason, false, r.now()); serr != nil {
			return nil, "", lerr("record accept of "+rec.Code, serr)
		}
		r.sum.KaspiRefused++
		r.sum.AddWarning("заказ " + rec.Code + ": Kaspi не принял заказ — " + reason)
		r.printf("заказ %s: Kaspi не принял заказ: %s", rec.Code, oneLine(err.Error()))
		return nil, acceptRefusedNote(reason), nil
	}
	// Unknown outcome: the intent stays; the next run asks Kaspi.
	return nil, "", err
}

// acceptedChange is the deal's change after an accept: reconcile's path
// moves it by the status map and writes the accept note instead of a
// change note, so the status our own action caused is not noted twice.
func (r *run) acceptedChange(rec domain.Record, o domain.Order) *change {
	c := r.assess(rec, o)
	c.actionNote = acceptedNote(o)
	return c
}

// actionNotes writes the notes of Kaspi actions in bulk calls of at most
// domain.MaxBatch; a failure is logged
// (the refusal is recorded and in the run's summary either way).
func (r *run) actionNotes(ctx context.Context, notes []domain.Note) error {
	if r.cfg.DryRun {
		return nil
	}
	return inBatches(notes, func(b []domain.Note) error {
		switch err := r.crm.AddNotes(ctx, b); classify(err) {
		case applied:
			r.sum.Notes += len(b)
		case stopRun:
			return fmt.Errorf("amocrm: add notes: %w", err)
		default:
			r.log.Warn("amoCRM did not take the Kaspi action notes", "err", err)
		}
		return nil
	})
}

// kaspiReason is Kaspi's own words of a refusal.
func kaspiReason(err error) string {
	var titled interface{ KaspiTitle() string }
	if errors.As(err, &titled) && titled.KaspiTitle() != "" {
		return "«" + titled.KaspiTitle() + "»"
	}
	return oneLine(err.Error())
}

// acceptedNote is the deal's note after an accept.
func acceptedNote(o domain.Order) string {
	return "Kaspi: заказ принят автоматически, статус теперь " + statusLabel(o.Status, o.State)
}

// acceptRefusedNote is the deal's note when the order could not be accepted.
func acceptRefusedNote(reason string) string {
	return "Kaspi: заказ не принят автоматически — " + reason + ". Проверьте заказ в кабинете Kaspi."
}
