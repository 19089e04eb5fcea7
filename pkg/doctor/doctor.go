package doctor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/kaspi"
	"kaspi-amocrm/pkg/status"
)

// Database is what doctor reads from the store. *store.DB satisfies it.
type Database interface {
	status.Source
	// domain.StatusMaps reads the active status_mapping rows of a
	// pipeline (the PHP version's table).
	domain.StatusMaps
	// SchemaStatus reads the applied and the newest known migration.
	SchemaStatus(ctx context.Context) (current, latest uint, dirty bool, err error)
}

// OrderLookup is the one cheap Kaspi call doctor makes. *kaspi.Client
// satisfies it.
type OrderLookup interface {
	OrderByCode(ctx context.Context, code string) (domain.Order, error)
}

// Connector builds the database and API clients from the config. Wiring
// (wire.go) is the real one; tests use it too, pointed at the sandbox.
type Connector interface {
	OpenDB(ctx context.Context, cfg config.Config) (db Database, closeFn func(), err error)
	Amo(cfg config.Config, db Database) (Amo, error)
	Kaspi(cfg config.Config) (OrderLookup, error)
}

// Options are the inputs of Run.
type Options struct {
	Root   string              // the app root (holds .env)
	Getenv func(string) string // real environment (wins over .env); nil = none
	Now    time.Time           // default time.Now()
	// Host overrides the machine facts (tests); nil reads them.
	Host *Host
	// Connect builds the clients; required.
	Connect Connector
	Logger  *slog.Logger
	// Fix lets doctor take away the access of other users of the host
	// to .env, storage/, logs/ and the database files (--fix).
	Fix bool
	// HTTPClient makes the check that .env cannot be downloaded; nil
	// means a client with a short timeout.
	HTTPClient *http.Client
	// Version is the program's version, shown first ("" = not shown).
	Version string
	// Alerts checks the Telegram alerts and returns how many were sent
	// (nil = not checked); its line is part of the checklist.
	Alerts func(ctx context.Context) (sent int, configured bool, err error)
	// MaxFetchAge and MaxReconcileAge: how old the last successful run may
	// be (defaults 15 minutes and 1 hour: cron runs them every 1 and 10).
	MaxFetchAge, MaxReconcileAge time.Duration
}

// probeCode is looked up at Kaspi to test the token: no order has it, so
// the answer is an empty list (token accepted) or 401/403.
const probeCode = "000000000"

// Run performs every check and returns the checklist. It never stops at the
// first failure: a check that cannot run because an earlier one failed is
// marked Skip.
func Run(ctx context.Context, opt Options) Report {
	var r Report
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	if opt.MaxFetchAge <= 0 {
		opt.MaxFetchAge = 15 * time.Minute
	}
	if opt.MaxReconcileAge <= 0 {
		opt.MaxReconcileAge = time.Hour
	}
	if opt.Version != "" {
		r.add(Check{ID: "version", Title: "Версия программы", Mark: OK, Detail: opt.Version})
	}
	host := opt.Host
	if host == nil {
		h := ReadHost("/proc/self/limits")
		host = &h
	}
	checkHost(&r, *host)

	checkEnvFile(&r, opt.Root)
	cfg, cfgErr := config.Load(opt.Root, opt.Getenv,
		config.NeedDB|config.NeedKaspi|config.NeedAmo|config.NeedOAuth|config.NeedSecret)
	checkConfig(&r, cfg, cfgErr)
	checkCronSecret(&r, cfg)
	checkDirs(&r, opt.Root)
	checkModes(&r, opt.Root, cfg, opt.Fix)
	checkWebExposure(ctx, &r, cfg, opt.HTTPClient)

	db, closeDB, dbOK := checkDB(ctx, &r, opt.Connect, cfg)
	if closeDB != nil {
		defer closeDB()
	}

	// amoCRM: the token lives in the database.
	var amoOK bool
	var amo Amo
	switch {
	case !dbOK:
		r.add(Check{ID: "amo.token", Title: "Токен amoCRM", Mark: Skip, Detail: "не проверен: база данных недоступна"})
	case cfg.AmoSubdomain == "":
		r.add(Check{ID: "amo.token", Title: "Токен amoCRM", Mark: Skip, Detail: "не проверен: AMO_SUBDOMAIN не задан"})
	default:
		var err error
		amo, err = opt.Connect.Amo(cfg, db)
		if err != nil {
			r.add(Check{ID: "amo.token", Title: "Токен amoCRM", Mark: Fail, Detail: short(err),
				Fix: "Проверьте AMO_SUBDOMAIN: поддомен (shop), хост (shop.amocrm.ru) или адрес (https://shop.amocrm.ru)."})
		} else {
			amoOK = checkAmoToken(ctx, &r, amo, db, now)
			checkRenamed(ctx, &r, db, cfg)
		}
	}
	if amoOK {
		pipeline, _ := checkPipeline(ctx, &r, amo, cfg)
		checkUser(ctx, &r, amo, cfg)
		checkCatalog(ctx, &r, amo, cfg)
		checkFields(ctx, &r, amo, cfg)
		checkStatusMap(ctx, &r, cfg, pipeline, db)
		checkActions(ctx, &r, amo, cfg, pipeline)
		checkStores(ctx, &r, amo, cfg, db)
	} else {
		for _, id := range []string{"amo.pipeline", "amo.user", "amo.catalog", "amo.fields", "amo.status_map", "amo.actions"} {
			r.add(Check{ID: id, Title: skipTitles[id], Mark: Skip, Detail: "не проверено: нет доступа к amoCRM"})
		}
	}

	checkKaspi(ctx, &r, opt.Connect, cfg)
	for _, st := range cfg.KaspiStores {
		if st.No > 1 {
			forStore(&r, st, func() { checkKaspi(ctx, &r, opt.Connect, storeConfig(cfg, st)) })
		}
	}

	if dbOK {
		checkRuns(ctx, &r, db, now, opt.MaxFetchAge, opt.MaxReconcileAge)
	} else {
		r.add(Check{ID: "runs", Title: "Последние запуски", Mark: Skip, Detail: "не проверены: база данных недоступна"})
	}
	if opt.Alerts != nil {
		checkAlerts(ctx, &r, opt.Alerts)
	}
	return r
}

// checkAlerts runs the alert check (doctor must reach the owner even when
// cron stopped) and reports it as a line of the checklist.
func checkAlerts(ctx context.Context, r *Report, alerts func(context.Context) (int, bool, error)) {
	c := Check{ID: "alerts", Title: "Оповещения в Telegram"}
	sent, configured, err := alerts(ctx)
	switch {
	case err != nil:
		c.Mark, c.Detail = Warn, "проверка не удалась: "+short(err)
		c.Fix = "Проверьте ALERT_TELEGRAM_BOT_TOKEN и ALERT_TELEGRAM_CHAT_ID и что бот может писать в чат."
	case !configured:
		c.Mark, c.Detail = OK, "не настроены (необязательно, раздел 6 INSTALL.md)"
	case sent > 0:
		c.Mark, c.Detail = OK, fmt.Sprintf("проверены, отправлено сообщений: %d", sent)
	default:
		c.Mark, c.Detail = OK, "проверены, отправлять нечего"
	}
	r.add(c)
}

var skipTitles = map[string]string{
	"amo.pipeline":   "Воронка и этап (AMO_PIPELINE_ID, AMO_STATUS_ID)",
	"amo.user":       "Ответственный (AMO_RESPONSIBLE_USER_ID)",
	"amo.catalog":    "Каталог товаров (AMO_CATALOG_ID)",
	"amo.fields":     "Поля сделки и контакта (…_FIELD_ID)",
	"amo.status_map": "Соответствие статусов (AMO_STATUS_MAP)",
	"amo.actions":    "Действия в Kaspi по этапам сделок (KASPI_ACTIONS)",
}

func checkDB(ctx context.Context, r *Report, conn Connector, cfg config.Config) (Database, func(), bool) {
	c := Check{ID: "db.connect", Title: "База данных"}
	if cfg.DB.Driver == "" {
		c.Mark, c.Detail = Skip, "не проверена: DB_DRIVER не задан"
		r.add(c)
		r.add(Check{ID: "db.schema", Title: "Таблицы (миграции)", Mark: Skip, Detail: "не проверены"})
		return nil, nil, false
	}
	db, closeFn, err := conn.OpenDB(ctx, cfg)
	if err != nil {
		c.Mark, c.Detail = Fail, cfg.DB.String()+": "+short(err)
		switch cfg.DB.Driver {
		case config.DriverSQLite:
			c.Fix = "Проверьте, что папка storage/ доступна для записи, и путь в DB_NAME."
		default:
			c.Fix = "Проверьте DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASS: база и пользователь должны быть созданы в панели хостинга, пользователю даны права на базу."
		}
		r.add(c)
		r.add(Check{ID: "db.schema", Title: "Таблицы (миграции)", Mark: Skip, Detail: "не проверены"})
		return nil, nil, false
	}
	c.Mark, c.Detail = OK, cfg.DB.String()
	r.add(c)

	s := Check{ID: "db.schema", Title: "Таблицы (миграции)"}
	cur, latest, dirty, err := db.SchemaStatus(ctx)
	switch {
	case err != nil:
		s.Mark, s.Detail = Fail, short(err)
		s.Fix = "Откройте cgi-bin/migrate.cgi?token=CRON_SECRET."
	case dirty:
		s.Mark, s.Detail = Fail, fmt.Sprintf("миграция %d прервалась на середине", cur)
		s.Fix = "Откройте cgi-bin/migrate.cgi?token=CRON_SECRET: он восстановит её или скажет, что сделать."
	case cur == 0:
		s.Mark, s.Detail = Fail, "таблицы не созданы — откройте migrate.cgi"
		s.Fix = "Откройте cgi-bin/migrate.cgi?token=CRON_SECRET (INSTALL.md, шаг 4)."
	case cur < latest:
		s.Mark, s.Detail = Fail, fmt.Sprintf("версия %d, программе нужна %d", cur, latest)
		s.Fix = "Загружена новая версия программы: откройте cgi-bin/migrate.cgi?token=CRON_SECRET."
	case cur > latest:
		s.Mark, s.Detail = Fail, fmt.Sprintf("версия %d новее этой программы (%d)", cur, latest)
		s.Fix = "База обновлена более новой версией: загрузите файлы этой версии (или новее)."
	default:
		s.Mark, s.Detail = OK, fmt.Sprintf("версия %d", cur)
	}
	r.add(s)
	// A schema that is behind still answers the reads below on most
	// versions; only a database without our tables cannot.
	return db, closeFn, err == nil && cur > 0
}

func checkKaspi(ctx context.Context, r *Report, conn Connector, cfg config.Config) {
	c := Check{ID: "kaspi.token", Title: "Токен Kaspi"}
	if !cfg.KaspiAPIToken.IsSet() {
		c.Mark, c.Detail = Skip, "не проверен: KASPI_API_TOKEN не задан"
		r.add(c)
		return
	}
	if exampleValue(cfg.Root, "KASPI_API_TOKEN", cfg.KaspiAPIToken.Reveal()) {
		// Sending a placeholder teaches nothing and tells Kaspi our address.
		c.Mark, c.Detail = Skip, "не проверен: в KASPI_API_TOKEN осталось значение из примера"
		r.add(c)
		return
	}
	k, err := conn.Kaspi(cfg)
	if err == nil {
		_, err = k.OrderByCode(ctx, probeCode)
	}
	switch {
	case err == nil || errors.Is(err, domain.ErrNotFound):
		c.Mark, c.Detail = OK, "Kaspi принимает токен ("+cfg.KaspiAPIBase+")"
	case kaspi.IsBlocked(err):
		c.Mark, c.Detail = Fail, "Kaspi отказывает в доступе с этого сервера (HTML-страница 403: блокировка IP или защитный фильтр); токен не проверен"
		c.Fix = "Токен менять не нужно. Узнайте у хостинга, не заблокирован ли исходящий IP сервера для kaspi.kz, или попробуйте позже; при повторении напишите в поддержку Kaspi с IP сервера."
	case errors.Is(err, domain.ErrAuth):
		c.Mark, c.Detail = Fail, "Kaspi не принимает токен"
		c.Fix = "Сформируйте токен заново в кабинете продавца Kaspi (Настройки → Токен API) и вставьте его в KASPI_API_TOKEN целиком."
	default:
		c.Mark, c.Detail = Fail, "Kaspi не отвечает: "+short(err)
		c.Fix = "Проверьте доступ сервера в интернет и KASPI_API_BASE (обычно https://kaspi.kz/shop/api/v2); повторите позже."
	}
	r.add(c)
}

func checkRuns(ctx context.Context, r *Report, db Database, now time.Time, maxFetch, maxReconcile time.Duration) {
	rep, err := status.Collect(ctx, db, status.Options{Now: now})
	if err != nil {
		r.add(Check{ID: "runs", Title: "Последние запуски", Mark: Fail, Detail: short(err)})
		return
	}
	ages := map[string]time.Duration{domain.TaskFetchNew: maxFetch, domain.TaskReconcile: maxReconcile}
	titles := map[string]string{domain.TaskFetchNew: "Последний успешный запуск fetch_new (новые заказы)",
		domain.TaskReconcile: "Последний успешный запуск reconcile (сверка)"}
	loc := status.Almaty()
	for _, ts := range rep.Tasks {
		maxAge, ok := ages[ts.Task]
		if !ok {
			continue
		}
		c := Check{ID: "runs." + ts.Task, Title: titles[ts.Task]}
		switch {
		case ts.Last == nil:
			c.Mark, c.Detail = Fail, "ещё не запускался"
			c.Fix = "Добавьте задание cron (INSTALL.md, шаг 6); готовые строки печатает bin/cron_paths."
		case ts.LastOK == nil:
			c.Mark, c.Detail = Fail, "успешных запусков нет; последний: "+ts.Last.Outcome+" — "+oneLine(ts.Last.Summary)
			c.Fix = "Причина — в строке выше и в журнале logs/ГГГГ-ММ-ДД.log."
		case now.Sub(ts.LastOK.StartedAt) > maxAge:
			c.Mark = Fail
			c.Detail = fmt.Sprintf("%s — больше %d мин назад", ts.LastOK.StartedAt.In(loc).Format("02.01.2006 15:04"), int(maxAge.Minutes()))
			if ts.Last != ts.LastOK {
				c.Detail += "; последний запуск: " + oneLine(ts.Last.Summary)
			}
			c.Fix = "Проверьте задание cron (INSTALL.md, шаг 6) и журнал logs/ГГГГ-ММ-ДД.log."
		default:
			c.Mark, c.Detail = OK, ts.LastOK.StartedAt.In(loc).Format("02.01.2006 15:04")
		}
		r.add(c)
	}
	if len(rep.Quarantined) > 0 {
		var codes []string
		for _, q := range rep.Quarantined {
			codes = append(codes, q.Code)
		}
		r.add(Check{ID: "runs.quarantined", Title: "Заказы в карантине", Mark: Warn,
			Detail: strings.Join(codes, ", "),
			Fix:    "Причины — на странице состояния (doctor --status или cron.cgi?task=status). Исправьте причину; сверка повторяет такие заказы раз в час."})
	}
	if rep.Limit.Banned {
		r.add(Check{ID: "runs.ban", Title: "Блокировка amoCRM", Mark: Fail,
			Detail: "amoCRM заблокировал доступ до " + rep.Limit.BannedUntil.In(loc).Format("02.01.2006 15:04"),
			Fix:    "Интеграция ждёт сама. Отключите другие копии интеграции; если блокировка держится — чат поддержки amoCRM."})
	}
	ci := Check{ID: "runs.contact_index", Title: "Поиск контактов", Mark: OK, Detail: rep.ContactIndex.Text}
	if rep.ContactIndex.Mode == domain.IndexModeSearch {
		ci.Mark = Warn
		ci.Fix = "Работает и так, но каждый новый номер стоит запроса. Поддержка amoCRM может включить аккаунту фильтры API."
	}
	r.add(ci)
}

// oneLine is a run's summary as one line of a check; "—" when empty.
func oneLine(s string) string {
	if s = domain.OneLine(s, 200); s == "" {
		return "—"
	}
	return s
}
