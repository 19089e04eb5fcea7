package syncer

import (
	"context"
	"errors"
	"fmt"

	"kaspi-amocrm/pkg/domain"
)

// Detection of the stage actions: which deals sit in an action stage with
// something to do (see stageactions.go).

// checkActionStages stops the run with a *domain.SettingError when a stage
// of a store's KASPI_ACTIONS(_n) is not a usable stage of its pipeline.
// The account's lists come from the cache; a refusal is confirmed by a
// fresh read.
func (r *run) checkActionStages(ctx context.Context) error {
	if r.account == nil {
		return nil
	}
	for _, fresh := range []bool{false, true} {
		lists, err := r.accountLists(ctx, fresh)
		if err != nil {
			if fatal(err) {
				return fmt.Errorf("amocrm: account lists: %w", err)
			}
			r.log.Warn("cannot read the account's pipelines; KASPI_ACTIONS stages not checked", "err", err)
			return nil
		}
		var se *domain.SettingError
		for _, st := range r.stageStores() {
			if se = lists.CheckActionStages(st.PipelineID, st.Actions); se != nil {
				break
			}
		}
		if se == nil {
			return nil
		}
		if fresh {
			r.log.Error("a stage of KASPI_ACTIONS is refused; no Kaspi action is taken until it is fixed", "key", se.Key, "value", se.Value)
			return se
		}
	}
	return nil
}

// leaveOwnActions takes out of the sweep's changes the orders whose new
// Kaspi status is the outcome of our own action still recorded as an
// intent (its answer was lost): the action settles them later in this run
// and writes its own note, so the change is not noted twice.
func (r *run) leaveOwnActions(ctx context.Context, changes map[string]*change) error {
	lister, ok := r.actions.(interface {
		ActionsInState(ctx context.Context, action string, state domain.ActionState, limit int) ([]domain.KaspiAction, error)
	})
	if !ok || len(changes) == 0 || (!r.cfg.AutoAccept && !r.anyStageActions()) {
		return nil
	}
	intents, err := lister.ActionsInState(ctx, "", domain.ActionIntent, 500)
	if err != nil {
		return lerr("unsettled Kaspi actions", err)
	}
	for _, a := range intents {
		if c, ok := changes[a.Code]; ok && reachedBy(a.Action, c.o) {
			delete(changes, a.Code)
		}
	}
	return nil
}

// stageLeads lists the deals of the action stages of every store changed
// since from, post-filtered; complete is false when the listing stopped
// early. All stores' stages go into one listing: a quiet run costs one
// request however many stores there are.
func (r *run) stageLeads(ctx context.Context, from int64) (leads []domain.Lead, complete bool, err error) {
	var stages []domain.StageRef
	inStage := map[domain.StageRef]bool{}
	for _, st := range r.stageStores() {
		for _, id := range st.Actions.StageIDs() {
			ref := domain.StageRef{PipelineID: st.PipelineID, StatusID: id}
			if !inStage[ref] {
				inStage[ref] = true
				stages = append(stages, ref)
			}
		}
	}
	keep := func(l domain.Lead) bool {
		return inStage[domain.StageRef{PipelineID: l.PipelineID, StatusID: l.StatusID}] && l.UpdatedAt >= from
	}
	ignored, _, err := r.ledger.Setting(ctx, keyLeadFilters)
	if err != nil {
		return nil, false, lerr("read the lead filters", err)
	}
	if ignored != "ignored" {
		for page := 1; page <= maxStagePages; page++ {
			got, more, err := r.crm.LeadsInStagesPage(ctx, stages, from, true, page)
			if err != nil {
				return leads, false, err
			}
			for _, l := range got {
				if !keep(l) {
					ignored = "ignored"
					continue
				}
				leads = append(leads, l)
			}
			if ignored == "ignored" {
				break
			}
			if !more {
				return leads, true, nil
			}
		}
		if ignored != "ignored" {
			return leads, false, nil // more pages than one run reads
		}
		r.log.Warn("amoCRM ignored the lead filters (the account is not in the filters alpha); deals in action stages are found by reading the leads latest change first from now on")
		if err := r.ledger.SetSetting(ctx, keyLeadFilters, "ignored"); err != nil {
			return nil, false, lerr("record the lead filters", err)
		}
		leads = leads[:0]
	}
	for page := 1; page <= maxStagePages; page++ {
		got, more, err := r.crm.LeadsInStagesPage(ctx, stages, from, false, page)
		if err != nil {
			return leads, false, err
		}
		older := false
		for _, l := range got {
			if l.UpdatedAt < from {
				older = true
				continue
			}
			if keep(l) {
				leads = append(leads, l)
			}
		}
		if older || !more {
			return leads, true, nil
		}
	}
	return leads, false, nil
}

// pendingActions decides which listed deals have an action to take, adds
// the unsettled intents, and rearms refusals whose deal left its stage.
func (r *run) pendingActions(ctx context.Context, leads []domain.Lead) ([]pendingAction, error) {
	ids := make([]int64, 0, len(leads))
	for _, l := range leads {
		ids = append(ids, l.ID)
	}
	recs, err := r.stageLedger.RecordsByLead(ctx, ids)
	if err != nil {
		return nil, lerr("records of listed deals", err)
	}
	var out []pendingAction
	taken := map[string]bool{}
	for _, l := range leads {
		rec, ok := recs[l.ID]
		if !ok || rec.Step != domain.StepDone || rec.LeadID != l.ID || taken[rec.Code] {
			continue // not ours, or not a complete deal yet
		}
		if l.StatusID == rec.AmoStatusID {
			continue // where our own reconcile put it: no ping-pong
		}
		// The order's own store decides: a deal in another store's
		// stage (or pipeline) is not an action of this one.
		st := r.storeOf(rec.StoreNo)
		action := st.Actions.ActionOf(l.StatusID)
		if l.PipelineID != st.PipelineID || action == "" {
			continue
		}
		p := pendingAction{rec: rec, lead: l, action: action}
		row, err := r.actions.KaspiAction(ctx, rec.Code, action)
		switch {
		case errors.Is(err, domain.ErrNotFound):
		case err != nil:
			return nil, lerr("read "+action+" of "+rec.Code, err)
		case row.State == domain.ActionIntent || row.State == domain.ActionRearmed:
			p.row = &row
		case row.State == domain.ActionWaiting && action == domain.ActionComplete && row.Detail == waitCode && r.leadText(l, r.cfg.Actions.CodeFieldID) != "":
			p.row = &row
		default:
			continue // done, refused, or waiting for Kaspi: at most once
		}
		taken[rec.Code] = true
		out = append(out, p)
	}
	// Intents whose outcome is unknown are settled whether or not their
	// deal changed since.
	intents, err := r.stageLedger.ActionsInState(ctx, "", domain.ActionIntent, 200)
	if err != nil {
		return nil, lerr("unsettled Kaspi actions", err)
	}
	var lost []domain.KaspiAction
	for _, a := range intents {
		if a.Action == domain.ActionAccept && !r.anyStage(domain.ActionAccept) {
			continue // auto-accept settles its own
		}
		if !taken[a.Code] {
			lost = append(lost, a)
		}
	}
	if len(lost) > 0 {
		more, err := r.actionsWithLeads(ctx, lost)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	if err := r.rearm(ctx); err != nil {
		return nil, err
	}
	return out, nil
}

// actionsWithLeads pairs action rows with their records and deals.
func (r *run) actionsWithLeads(ctx context.Context, rows []domain.KaspiAction) ([]pendingAction, error) {
	codes := make([]string, 0, len(rows))
	for _, a := range rows {
		codes = append(codes, a.Code)
	}
	recs, err := r.ledger.Records(ctx, codes)
	if err != nil {
		return nil, lerr("records of Kaspi actions", err)
	}
	var ids []int64
	for _, rec := range recs {
		if rec.LeadID > 0 {
			ids = append(ids, rec.LeadID)
		}
	}
	leads, err := r.crm.GetLeads(ctx, ids)
	if err != nil {
		if fatal(err) {
			return nil, fmt.Errorf("amocrm: get leads: %w", err)
		}
		r.log.Warn("cannot read the deals of unsettled Kaspi actions; the next run tries again", "err", err)
		return nil, nil
	}
	byID := map[int64]domain.Lead{}
	for _, l := range leads {
		byID[l.ID] = l
	}
	var out []pendingAction
	for i := range rows {
		rec, ok := recs[rows[i].Code]
		l, found := byID[rec.LeadID]
		if !ok || !found {
			continue
		}
		if rows[i].Action == domain.ActionAccept && r.storeOf(rec.StoreNo).Actions.Stages[domain.ActionAccept] == 0 {
			continue // the store has no accept stage: auto-accept settles its own
		}
		out = append(out, pendingAction{rec: rec, lead: l, action: rows[i].Action, row: &rows[i]})
	}
	return out, nil
}

// rearm marks the recent refusals of tracked orders whose deal is no
// longer in the action's stage: bringing it back tries again. It reads
// amoCRM only while such refusals exist (one request per 50 deals).
func (r *run) rearm(ctx context.Context) error {
	if r.cfg.DryRun {
		return nil
	}
	refused, err := r.stageLedger.ActionsInState(ctx, "", domain.ActionRefused, 500)
	if err != nil {
		return lerr("refused Kaspi actions", err)
	}
	var watch []domain.KaspiAction
	for _, a := range refused {
		if r.anyStage(a.Action) && r.now().Sub(a.UpdatedAt) < rearmWindow {
			watch = append(watch, a)
		}
	}
	if len(watch) == 0 {
		return nil
	}
	codes := make([]string, 0, len(watch))
	for _, a := range watch {
		codes = append(codes, a.Code)
	}
	recs, err := r.ledger.Records(ctx, codes)
	if err != nil {
		return lerr("records of refused Kaspi actions", err)
	}
	var ids []int64
	for _, a := range watch {
		if rec, ok := recs[a.Code]; ok && rec.Tracked && rec.LeadID > 0 && r.storeOf(rec.StoreNo).Actions.Stages[a.Action] != 0 {
			ids = append(ids, rec.LeadID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	leads, err := r.crm.GetLeads(ctx, ids)
	if err != nil {
		if fatal(err) {
			return fmt.Errorf("amocrm: get leads: %w", err)
		}
		r.log.Warn("cannot read the deals of refused Kaspi actions", "err", err)
		return nil
	}
	at := map[int64]int64{}
	for _, l := range leads {
		at[l.ID] = l.StatusID
	}
	for _, a := range watch {
		rec, ok := recs[a.Code]
		status, seen := at[rec.LeadID]
		if !ok || !seen || status == r.storeOf(rec.StoreNo).Actions.Stages[a.Action] {
			continue
		}
		if err := r.actions.SetActionState(ctx, a.Code, a.Action, domain.ActionRearmed, a.Detail, false, r.now()); err != nil {
			return lerr("rearm "+a.Action+" of "+a.Code, err)
		}
	}
	return nil
}

// keepPendingCommands leaves where they are the deals a manager has put
// into an action stage whose action is still to be taken. Moving such a
// deal by the status map (its first placement, or a Kaspi status that
// changed meanwhile) would undo the manager's command before this run's
// stage actions see it: the order would never be cancelled. The stages of
// the deals this run has not read are read first (one request per 50),
// only when stage actions are configured; a failed read moves as before.
func (r *run) keepPendingCommands(ctx context.Context, changes map[string]*change) error {
	if !r.anyStageActions() || r.cfg.DryRun {
		return nil
	}
	byLead := map[int64]*change{}
	var ids []int64
	for _, c := range changes {
		if c.target != 0 && c.leadAt == 0 && c.actionNote == "" && c.rec.LeadID > 0 && r.storeOf(c.rec.StoreNo).Actions.Enabled() {
			byLead[c.rec.LeadID] = c
			ids = append(ids, c.rec.LeadID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	leads, err := r.crm.GetLeads(ctx, ids)
	if err != nil {
		if fatal(err) {
			return fmt.Errorf("amocrm: get leads: %w", err)
		}
		r.log.Warn("cannot read the stages of the deals to move; a manager's move into an action stage may be undone", "err", err)
		return nil
	}
	for _, l := range leads {
		c := byLead[l.ID]
		if c == nil {
			continue
		}
		c.leadAt = l.StatusID
		st := r.storeOf(c.rec.StoreNo)
		action := st.Actions.ActionOf(l.StatusID)
		if l.PipelineID != st.PipelineID || action == "" || l.StatusID == c.rec.AmoStatusID {
			continue // not in an action stage, or where our own reconcile put it
		}
		row, err := r.actions.KaspiAction(ctx, c.rec.Code, action)
		switch {
		case errors.Is(err, domain.ErrNotFound):
		case err != nil:
			return lerr("read "+action+" of "+c.rec.Code, err)
		case row.State != domain.ActionIntent && row.State != domain.ActionRearmed:
			continue // settled: the map may move the deal on
		}
		c.target = 0 // the manager's command stands; the stage action takes it
	}
	return nil
}
