package doctor

import (
	"context"
	"regexp"
	"strconv"

	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
)

// Kaspi stores 2 … 9 are checked like store 1: their token, and the
// pipeline, stage, user and status map their deals get. Their checks are
// store 1's, with the store in the title, "_n" in the id and the store's
// keys in the text.

// storeConfig is cfg as store st sees it: its token and amoCRM values in
// store 1's places.
func storeConfig(cfg config.Config, st config.KaspiStore) config.Config {
	c := cfg
	c.KaspiAPIToken = st.Token
	c.AmoPipelineID, c.AmoStatusID, c.AmoResponsibleUserID = st.PipelineID, st.StatusID, st.ResponsibleUserID
	c.AmoStatusMap = st.StatusMap
	c.KaspiActions = st.Actions
	c.KaspiStores = nil
	return c
}

var storeKeys = regexp.MustCompile(`\b(KASPI_API_TOKEN|AMO_PIPELINE_ID|AMO_STATUS_ID|AMO_RESPONSIBLE_USER_ID|AMO_STATUS_MAP|KASPI_ACTIONS)\b`)

// forStore runs checks for store st and marks the ones they add as its own.
func forStore(r *Report, st config.KaspiStore, checks func()) {
	from := len(r.Checks)
	checks()
	for i := from; i < len(r.Checks); i++ {
		c := &r.Checks[i]
		c.ID += "_" + strconv.Itoa(st.No)
		c.Title = storeKeys.ReplaceAllString(c.Title, "${1}"+st.Suffix) + " — магазин Kaspi " + st.Label()
		c.Detail = storeKeys.ReplaceAllString(c.Detail, "${1}"+st.Suffix)
		c.Fix = storeKeys.ReplaceAllString(c.Fix, "${1}"+st.Suffix)
	}
}

// checkStores checks the amoCRM values of every store but store 1 (whose
// checks ran above), says which stores get no stage moves, and asks for
// names when several stores are configured.
func checkStores(ctx context.Context, r *Report, amo Amo, cfg config.Config, db domain.StatusMaps) {
	if len(cfg.KaspiStores) < 2 {
		return
	}
	for _, st := range cfg.KaspiStores {
		if st.Name == "" {
			r.add(Check{ID: "kaspi.store_name_" + strconv.Itoa(st.No), Title: "Название магазина Kaspi № " + strconv.Itoa(st.No), Mark: Warn,
				Detail: st.Key("KASPI_STORE_NAME") + " не задан: сделки этого магазина не отличить от сделок других магазинов",
				Fix:    "Задайте " + st.Key("KASPI_STORE_NAME") + " (например, город магазина): он станет тегом сделок и частью их названия."})
		}
		if st.No == 1 {
			continue
		}
		sc := storeConfig(cfg, st)
		forStore(r, st, func() {
			pipeline, _ := checkPipeline(ctx, r, amo, sc)
			checkUser(ctx, r, amo, sc)
			switch {
			case st.Actions.Enabled():
				checkActionStages(r, st.Actions, st.StatusMap, pipeline)
			case anyStoreActions(cfg):
				r.add(Check{ID: "amo.actions", Title: "Действия в Kaspi по этапам сделок (KASPI_ACTIONS)", Mark: Warn,
					Detail: "KASPI_ACTIONS не задан: сделки этого магазина не запускают действий в Kaspi (этапы других магазинов к нему не относятся)",
					Fix:    "Задайте KASPI_ACTIONS с этапами воронки этого магазина, если менеджеры должны управлять его заказами из amoCRM."})
			}
			if st.NoStageMoves() {
				r.add(Check{ID: "amo.status_map", Title: skipTitles["amo.status_map"], Mark: Warn,
					Detail: "сделки не переносятся по этапам: у магазина своя воронка (AMO_PIPELINE_ID), а AMO_STATUS_MAP для неё не задан",
					Fix:    "Задайте AMO_STATUS_MAP с этапами воронки этого магазина, если сделки должны следовать за заказом."})
				return
			}
			checkStatusMap(ctx, r, sc, pipeline, db)
		})
	}
}
