package doctor

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/status"
)

// Amo is what doctor reads from amoCRM. *amocrm.Client satisfies it; every
// method is a GET.
type Amo interface {
	Account(ctx context.Context) (amocrm.Account, error)
	Pipelines(ctx context.Context) ([]amocrm.Pipeline, error)
	Users(ctx context.Context) ([]amocrm.User, error)
	Catalogs(ctx context.Context) ([]amocrm.Catalog, error)
	CustomFields(ctx context.Context, entity string) ([]domain.FieldDef, error)
}

// Field types that fit each configured custom field.
var (
	typesOrderCode = []string{"text", "textarea"}
	typesOrderDate = []string{"date", "date_time", "text"}
	typesAddress   = []string{"text", "textarea", "streetaddress"}
)

// amoErrorFix explains a failed amoCRM call in the owner's terms.
func amoErrorFix(err error) (detail, fix string) {
	switch {
	case errors.Is(err, domain.ErrAuth):
		return "amoCRM не принимает токен (" + short(err) + ")",
			"Авторизуйте интеграцию заново: откройте cgi-bin/oauth_callback.cgi?start=1&token=CRON_SECRET.\n" +
				"Проверьте, что AMO_CLIENT_ID, AMO_CLIENT_SECRET и AMO_REDIRECT_URI совпадают с настройками интеграции в amoCRM."
	case errors.Is(err, domain.ErrForbidden):
		return "не хватает прав: " + short(err),
			"Токены в порядке. Авторизуйте интеграцию заново от имени администратора аккаунта amoCRM " +
				"или дайте пользователю, который её авторизовал, права администратора (или нужное право в «Настройки → Пользователи»)."
	case errors.Is(err, domain.ErrBanned):
		return "amoCRM заблокировал доступ (403) из-за превышения лимита запросов",
			"Интеграция сама делает паузу 30 минут. Отключите другие копии интеграции (в том числе старые задания cron PHP-версии).\n" +
				"Если блокировка не снимается — чат поддержки amoCRM: IP сервера, поддомен, ID аккаунта."
	case errors.Is(err, domain.ErrPaymentRequired):
		return "аккаунт amoCRM не оплачен (402)", "Оплатите аккаунт amoCRM."
	case errors.Is(err, domain.ErrNotFound):
		return "адрес не найден (" + short(err) + ")", "Проверьте AMO_SUBDOMAIN: поддомен аккаунта, например shop или shop.amocrm.ru."
	case errors.Is(err, domain.ErrTransient):
		return "amoCRM не отвечает (" + short(err) + ")", "Проверьте AMO_SUBDOMAIN и доступ сервера в интернет; повторите проверку позже."
	}
	return short(err), "Проверьте AMO_SUBDOMAIN и токены amoCRM."
}

// short is an error as one line of a check.
func short(err error) string { return domain.OneLine(err.Error(), 240) }

// checkAmoToken reads the account with the stored token. It returns false
// when amoCRM cannot be used (the id checks are then skipped).
func checkAmoToken(ctx context.Context, r *Report, amo Amo, tokens TokenReader, now time.Time) bool {
	c := Check{ID: "amo.token", Title: "Токен amoCRM"}
	acc, err := amo.Account(ctx)
	if err != nil {
		c.Mark = Fail
		c.Detail, c.Fix = amoErrorFix(err)
		if errors.Is(err, domain.ErrAuth) && tokens != nil {
			if _, terr := tokens.Token(ctx, domain.TokenServiceAmo); errors.Is(terr, domain.ErrNotFound) {
				c.Detail = "токенов amoCRM нет — интеграция ещё не авторизована"
				c.Fix = "Пройдите авторизацию: откройте cgi-bin/oauth_callback.cgi?start=1&token=CRON_SECRET (INSTALL.md, шаг 5)."
			}
		}
		r.add(c)
		return false
	}
	c.Mark = OK
	c.Detail = fmt.Sprintf("аккаунт «%s» (%s, ID %d)", acc.Name, acc.Subdomain, acc.ID)
	if tokens != nil {
		if tok, err := tokens.Token(ctx, domain.TokenServiceAmo); err == nil {
			loc := status.Almaty()
			if tok.ExpiresAt > 0 {
				c.Detail += "; access-токен до " + time.Unix(tok.ExpiresAt, 0).In(loc).Format("02.01.2006 15:04")
			}
			if tok.RefreshToken == "" {
				c.Detail += "; долгосрочный токен (без refresh)"
			} else if exp, ok := status.RefreshExpiry(tok); ok {
				days := int(exp.Sub(now).Hours() / 24)
				c.Detail += fmt.Sprintf("; refresh-токен ещё примерно %d дн. (до %s)", days, exp.In(loc).Format("02.01.2006"))
				if days < 14 {
					c.Mark = Warn
					c.Fix = "Refresh-токен скоро истечёт: обычно он обновляется сам при каждом запуске. Если запуски не идут — настройте cron; иначе авторизуйтесь заново (oauth_callback.cgi?start=1)."
				}
			}
		}
	}
	r.add(c)
	return true
}

// TokenReader reads the stored OAuth pair.
type TokenReader interface {
	Token(ctx context.Context, service string) (domain.Token, error)
}

func checkPipeline(ctx context.Context, r *Report, amo Amo, cfg config.Config) (*amocrm.Pipeline, bool) {
	pls, err := amo.Pipelines(ctx)
	c := Check{ID: "amo.pipeline", Title: "Воронка и этап (AMO_PIPELINE_ID, AMO_STATUS_ID)"}
	if err != nil {
		c.Mark = Fail
		c.Detail, c.Fix = amoErrorFix(err)
		r.add(c)
		return nil, false
	}
	var target *amocrm.Pipeline
	for i := range pls {
		if (cfg.AmoPipelineID != 0 && pls[i].ID == cfg.AmoPipelineID) || (cfg.AmoPipelineID == 0 && pls[i].IsMain) {
			target = &pls[i]
		}
	}
	if cfg.AmoPipelineID == 0 && target == nil && len(pls) > 0 {
		target = &pls[0]
	}
	switch {
	case cfg.AmoPipelineID == 0 && cfg.AmoStatusID == 0:
		c.Mark, c.Detail = Skip, "не заданы"
		c.Fix = "Воронки: " + listPipelines(pls)
		r.add(c)
		return target, true
	case cfg.AmoPipelineID == 0:
		c.Mark, c.Detail = Fail, "AMO_STATUS_ID задан без AMO_PIPELINE_ID"
		c.Fix = "Воронки: " + listPipelines(pls)
		r.add(c)
		return target, true
	case target == nil:
		c.Mark, c.Detail = Fail, fmt.Sprintf("воронки %d нет в amoCRM", cfg.AmoPipelineID)
		c.Fix = "Укажите в AMO_PIPELINE_ID одну из воронок: " + listPipelines(pls)
		r.add(c)
		return nil, false
	}
	if cfg.AmoStatusID == 0 {
		c.Mark, c.Detail = Fail, fmt.Sprintf("воронка «%s» найдена, AMO_STATUS_ID не задан", target.Name)
		c.Fix = "Укажите в AMO_STATUS_ID этап этой воронки: " + listStatuses(*target)
		r.add(c)
		return target, true
	}
	for _, s := range target.Statuses {
		if s.ID == cfg.AmoStatusID && s.Type == domain.StageIncoming {
			c.Mark, c.Detail = Fail, incomingStage("AMO_STATUS_ID", fmt.Sprint(s.ID), *target, s)
			c.Fix = incomingFix
			r.add(c)
			return target, true
		}
		if s.ID == cfg.AmoStatusID {
			c.Mark, c.Detail = OK, fmt.Sprintf("воронка «%s», этап «%s»", target.Name, s.Name)
			r.add(c)
			return target, true
		}
	}
	c.Mark = Fail
	c.Detail = fmt.Sprintf("в воронке «%s» нет этапа %d", target.Name, cfg.AmoStatusID)
	for _, p := range pls {
		for _, s := range p.Statuses {
			if s.ID == cfg.AmoStatusID && p.ID != target.ID {
				c.Detail = fmt.Sprintf("этап %d («%s») принадлежит другой воронке — «%s» (%d)", s.ID, s.Name, p.Name, p.ID)
			}
		}
	}
	c.Fix = "Этапы воронки «" + target.Name + "»: " + listStatuses(*target)
	r.add(c)
	return target, true
}

func listPipelines(pls []amocrm.Pipeline) string {
	var parts []string
	for _, p := range pls {
		parts = append(parts, fmt.Sprintf("%d — %s", p.ID, p.Name))
	}
	if len(parts) == 0 {
		return "нет ни одной"
	}
	return strings.Join(parts, "; ")
}

func listStatuses(p amocrm.Pipeline) string {
	var parts []string
	for _, s := range p.Statuses {
		parts = append(parts, fmt.Sprintf("%d — %s", s.ID, s.Name))
	}
	return strings.Join(parts, "; ")
}

func checkUser(ctx context.Context, r *Report, amo Amo, cfg config.Config) {
	c := Check{ID: "amo.user", Title: "Ответственный (AMO_RESPONSIBLE_USER_ID)"}
	if cfg.AmoResponsibleUserID == 0 {
		c.Mark, c.Detail = OK, "не задан — ответственным будет пользователь интеграции"
		r.add(c)
		return
	}
	users, err := amo.Users(ctx)
	if errors.Is(err, domain.ErrForbidden) {
		c.Mark = Skip
		c.Detail = "проверка пропущена: список пользователей amoCRM доступен только администратору, а интеграцию авторизовал не администратор"
		c.Fix = "Синхронизация работает и без этой проверки. Чтобы проверить AMO_RESPONSIBLE_USER_ID, авторизуйте интеграцию от имени администратора."
		r.add(c)
		return
	}
	if err != nil {
		c.Mark = Fail
		c.Detail, c.Fix = amoErrorFix(err)
		r.add(c)
		return
	}
	var parts []string
	for _, u := range users {
		if u.ID == cfg.AmoResponsibleUserID {
			c.Mark, c.Detail = OK, u.Name
			r.add(c)
			return
		}
		parts = append(parts, fmt.Sprintf("%d — %s", u.ID, u.Name))
	}
	c.Mark, c.Detail = Fail, fmt.Sprintf("пользователя %d нет в аккаунте", cfg.AmoResponsibleUserID)
	c.Fix = "Укажите одного из пользователей: " + strings.Join(parts, "; ")
	r.add(c)
}

func checkCatalog(ctx context.Context, r *Report, amo Amo, cfg config.Config) {
	c := Check{ID: "amo.catalog", Title: "Каталог товаров (AMO_CATALOG_ID)"}
	if cfg.AmoCatalogID == 0 {
		c.Mark, c.Detail = OK, "не задан — товары к сделкам не добавляются"
		r.add(c)
		return
	}
	cats, err := amo.Catalogs(ctx)
	if err != nil {
		c.Mark = Fail
		c.Detail, c.Fix = amoErrorFix(err)
		r.add(c)
		return
	}
	var found *amocrm.Catalog
	var parts []string
	for i := range cats {
		if cats[i].ID == cfg.AmoCatalogID {
			found = &cats[i]
		}
		parts = append(parts, fmt.Sprintf("%d — %s (%s)", cats[i].ID, cats[i].Name, cats[i].Type))
	}
	if found == nil {
		c.Mark, c.Detail = Fail, fmt.Sprintf("каталога %d нет в amoCRM", cfg.AmoCatalogID)
		c.Fix = "Укажите один из каталогов (обычно тип products — «Товары»): " + strings.Join(parts, "; ")
		if len(parts) == 0 {
			c.Fix = "В аккаунте нет каталогов: включите «Товары» в amoCRM (Списки) или поставьте AMO_CATALOG_ID=0."
		}
		r.add(c)
		return
	}
	fields, err := amo.CustomFields(ctx, fmt.Sprintf("catalogs/%d", found.ID))
	if err != nil {
		c.Mark = Fail
		c.Detail, c.Fix = amoErrorFix(err)
		r.add(c)
		return
	}
	var missing []string
	for _, code := range []string{"SKU", "PRICE"} {
		ok := false
		for _, f := range fields {
			if strings.EqualFold(f.Code, code) {
				ok = true
			}
		}
		if !ok {
			missing = append(missing, code)
		}
	}
	if len(missing) > 0 {
		c.Mark = Fail
		c.Detail = fmt.Sprintf("в каталоге «%s» нет полей %s", found.Name, strings.Join(missing, " и "))
		c.Fix = "Артикул (SKU) и цена (PRICE) есть у каталога «Товары» (тип products). Укажите его ID в AMO_CATALOG_ID или создайте эти поля в каталоге."
		r.add(c)
		return
	}
	c.Mark, c.Detail = OK, fmt.Sprintf("«%s», поля SKU и PRICE есть", found.Name)
	r.add(c)
}

// fieldSpec is one configured custom field.
type fieldSpec struct {
	id                int64
	key, entity, what string
	types             []string
}

func checkFields(ctx context.Context, r *Report, amo Amo, cfg config.Config) {
	specs := []fieldSpec{
		{cfg.AmoLeadOrderCodeFieldID, "AMO_LEAD_ORDER_CODE_FIELD_ID", "leads", "номер заказа", typesOrderCode},
		{cfg.AmoLeadOrderDateFieldID, "AMO_LEAD_ORDER_DATE_FIELD_ID", "leads", "дата заказа", typesOrderDate},
		{cfg.AmoLeadDeliveryAddressFieldID, "AMO_LEAD_DELIVERY_ADDRESS_FIELD_ID", "leads", "адрес доставки (сделка)", typesAddress},
		{cfg.AmoContactAddressFieldID, "AMO_CONTACT_ADDRESS_FIELD_ID", "contacts", "адрес (контакт)", typesAddress},
	}
	cache := map[string][]domain.FieldDef{}
	for _, s := range specs {
		checkField(ctx, r, amo, s, cache)
	}
}

func checkField(ctx context.Context, r *Report, amo Amo, s fieldSpec, cache map[string][]domain.FieldDef) {
	c := Check{ID: "amo.field." + strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(s.key, "AMO_"), "_FIELD_ID")),
		Title: "Поле «" + s.what + "» (" + s.key + ")"}
	if s.id == 0 {
		c.Mark, c.Detail = OK, "не задано — не заполняется"
		r.add(c)
		return
	}
	defs, ok := cache[s.entity]
	if !ok {
		var err error
		defs, err = amo.CustomFields(ctx, s.entity)
		if err != nil {
			c.Mark = Fail
			c.Detail, c.Fix = amoErrorFix(err)
			r.add(c)
			return
		}
		cache[s.entity] = defs
	}
	for _, d := range defs {
		if d.ID == s.id {
			if contains(s.types, d.Type) {
				c.Mark, c.Detail = OK, fmt.Sprintf("«%s», тип %s", d.Name, d.Type)
			} else {
				c.Mark = Fail
				c.Detail = fmt.Sprintf("поле «%s» имеет тип %s, а нужен %s", d.Name, d.Type, strings.Join(s.types, ", "))
				c.Fix = "Укажите поле подходящего типа или создайте его в amoCRM. Подходят: " + fieldList(defs, s.types)
			}
			r.add(c)
			return
		}
	}
	c.Mark = Fail
	where := map[string]string{"leads": "сделок", "contacts": "контактов"}[s.entity]
	c.Detail = fmt.Sprintf("поля %d нет среди полей %s", s.id, where)
	c.Fix = "Укажите одно из полей (" + strings.Join(s.types, ", ") + "): " + fieldList(defs, s.types)
	r.add(c)
}

func fieldList(defs []domain.FieldDef, types []string) string {
	var parts []string
	for _, d := range defs {
		if contains(types, d.Type) {
			parts = append(parts, fmt.Sprintf("%d — %s", d.ID, d.Name))
		}
	}
	if len(parts) == 0 {
		return "подходящих полей нет, создайте поле в настройках amoCRM"
	}
	return strings.Join(parts, "; ")
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

// checkStatusMap checks that every amoCRM status the map moves deals to
// exists in the pipeline (142 and 143 exist in every pipeline).
func checkStatusMap(ctx context.Context, r *Report, cfg config.Config, pipeline *amocrm.Pipeline, db domain.StatusMaps) {
	c := Check{ID: "amo.status_map", Title: "Соответствие статусов (AMO_STATUS_MAP)"}
	m := map[string]int64{}
	if db != nil && pipeline != nil {
		if rows, err := db.ActiveStatusMappings(ctx, pipeline.ID); err == nil {
			for k, v := range rows {
				m[k] = v
			}
		}
	}
	for k, v := range cfg.AmoStatusMap {
		m[k] = v
	}
	if len(m) == 0 {
		c.Mark, c.Detail = OK, "не задано — сделки не двигаются при смене статуса заказа"
		r.add(c)
		return
	}
	if pipeline == nil {
		c.Mark, c.Detail = Skip, "воронка не найдена"
		r.add(c)
		return
	}
	known := map[int64]bool{domain.StatusWon: true, domain.StatusLost: true}
	for _, s := range pipeline.Statuses {
		known[s.ID] = true
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, s := range pipeline.Statuses {
			if s.ID == m[k] && s.Type == domain.StageIncoming {
				c.Mark, c.Detail = Fail, incomingStage("AMO_STATUS_MAP", fmt.Sprintf("%s:%d", k, s.ID), *pipeline, s)
				c.Fix = incomingFix
				r.add(c)
				return
			}
		}
	}
	var bad []string
	for k, v := range m {
		if !known[v] {
			bad = append(bad, fmt.Sprintf("%s:%d", k, v))
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		c.Mark = Fail
		c.Detail = fmt.Sprintf("этапов нет в воронке «%s»: %s", pipeline.Name, strings.Join(bad, ", "))
		c.Fix = "Этапы воронки: " + listStatuses(*pipeline) + " (142 — успешно, 143 — не реализовано)."
		r.add(c)
		return
	}
	c.Mark, c.Detail = OK, fmt.Sprintf("%d правил, все этапы есть в воронке «%s»", len(m), pipeline.Name)
	r.add(c)
}

const incomingFix = "Укажите один из перечисленных этапов: в «Неразобранное» сделки попадают только как входящие заявки, не через API."

// incomingStage is the owner's line for key=value naming the incoming
// stage, the same the sync stops with.
func incomingStage(key, value string, p amocrm.Pipeline, s amocrm.Status) string {
	pi := domain.PipelineInfo{ID: p.ID, Name: p.Name}
	for _, st := range p.Statuses {
		pi.Stages = append(pi.Stages, domain.Stage{ID: st.ID, Name: st.Name, Type: st.Type})
	}
	return domain.IncomingStage(key, value, pi, domain.Stage{ID: s.ID, Name: s.Name, Type: s.Type}).Error()
}

// checkRenamed tells the owner to update AMO_SUBDOMAIN when the sync has
// followed the account to a renamed subdomain (the stored address wins
// over .env until then).
func checkRenamed(ctx context.Context, r *Report, db any, cfg config.Config) {
	st, ok := db.(domain.Settings)
	if !ok {
		return
	}
	stored, found, err := st.Setting(ctx, amocrm.KeyBaseURL)
	configured, cerr := amocrm.BaseURL(cfg.AmoSubdomain)
	if err != nil || !found || stored == "" || cerr != nil || stored == configured {
		return
	}
	r.add(Check{ID: "amo.subdomain", Title: "Адрес аккаунта amoCRM (AMO_SUBDOMAIN)", Mark: Warn,
		Detail: fmt.Sprintf("поддомен аккаунта переименован: интеграция работает по новому адресу %s, а в .env указан %s", stored, configured),
		Fix:    "Укажите в .env AMO_SUBDOMAIN=" + strings.TrimPrefix(stored, "https://") + "."})
}
