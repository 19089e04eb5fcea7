package config

import (
	"fmt"
	"strconv"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// ReadActions reads the stage actions of one Kaspi store from the keys
// named in keys (get returns a key's trimmed value, "" when unset). Every
// setting is optional: without KASPI_ACTIONS nothing is written to Kaspi
// from a stage. A bad value is a *domain.SettingError naming the key. That
// the stages belong to the store's pipeline is checked against the
// account (doctor, and the run before any action).
func ReadActions(get func(key string) string, keys domain.ActionKeys) (domain.ActionSettings, error) {
	s := domain.ActionSettings{Keys: keys, CancelReason: domain.DefaultCancelReason, MaxPerRun: domain.DefaultActionsMaxPerRun}
	if v := get(keys.Actions); v != "" {
		stages, err := parseStages(keys.Actions, v)
		if err != nil {
			return s, err
		}
		s.Stages = stages
	}
	if v := get(keys.CancelReason); v != "" {
		reason := strings.ToUpper(v)
		if domain.CancelReasonOf(reason) == "" {
			return s, &domain.SettingError{Key: keys.CancelReason, Value: v, Reason: "ожидается одна из причин отмены Kaspi: " + cancelReasons()}
		}
		s.CancelReason = reason
	}
	for _, f := range []struct {
		key string
		dst *int64
	}{
		{keys.CancelReasonField, &s.CancelReasonFieldID},
		{keys.ParcelsField, &s.ParcelsFieldID},
		{keys.CodeField, &s.CodeFieldID},
		{keys.WaybillField, &s.WaybillFieldID},
	} {
		v := get(f.key)
		if v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return s, &domain.SettingError{Key: f.key, Value: v, Reason: "ожидается ID поля сделки amoCRM — целое число (0 — не использовать)"}
		}
		*f.dst = n
	}
	if v := get(keys.MaxPerRun); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return s, &domain.SettingError{Key: keys.MaxPerRun, Value: v, Reason: "ожидается целое число от 1 до 100000 — столько действий в Kaspi запуск делает без подтверждения"}
		}
		s.MaxPerRun = n
	}
	if s.Stages[domain.ActionComplete] != 0 && s.CodeFieldID == 0 {
		return s, &domain.SettingError{Key: keys.CodeField, Value: "", Reason: "задан этап complete в " + keys.Actions +
			" — укажите ID текстового поля сделки, куда менеджер впишет код покупателя"}
	}
	return s, nil
}

// storeActions is the stage actions of a store other than 1: the stages
// of its own key (none when unset) with store 1's fields and limits. A
// bad value is one problem line.
func (r *reader) storeActions(shared domain.ActionSettings, key string) domain.ActionSettings {
	s := shared
	s.Keys.Actions, s.Stages = key, nil
	v := r.str(key)
	if v == "" {
		return s
	}
	stages, err := parseStages(key, v)
	if err == nil && stages[domain.ActionComplete] != 0 && s.CodeFieldID == 0 {
		err = &domain.SettingError{Key: s.Keys.CodeField, Value: "", Reason: "задан этап complete в " + key +
			" — укажите ID текстового поля сделки, куда менеджер впишет код покупателя"}
	}
	if r.settingProblem(err) {
		return s
	}
	s.Stages = stages
	return s
}

// parseStages reads action:statusID pairs.
func parseStages(key, v string) (map[string]int64, error) {
	const expected = "список пар ДЕЙСТВИЕ:ID_ЭТАПА через запятую, действия accept, assemble, complete, cancel (accept:61234568,cancel:143)"
	pairs, bad := idPairs(v)
	if bad != "" {
		return nil, &domain.SettingError{Key: key, Value: v, Reason: "«" + bad + "»: ожидается " + expected}
	}
	out := map[string]int64{}
	byStage := map[int64]string{}
	for _, p := range pairs {
		a, n := strings.ToLower(p.name), p.id
		known := false
		for _, x := range domain.Actions {
			known = known || x == a
		}
		if !known {
			return nil, &domain.SettingError{Key: key, Value: v, Reason: fmt.Sprintf("«%s»: нет такого действия — используйте accept, assemble, complete или cancel", a)}
		}
		if _, dup := out[a]; dup {
			return nil, &domain.SettingError{Key: key, Value: v, Reason: "действие " + a + " указано дважды — одному действию один этап"}
		}
		if other, dup := byStage[n]; dup {
			return nil, &domain.SettingError{Key: key, Value: v, Reason: fmt.Sprintf("этап %d указан и для %s, и для %s — у каждого действия свой этап", n, other, a)}
		}
		out[a], byStage[n] = n, a
	}
	return out, nil
}

func cancelReasons() string {
	var names []string
	for _, r := range domain.MerchantCancelReasons {
		names = append(names, r.Reason)
	}
	return strings.Join(names, ", ")
}

// idPair is one NAME:ID of a comma-separated list (AMO_STATUS_MAP,
// KASPI_ACTIONS), the name trimmed and in the case it was typed.
type idPair struct {
	name string
	id   int64
}

// idPairs splits a comma-separated list of NAME:ID pairs (empty items
// skipped); bad is the first item that is not one, with a positive id.
func idPairs(v string) (pairs []idPair, bad string) {
	for _, item := range strings.Split(v, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, id, ok := strings.Cut(item, ":")
		n, err := strconv.ParseInt(strings.TrimSpace(id), 10, 64)
		if !ok || err != nil || n <= 0 {
			return nil, item
		}
		pairs = append(pairs, idPair{name: strings.TrimSpace(name), id: n})
	}
	return pairs, ""
}
