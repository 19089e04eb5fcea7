package doctor

import (
	"context"
	"fmt"
	"strings"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
)

// Field types the stage actions accept.
var (
	typesCode         = []string{"text", "numeric"}
	typesParcels      = []string{"numeric", "text"}
	typesWaybill      = []string{"url", "text", "textarea"}
	typesCancelReason = []string{"select"}
)

// checkActions checks the stage actions (KASPI_ACTIONS): every stage is a
// stage of the pipeline and not its incoming stage, the fields exist with
// a usable type, and no status map entry puts deals into an action's stage
// for a state the action does not lead to. It lists the option names the
// cancel reason field is read by.
func checkActions(ctx context.Context, r *Report, amo Amo, cfg config.Config, pipeline *amocrm.Pipeline) {
	s := cfg.KaspiActions
	if !checkActionStages(r, s, cfg.AmoStatusMap, pipeline) && !anyStoreActions(cfg) {
		return
	}
	// The fields are the account's, shared by every store's actions.
	cache := map[string][]domain.FieldDef{}
	specs := []fieldSpec{
		{s.CodeFieldID, s.Keys.CodeField, "leads", "код покупателя для выдачи", typesCode},
		{s.ParcelsFieldID, s.Keys.ParcelsField, "leads", "количество мест для сборки", typesParcels},
		{s.WaybillFieldID, s.Keys.WaybillField, "leads", "накладная Kaspi Доставки", typesWaybill},
		{s.CancelReasonFieldID, s.Keys.CancelReasonField, "leads", "причина отмены в Kaspi", typesCancelReason},
	}
	for _, f := range specs {
		checkField(ctx, r, amo, f, cache)
	}
	reasons := Check{ID: "amo.actions.cancel_reasons", Title: "Причины отмены для Kaspi"}
	var names []string
	for _, cr := range domain.MerchantCancelReasons {
		names = append(names, "«"+cr.Option+"» ("+cr.Reason+")")
	}
	reasons.Mark = OK
	reasons.Detail = "по умолчанию " + s.CancelReason
	if s.CancelReasonFieldID != 0 {
		reasons.Detail += "; варианты поля списка, которые понимает синхронизация: " + strings.Join(names, ", ") + " — другие значения заменяются на " + s.CancelReason
	}
	r.add(reasons)
}

// anyStoreActions reports whether some Kaspi store has stage actions.
func anyStoreActions(cfg config.Config) bool {
	if cfg.KaspiActions.Enabled() {
		return true
	}
	for _, st := range cfg.KaspiStores {
		if st.Actions.Enabled() {
			return true
		}
	}
	return false
}

// checkActionStages adds the check of one store's action stages (the
// stages of its pipeline, not the incoming one, and no status map entry
// that puts deals into them); it reports whether the store has any.
func checkActionStages(r *Report, s domain.ActionSettings, statusMap map[string]int64, pipeline *amocrm.Pipeline) bool {
	c := Check{ID: "amo.actions", Title: "Действия в Kaspi по этапам сделок (KASPI_ACTIONS)"}
	if !s.Enabled() {
		c.Mark, c.Detail = OK, "не заданы — из этапов сделок в Kaspi ничего не пишется"
		r.add(c)
		return false
	}
	if pipeline == nil {
		c.Mark, c.Detail = Skip, "воронка не найдена"
		r.add(c)
		return true
	}
	pi := domain.PipelineInfo{ID: pipeline.ID, Name: pipeline.Name}
	for _, st := range pipeline.Statuses {
		pi.Stages = append(pi.Stages, domain.Stage{ID: st.ID, Name: st.Name, Type: st.Type})
	}
	lists := domain.AccountLists{Pipelines: []domain.PipelineInfo{pi}}
	if se := lists.CheckActionStages(pipeline.ID, s); se != nil {
		c.Mark, c.Detail = Fail, se.Error()
		c.Fix = "Укажите в " + s.Keys.Actions + " этапы воронки «" + pipeline.Name + "»: " + listStatuses(*pipeline) + " (142 — успешно, 143 — не реализовано)."
		r.add(c)
		return true
	}
	var parts []string
	for _, a := range domain.Actions {
		if id, ok := s.Stages[a]; ok {
			parts = append(parts, fmt.Sprintf("%s — «%s»", a, stageName(*pipeline, id)))
		}
	}
	c.Mark, c.Detail = OK, strings.Join(parts, ", ")+fmt.Sprintf("; без подтверждения не больше %d действий за запуск", s.MaxPerRun)
	if conflicts := domain.ActionMapConflicts(statusMap, s); len(conflicts) > 0 {
		c.Mark = Warn
		c.Detail += "; AMO_STATUS_MAP: " + strings.Join(conflicts, "; ")
		c.Fix = "Синхронизация сама ставит такие сделки в этап действия, и действие для них не выполняется (сделка, поставленная синхронизацией, ничего не запускает). " +
			"Уберите эти правила из AMO_STATUS_MAP или направьте их в другой этап."
	}
	r.add(c)
	return true
}

func stageName(p amocrm.Pipeline, id int64) string {
	switch id {
	case domain.StatusWon:
		return "Успешно реализовано"
	case domain.StatusLost:
		return "Закрыто и не реализовано"
	}
	for _, s := range p.Statuses {
		if s.ID == id {
			return s.Name
		}
	}
	return fmt.Sprint(id)
}
