package syncer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// Stage actions (KASPI_ACTIONS): a manager moves a deal into a stage, and
// Kaspi follows — accept, assemble, complete or cancel its order.
//
// Detection costs one amoCRM request on a quiet run: the leads of the
// action stages changed since the last check (with an overlap), oldest
// change first. amoCRM's filters are alpha and silently ignored on many
// accounts, so every lead is post-filtered by stage and time; once a
// listing shows the filters were ignored, that is logged once and later
// runs read the account's leads latest change first down to the last
// check instead. Leads the ledger does not know are ignored.
//
// Each action happens at most once per order, never blind: the order is
// read from Kaspi first, the transition is checked, the intent recorded,
// then one POST. An unknown outcome is settled on the next run by reading
// the order again. A refusal is final until the manager takes the deal
// out of the stage and brings it back (the deal seen outside the stage
// rearms it). A deal in the stage our own reconcile put it in triggers
// nothing: a map that moves a returned order into 143 does not cancel it
// again. Every outcome is a Russian note on the deal.

// Ledger settings of the detection.
const (
	keyActionsCheckedAt = "stage_actions_checked_at" // unix seconds of the last complete check
	keyLeadFilters      = "amo_lead_filters"         // "ignored" once a listing showed it
)

const (
	// detectOverlap re-reads this much before the last check: a lead
	// changed during the previous listing is not missed.
	detectOverlap = 5 * time.Minute
	// firstLookback is how far back the first check looks.
	firstLookback = time.Hour
	// maxStagePages bounds the listing of one run (250 leads a page).
	maxStagePages = 40
	// maxCodeTries is the most completions tried with typed codes after
	// one code request.
	maxCodeTries = 3
	// rearmWindow: a refusal older than this is no longer watched for the
	// deal leaving its stage.
	rearmWindow = 14 * 24 * time.Hour
	// pollPerRun bounds the waybill polls of one run (a Kaspi GET each).
	pollPerRun = 50
)

// Detail values of waiting actions.
const (
	waitWaybill = "waybill"
	waitCode    = "code"
)

// pendingAction is one action a run found to do.
type pendingAction struct {
	rec    domain.Record
	lead   domain.Lead
	action string
	row    *domain.KaspiAction // nil: none yet
}

// ActionsHeldError stops a run that found more stage actions than
// KASPI_ACTIONS_MAX_PER_RUN: nothing was done.
type ActionsHeldError struct {
	Pending, Max int
	Key          string
}

func (e *ActionsHeldError) Error() string {
	return fmt.Sprintf("%d Kaspi actions pending, more than %s=%d: none taken", e.Pending, e.Key, e.Max)
}

// OwnerText implements domain.Owner.
func (e *ActionsHeldError) OwnerText() string {
	return fmt.Sprintf("Найдено %d действий в Kaspi по этапам сделок — больше, чем %s=%d. Ни одно не выполнено: "+
		"проверьте этапы в KASPI_ACTIONS (bin/doctor) и, если всё верно, подтвердите один запуск: bin/fetch_new --confirm-actions.",
		e.Pending, e.Key, e.Max)
}

// stageActions finds and takes the stage actions of this run, for every
// store with stages of its own. The fields, the default reason and the
// run's limit are shared (r.cfg.Actions).
func (r *run) stageActions(ctx context.Context) error {
	st := r.cfg.Actions
	if !r.anyStageActions() {
		return nil
	}
	if err := r.checkActionStages(ctx); err != nil {
		return err
	}
	now := r.now()
	from := now.Add(-firstLookback).Unix()
	if v, ok, err := r.ledger.Setting(ctx, keyActionsCheckedAt); err != nil {
		return lerr("read the last stage check", err)
	} else if ok {
		if n, perr := strconv.ParseInt(v, 10, 64); perr == nil {
			from = n - int64(detectOverlap/time.Second)
		}
	}
	leads, complete, err := r.stageLeads(ctx, from)
	if err != nil {
		if fatal(err) {
			return fmt.Errorf("amocrm: list leads by stage: %w", err)
		}
		r.noteTransient(err)
		r.log.Warn("listing the deals in action stages failed; the next run looks again", "err", err)
	}
	pending, err := r.pendingActions(ctx, leads)
	if err != nil {
		return err
	}
	held := len(pending) > st.MaxPerRun && !r.cfg.ConfirmActions
	if r.cfg.DryRun {
		for _, p := range pending {
			r.printf("пробный запуск: заказ %s (сделка #%d) — в Kaspi было бы выполнено: %s", p.rec.Code, p.rec.LeadID, actionWords(p.action))
		}
		if held {
			r.printf("пробный запуск: действий %d — больше %s=%d, настоящий запуск не выполнит ни одного без --confirm-actions", len(pending), st.Keys.MaxPerRun, st.MaxPerRun)
		}
		return nil
	}
	if held {
		r.printf("Найдено %d действий в Kaspi по этапам сделок (больше %s=%d) — ни одно не выполнено; подтвердите запуском с --confirm-actions", len(pending), st.Keys.MaxPerRun, st.MaxPerRun)
		return &ActionsHeldError{Pending: len(pending), Max: st.MaxPerRun, Key: st.Keys.MaxPerRun}
	}
	if r.statusMaps == nil {
		if err := r.loadStatusMap(ctx); err != nil {
			return err
		}
	}
	changes := map[string]*change{}
	var notes []domain.Note
	var updates []domain.LeadUpdate
	acted := map[string]bool{}
	for _, p := range pending {
		acted[p.rec.Code] = true
		if r.expired() || ctx.Err() != nil {
			complete = false
			break
		}
		if r.storeDown[p.rec.StoreNo] {
			complete = false // its deals are looked at again next run
			continue
		}
		out, err := r.act(ctx, p)
		if err != nil {
			if errors.Is(err, domain.ErrAuth) && r.multiStore() {
				// One store's token refused stops only that store.
				complete = false
				if err := r.storeFailed(r.storeOf(p.rec.StoreNo), err); err != nil {
					return err
				}
				continue
			}
			if fatal(err) {
				return err
			}
			r.log.Warn("a Kaspi action did not finish; the next run checks the order", "order", p.rec.Code, "action", p.action, "err", err)
			continue
		}
		if out.change != nil {
			changes[p.rec.Code] = out.change
		} else if out.note != "" {
			notes = append(notes, domain.Note{LeadID: p.rec.LeadID, RequestID: p.rec.Code, Text: out.note})
		}
		if out.update != nil {
			updates = append(updates, *out.update)
		}
	}
	if err := r.applyChanges(ctx, changes); err != nil {
		return err
	}
	if err := r.actionFieldUpdates(ctx, updates); err != nil {
		return err
	}
	if err := r.actionNotes(ctx, notes); err != nil {
		return err
	}
	if err := r.pollWaybills(ctx, acted); err != nil {
		return err
	}
	if complete {
		if err := r.ledger.SetSetting(ctx, keyActionsCheckedAt, strconv.FormatInt(now.Unix(), 10)); err != nil {
			return lerr("record the stage check", err)
		}
	}
	return nil
}

// actOutcome is what one action leaves for amoCRM.
type actOutcome struct {
	change *change            // the order's status changed: reconcile's path, with the note
	note   string             // otherwise the note
	update *domain.LeadUpdate // a field to write or clear
}

// act takes one action: read the order, check, record, POST.
func (r *run) act(ctx context.Context, p pendingAction) (actOutcome, error) {
	code := p.rec.Code
	o, err := r.kaspiOf(p.rec.StoreNo).OrderByCode(ctx, code)
	if errors.Is(err, domain.ErrNotFound) {
		return actOutcome{}, nil
	}
	if err != nil {
		return actOutcome{}, fmt.Errorf("kaspi: order %s: %w", code, err)
	}
	settling := p.row != nil && p.row.State == domain.ActionIntent
	if reachedBy(p.action, o) {
		// Our earlier POST took, or the order was already there.
		return r.reached(ctx, p, o, settling)
	}
	if settling && p.action == domain.ActionComplete && p.row.Detail != waitCode {
		// The code request's outcome is unknown and leaves no trace on the
		// order: count it as sent (asking again would change the code).
		// (An intent with detail waitCode was a completion with a typed
		// code: Kaspi shows it did not take, so it is tried again below.)
		return r.codeRequested(ctx, p, o)
	}
	if why, kaspiDelivery := notAllowed(p.action, o); why != "" {
		return r.refuse(ctx, p, o, why, !kaspiDelivery)
	}
	typed := r.leadText(p.lead, r.cfg.Actions.CodeFieldID)
	completing := p.action == domain.ActionComplete && (typed != "" && (p.row == nil || p.row.State == domain.ActionWaiting || settling))
	// Record the intent before the POST.
	switch {
	case p.row == nil:
		mine, err := r.actions.BeginAction(ctx, code, p.action, r.now())
		if err != nil {
			return actOutcome{}, lerr("record "+p.action+" of "+code, err)
		}
		if !mine {
			return actOutcome{}, nil // another run holds it
		}
	case p.row.State == domain.ActionRearmed:
		if err := r.stageLedger.RestartAction(ctx, code, p.action, r.now()); err != nil {
			return actOutcome{}, lerr("record "+p.action+" of "+code, err)
		}
		completing = p.action == domain.ActionComplete && typed != ""
	default:
		if err := r.actions.SetActionState(ctx, code, p.action, domain.ActionIntent, p.row.Detail, true, r.now()); err != nil {
			return actOutcome{}, lerr("record "+p.action+" of "+code, err)
		}
	}
	if completing && (p.row == nil || p.row.State == domain.ActionRearmed) {
		// The intent says a typed code is in flight (see settling above).
		if err := r.actions.SetActionState(ctx, code, p.action, domain.ActionIntent, waitCode, false, r.now()); err != nil {
			return actOutcome{}, lerr("record "+p.action+" of "+code, err)
		}
	}
	if p.row == nil {
		p.row = &domain.KaspiAction{Code: code, Action: p.action, State: domain.ActionIntent, Tries: 1}
	}
	w := r.stageWriterOf(p.rec.StoreNo)
	var got domain.Order
	switch p.action {
	case domain.ActionAccept:
		got, err = w.Accept(ctx, o)
	case domain.ActionCancel:
		reason := domain.CancelReasonOf(r.leadText(p.lead, r.cfg.Actions.CancelReasonFieldID))
		if reason == "" {
			reason = r.cfg.Actions.CancelReason
		}
		got, err = w.Cancel(ctx, o, reason, p.lead.LossReason)
	case domain.ActionAssemble:
		got, err = w.Assemble(ctx, o, r.leadParcels(p.lead))
	case domain.ActionComplete:
		if completing {
			got, err = w.Complete(ctx, o, typed)
		} else {
			got, err = w.SendCompletionCode(ctx, o)
		}
	}
	switch {
	case err == nil:
		if got.Code == "" {
			got = o
		}
		merged := o
		merged.State, merged.Status, merged.Assembled = got.State, got.Status, got.Assembled || o.Assembled
		if p.action == domain.ActionComplete && !completing {
			return r.codeRequested(ctx, p, merged)
		}
		return r.reached(ctx, p, merged, true)
	case errors.Is(err, domain.ErrAuth):
		return actOutcome{}, fmt.Errorf("kaspi: %s order %s: %w", p.action, code, err)
	case errors.Is(err, domain.ErrBadRequest):
		if completing {
			return r.wrongCode(ctx, p, err)
		}
		return r.refuse(ctx, p, o, "Kaspi отказал: "+kaspiReason(err), true)
	}
	// Unknown outcome: the intent stays; the next run reads the order.
	return actOutcome{}, err
}

// reachedBy reports whether the order already shows where action leads.
func reachedBy(action string, o domain.Order) bool {
	switch action {
	case domain.ActionAccept:
		return o.Status == domain.StatusAcceptedByMerchant || o.Status == domain.StatusCompleted
	case domain.ActionCancel:
		return o.Status == domain.StatusCancelled
	case domain.ActionAssemble:
		return o.Assembled
	case domain.ActionComplete:
		return o.Status == domain.StatusCompleted
	}
	return false
}

// notAllowed says why Kaspi would refuse the action from where the order
// stands ("" when allowed); kaspiDelivery marks the completion of a Kaspi
// Delivery order, which is Kaspi's to do, not a refusal.
func notAllowed(action string, o domain.Order) (why string, kaspiDelivery bool) {
	now := "заказ в Kaspi сейчас " + statusLabel(o.Status, o.State)
	switch action {
	case domain.ActionAccept:
		if o.Status != domain.StatusApprovedByBank || o.State != domain.StateNew {
			return now + " — принять можно только новый заказ", false
		}
	case domain.ActionCancel:
		if o.Status != domain.StatusApprovedByBank && o.Status != domain.StatusAcceptedByMerchant {
			return now + " — отменить можно только новый или принятый заказ", false
		}
	case domain.ActionAssemble:
		if !isKaspiDelivery(o) {
			return "заказ доставляется не Kaspi Доставкой — сборка с накладной не нужна", false
		}
		if o.Status != domain.StatusAcceptedByMerchant {
			return now + " — передать на сборку можно только принятый заказ", false
		}
	case domain.ActionComplete:
		if isKaspiDelivery(o) {
			return "заказ Kaspi Доставки завершает сам Kaspi, когда покупатель его получит — в Kaspi ничего не сделано", true
		}
		if o.Status != domain.StatusAcceptedByMerchant {
			return now + " — выдать можно только принятый заказ", false
		}
	}
	return "", false
}

// isKaspiDelivery: Kaspi delivers the order (the flag, or the state an
// accepted Kaspi Delivery order is in).
func isKaspiDelivery(o domain.Order) bool {
	return o.IsKaspiDelivery || o.State == domain.StateKaspiDelivery
}

// reached records a done action (or an assembled order waiting for its
// waybill) and says so on the deal.
func (r *run) reached(ctx context.Context, p pendingAction, o domain.Order, ours bool) (actOutcome, error) {
	code := p.rec.Code
	if p.row == nil {
		if _, err := r.actions.BeginAction(ctx, code, p.action, r.now()); err != nil {
			return actOutcome{}, lerr("record "+p.action+" of "+code, err)
		}
	}
	state, detail := domain.ActionDone, ""
	if p.action == domain.ActionAssemble && o.Waybill == "" {
		state, detail = domain.ActionWaiting, waitWaybill
	}
	if err := r.actions.SetActionState(ctx, code, p.action, state, detail, false, r.now()); err != nil {
		return actOutcome{}, lerr("record "+p.action+" of "+code, err)
	}
	r.sum.KaspiActions++
	if p.action == domain.ActionAccept {
		r.sum.Accepted++
	}
	r.log.Info("Kaspi action done", "order", code, "action", p.action, "lead", p.rec.LeadID)
	text := doneNote(p.action, o, ours)
	var upd *domain.LeadUpdate
	if p.action == domain.ActionAssemble {
		text = fmt.Sprintf("Kaspi: заказ передан на сборку (мест: %d). Накладная появится в Kaspi чуть позже — ссылка придёт примечанием.", max(r.leadParcels(p.lead), 1))
		if o.Waybill != "" {
			text, upd = r.waybillNote(p.rec.LeadID, o)
		}
	}
	c := r.assess(p.rec, o)
	if c.needsAmo() {
		c.actionNote = text
		c.leadAt = p.lead.StatusID
		return actOutcome{change: c, update: upd}, nil
	}
	return actOutcome{note: text, update: upd}, r.updateOrder(ctx, o)
}

// codeRequested records that Kaspi sent the buyer a code.
func (r *run) codeRequested(ctx context.Context, p pendingAction, o domain.Order) (actOutcome, error) {
	if err := r.actions.SetActionState(ctx, p.rec.Code, p.action, domain.ActionWaiting, waitCode, false, r.now()); err != nil {
		return actOutcome{}, lerr("record complete of "+p.rec.Code, err)
	}
	r.sum.KaspiActions++
	name := r.leadFieldName(ctx, r.cfg.Actions.CodeFieldID)
	return actOutcome{note: "Kaspi отправил покупателю код; впишите его в поле «" + name + "»"}, nil
}

// wrongCode notes Kaspi's refusal of a typed code and clears the field;
// after maxCodeTries the completion is refused until the deal is taken
// out of the stage and back (a new code request).
func (r *run) wrongCode(ctx context.Context, p pendingAction, err error) (actOutcome, error) {
	code := p.rec.Code
	row, rerr := r.actions.KaspiAction(ctx, code, p.action)
	if rerr != nil {
		return actOutcome{}, lerr("read complete of "+code, rerr)
	}
	clear := &domain.LeadUpdate{ID: p.rec.LeadID, Fields: []domain.FieldValue{{FieldID: r.cfg.Actions.CodeFieldID}}}
	reason := kaspiReason(err)
	if row.Tries-1 >= maxCodeTries {
		why := fmt.Sprintf("Kaspi не принял код %d раза подряд (%s)", maxCodeTries, reason)
		if serr := r.actions.SetActionState(ctx, code, p.action, domain.ActionRefused, why, false, r.now()); serr != nil {
			return actOutcome{}, lerr("record complete of "+code, serr)
		}
		r.sum.KaspiRefused++
		r.sum.AddWarning("заказ " + code + ": Kaspi не завершил заказ — " + why)
		return actOutcome{update: clear, note: "Kaspi: заказ не выдан — " + why + ". Поле кода очищено. Чтобы запросить новый код, выведите сделку из этапа и верните обратно."}, nil
	}
	if serr := r.actions.SetActionState(ctx, code, p.action, domain.ActionWaiting, waitCode, false, r.now()); serr != nil {
		return actOutcome{}, lerr("record complete of "+code, serr)
	}
	left := maxCodeTries - (row.Tries - 1)
	return actOutcome{update: clear, note: fmt.Sprintf("Kaspi не принял код: %s. Поле кода очищено — впишите верный код (осталось попыток: %d).", reason, left)}, nil
}

// refuse records a refusal and notes it; warn puts it into the run's
// result.
func (r *run) refuse(ctx context.Context, p pendingAction, o domain.Order, why string, warn bool) (actOutcome, error) {
	code := p.rec.Code
	if p.row == nil {
		mine, err := r.actions.BeginAction(ctx, code, p.action, r.now())
		if err != nil {
			return actOutcome{}, lerr("record "+p.action+" of "+code, err)
		}
		if !mine {
			return actOutcome{}, nil
		}
	}
	if err := r.actions.SetActionState(ctx, code, p.action, domain.ActionRefused, why, false, r.now()); err != nil {
		return actOutcome{}, lerr("record "+p.action+" of "+code, err)
	}
	if !warn {
		return actOutcome{note: "Kaspi: " + why + "."}, nil
	}
	r.sum.KaspiRefused++
	r.sum.AddWarning("заказ " + code + ": Kaspi — «" + actionWords(p.action) + "» не выполнено: " + why)
	r.printf("заказ %s: «%s» не выполнено: %s", code, actionWords(p.action), why)
	return actOutcome{note: "Kaspi: «" + actionWords(p.action) + "» не выполнено — " + why +
		". Сделка оставлена в этапе; чтобы попробовать снова, выведите её из этапа и верните обратно."}, nil
}

// leadText is the first value of a deal's field as text ("" when absent).
func (r *run) leadText(l domain.Lead, fieldID int64) string {
	if fieldID == 0 {
		return ""
	}
	for _, f := range l.Fields {
		if f.FieldID == fieldID && len(f.Values) > 0 && f.Values[0].Value != nil {
			return strings.TrimSpace(fmt.Sprint(f.Values[0].Value))
		}
	}
	return ""
}

// leadParcels is numberOfSpace from the parcels field, 1 when unset.
func (r *run) leadParcels(l domain.Lead) int {
	v := r.leadText(l, r.cfg.Actions.ParcelsFieldID)
	f, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", "."), 64)
	if err != nil || f < 1 || f > 1000 {
		return 1
	}
	return int(f)
}

// leadFieldName is a deal field's name for a note (its id when the
// account's fields cannot be read).
func (r *run) leadFieldName(ctx context.Context, id int64) string {
	defs, err := r.crm.CustomFields(ctx, "leads")
	if err == nil {
		for _, d := range defs {
			if d.ID == id && d.Name != "" {
				return d.Name
			}
		}
	}
	return "ID " + strconv.FormatInt(id, 10)
}

// actionWords names an action for the owner.
func actionWords(action string) string {
	switch action {
	case domain.ActionAccept:
		return "принятие заказа"
	case domain.ActionAssemble:
		return "передача на сборку"
	case domain.ActionComplete:
		return "выдача заказа"
	case domain.ActionCancel:
		return "отмена заказа"
	}
	return action
}

// doneNote is the deal's note of a done action.
func doneNote(action string, o domain.Order, ours bool) string {
	status := statusLabel(o.Status, o.State)
	if !ours {
		return "Kaspi: ничего не сделано («" + actionWords(action) + "») — заказ в Kaspi уже " + status + "."
	}
	switch action {
	case domain.ActionAccept:
		return "Kaspi: заказ принят, статус теперь " + status + "."
	case domain.ActionCancel:
		return "Kaspi: заказ отменён, статус теперь " + status + "."
	case domain.ActionComplete:
		return "Kaspi: заказ выдан покупателю, статус теперь " + status + "."
	}
	return "Kaspi: выполнено («" + actionWords(action) + "»), статус " + status + "."
}
