// Package endpoints wires the web endpoints that do not sync —
// migrate.cgi, oauth_callback.cgi and api_status_mapping.cgi — to the
// database and amoCRM, and gives every endpoint (cron.cgi too) its
// per-request environment (WebHandler, Lazy).
package endpoints

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/wiring"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/web"
)

// ShowConfigError shows a configuration problem as it is: its lines name
// keys and what is expected, never a value.
func ShowConfigError(err error) error {
	var ce *config.Error
	if errors.As(err, &ce) {
		return &web.PublicError{Status: http.StatusInternalServerError, Msg: ce.PublicText(), Detail: ce.Error(),
			Err: errors.Join(err, web.ErrConfig)}
	}
	return err
}

// Lazy opens the environment of a request on first use, after the handler
// has checked the token: an anonymous request costs no database connection.
// Need may be lowered before the first Get (the status report needs only
// the database).
type Lazy struct {
	o         app.Options
	Need      config.Need
	anySchema bool

	env  *wiring.Env
	err  error
	done bool
}

// Get opens the environment once; errors come ready for the error table.
func (l *Lazy) Get(ctx context.Context) (*wiring.Env, error) {
	if !l.done {
		o := l.o
		o.AnySchema = l.anySchema
		l.env, l.err = wiring.Open(ctx, l.Need, o)
		l.done = true
		if l.err != nil {
			if !errors.Is(l.err, web.ErrSchemaBehind) {
				l.err = ShowConfigError(l.err)
				var pe *web.PublicError
				if !errors.As(l.err, &pe) && errors.Is(l.err, wiring.ErrOpenDB) {
					// The server, port, user and database name (the
					// SQLite path) are for the log and the shell only.
					l.err = &web.PublicError{Status: http.StatusInternalServerError, Err: l.err,
						Msg:    "База данных недоступна. Проверьте DB_* в .env; подробности в logs/.",
						Detail: "База данных недоступна: " + l.err.Error() + ". Проверьте DB_* в .env."}
				}
			}
		}
	}
	return l.env, l.err
}

// Close releases what Get opened.
func (l *Lazy) Close() { l.env.Close() }

// WebHandler builds a per-request handler: .env is read without requirements
// (only the secret is needed before the token check), a log is opened, and
// build returns the endpoint's handler over a lazily opened environment.
func WebHandler(o app.Options, need config.Need, anySchema bool, build func(cfg config.Config, log *slog.Logger, lz *Lazy) (http.Handler, error)) http.Handler {
	return web.PerRequest(nil, func(ctx context.Context) (http.Handler, func(), error) {
		p, cfg, err := app.LoadConfig(0, o)
		if err != nil {
			return nil, nil, ShowConfigError(err)
		}
		if err := envFileMissing(p, cfg); err != nil {
			_ = p.Ensure() // storage/ and logs/ exist after any first request
			return nil, nil, err
		}
		o.Paths = p
		var closers []func()
		log := slog.New(slog.DiscardHandler)
		if err := p.Ensure(); err == nil {
			if l, c, err := app.OpenLog(p, cfg, nil); err == nil {
				log = l
				closers = append(closers, func() { c.Close() })
			}
		}
		o.Log = log
		lz := &Lazy{o: o, Need: need, anySchema: anySchema}
		closers = append(closers, lz.Close)
		done := func() {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		}
		h, err := build(cfg, log, lz)
		if err != nil {
			done()
			return nil, nil, ShowConfigError(err)
		}
		return h, done, nil
	})
}

// MigrateHandler serves migrate.cgi.
func MigrateHandler(o app.Options) http.Handler {
	return WebHandler(o, app.NeedMigrate, true, func(cfg config.Config, log *slog.Logger, lz *Lazy) (http.Handler, error) {
		return &web.Migrate{Secret: cfg.CronSecret.Reveal(), Migrator: migrator{lz}, Log: log}, nil
	})
}

type migrator struct{ lz *Lazy }

func (m migrator) Migrate(ctx context.Context) (uint, string, error) {
	env, err := m.lz.Get(ctx)
	if err != nil {
		return 0, "", err
	}
	v, err := env.Store.Migrate(ctx)
	if errors.Is(err, domain.ErrBusy) {
		return 0, "", err
	}
	return v, env.Store.Driver(), err
}

// OAuthHandler serves oauth_callback.cgi.
func OAuthHandler(o app.Options) http.Handler {
	return WebHandler(o, app.NeedOAuth, false, func(cfg config.Config, log *slog.Logger, lz *Lazy) (http.Handler, error) {
		base, err := app.AmoBaseURL(cfg)
		if err != nil {
			return nil, &config.Error{Lines: []string{"AMO_SUBDOMAIN: не задан или неверен — поддомен amoCRM (shop), хост (shop.amocrm.ru) или адрес (https://shop.amocrm.ru)"}}
		}
		return &web.OAuth{
			Secret:    cfg.CronSecret.Reveal(),
			ClientID:  cfg.AmoClientID,
			BaseURL:   base,
			Subdomain: app.AmoSubdomain(cfg),
			Backend:   &oauthBackend{lz: lz, checkID: app.AmoSubdomain(cfg) == ""},
			Gate:      &web.OAuthGate{Storage: lz.o.Paths.Storage},
			Log:       log,
		}, nil
	})
}

// exchangeMaxWait bounds the callback's waits for a limiter slot.
const exchangeMaxWait = time.Second

type oauthBackend struct {
	lz  *Lazy
	amo *amocrm.Client
	// checkID: the base names no account (a proxy, a test server), so
	// the account id stored at the first authorization is compared.
	checkID bool
	// accountID is the account the last checked token belongs to.
	accountID int64
}

// accountIDKey is the settings key of the amoCRM account id, stored at
// the first successful authorization.
const accountIDKey = domain.SettingAmoAccountID

func (b *oauthBackend) open(ctx context.Context) (*wiring.Env, error) {
	env, err := b.lz.Get(ctx)
	if err != nil {
		return nil, err
	}
	if b.amo == nil {
		// A code exchange never queues behind a sync: no slot within
		// exchangeMaxWait and it fails at once.
		c := env.Clients()
		c.AmoMaxWait = exchangeMaxWait
		if b.amo, err = c.Amo(); err != nil {
			return nil, ShowConfigError(err)
		}
	}
	return env, nil
}

func (b *oauthBackend) Setting(ctx context.Context, key string) (string, bool, error) {
	env, err := b.open(ctx)
	if err != nil {
		return "", false, err
	}
	return env.Store.Setting(ctx, key)
}

func (b *oauthBackend) SetSetting(ctx context.Context, key, value string) error {
	env, err := b.open(ctx)
	if err != nil {
		return err
	}
	return env.Store.SetSetting(ctx, key, value)
}

func (b *oauthBackend) ExchangeCode(ctx context.Context, code string) (domain.Token, error) {
	if _, err := b.open(ctx); err != nil {
		return domain.Token{}, err
	}
	return b.amo.ExchangeCode(ctx, code)
}

func (b *oauthBackend) AccountSubdomain(ctx context.Context, tok domain.Token) (string, error) {
	if _, err := b.open(ctx); err != nil {
		return "", err
	}
	a, err := b.amo.VerifyToken(ctx, tok)
	if err != nil {
		return "", err
	}
	b.accountID = a.ID
	if b.checkID && a.ID != 0 {
		env, _ := b.lz.Get(ctx)
		v, ok, err := env.Store.Setting(ctx, accountIDKey)
		if err != nil {
			return "", err
		}
		if stored, _ := strconv.ParseInt(v, 10, 64); ok && stored != 0 && stored != a.ID {
			return "", &web.PublicError{Status: http.StatusForbidden, Msg: fmt.Sprintf(
				"Токены выданы для аккаунта amoCRM с ID %d, а интеграция авторизована для аккаунта с ID %d. Токены не сохранены: "+
					"авторизуйтесь в прежнем аккаунте. Если аккаунт сменён намеренно, удалите из таблицы settings строку с ключом %s и повторите.",
				a.ID, stored, accountIDKey)}
		}
	}
	return a.Subdomain, nil
}

func (b *oauthBackend) SaveToken(ctx context.Context, tok domain.Token) error {
	env, err := b.open(ctx)
	if err != nil {
		return err
	}
	if err := b.amo.SaveTokens(ctx, tok); err != nil {
		return err
	}
	if b.accountID == 0 {
		return nil
	}
	v, ok, err := env.Store.Setting(ctx, accountIDKey)
	if err != nil || (ok && v != "" && v != "0") {
		return err
	}
	return env.Store.SetSetting(ctx, accountIDKey, strconv.FormatInt(b.accountID, 10))
}

// MappingHandler serves api_status_mapping.cgi.
func MappingHandler(o app.Options) http.Handler {
	return WebHandler(o, app.NeedMapping, false, func(cfg config.Config, log *slog.Logger, lz *Lazy) (http.Handler, error) {
		return &web.Mapping{Secret: cfg.CronSecret.Reveal(), Backend: &mappingBackend{lz: lz}, Log: log}, nil
	})
}

type mappingBackend struct {
	lz  *Lazy
	now func() time.Time
}

func (b *mappingBackend) db(ctx context.Context) (*store.DB, error) {
	env, err := b.lz.Get(ctx)
	if err != nil {
		return nil, err
	}
	return env.Store, nil
}

func (b *mappingBackend) clock() time.Time {
	if b.now != nil {
		return b.now()
	}
	return time.Now()
}

func (b *mappingBackend) StatusMappings(ctx context.Context) ([]domain.StatusMapping, error) {
	db, err := b.db(ctx)
	if err != nil {
		return nil, err
	}
	return db.ListStatusMappings(ctx, store.StatusMappingFilter{})
}

func (b *mappingBackend) FindStatusMappings(ctx context.Context, kaspiStatus string, pipelineID int64, onlyActive bool) ([]domain.StatusMapping, error) {
	db, err := b.db(ctx)
	if err != nil {
		return nil, err
	}
	return db.ListStatusMappings(ctx, store.StatusMappingFilter{KaspiStatus: kaspiStatus, PipelineID: pipelineID, OnlyActive: onlyActive})
}

func (b *mappingBackend) UpsertStatusMapping(ctx context.Context, m domain.StatusMapping) (int64, error) {
	db, err := b.db(ctx)
	if err != nil {
		return 0, err
	}
	return db.UpsertStatusMapping(ctx, m, b.clock())
}

func (b *mappingBackend) DeleteStatusMapping(ctx context.Context, id int64) (bool, error) {
	db, err := b.db(ctx)
	if err != nil {
		return false, err
	}
	return db.DeleteStatusMapping(ctx, id)
}

func (b *mappingBackend) SetStatusMappingActive(ctx context.Context, id int64, active bool) (bool, error) {
	db, err := b.db(ctx)
	if err != nil {
		return false, err
	}
	return db.SetStatusMappingActive(ctx, id, active, b.clock())
}

func (b *mappingBackend) Pipelines(ctx context.Context) ([]web.Pipeline, error) {
	env, err := b.lz.Get(ctx)
	if err != nil {
		return nil, err
	}
	if env.Config.AmoSubdomain == "" {
		return nil, &web.PublicError{Status: http.StatusInternalServerError, Msg: "AMO_SUBDOMAIN is not set in .env", Err: web.ErrConfig}
	}
	amo, err := env.Clients().Amo()
	if err != nil {
		return nil, ShowConfigError(err)
	}
	ps, err := amo.Pipelines(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]web.Pipeline, 0, len(ps))
	for _, p := range ps {
		wp := web.Pipeline{ID: p.ID, Name: p.Name, Sort: p.Sort, Color: p.Color, Statuses: []web.PipelineStatus{}}
		for _, s := range p.Statuses {
			wp.Statuses = append(wp.Statuses, web.PipelineStatus{ID: s.ID, Name: s.Name, Sort: s.Sort, Color: s.Color})
		}
		out = append(out, wp)
	}
	return out, nil
}

// envFileMissing: with no .env (and no CRON_SECRET from the environment)
// every endpoint would answer "CRON_SECRET пустой", which sends the owner
// looking in the wrong place. Say the file is missing and where it is
// expected; the answer names no absolute path (anyone may ask).
func envFileMissing(p app.Paths, cfg config.Config) error {
	if cfg.CronSecret.IsSet() {
		return nil
	}
	if _, err := os.Stat(filepath.Join(p.Root, config.EnvFile)); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return &web.PublicError{Status: http.StatusInternalServerError, Err: web.ErrConfig,
		Msg: "Файл .env не найден: он должен лежать в папке программы — над cgi-bin/, рядом с .env.example. " +
			"Скопируйте .env.example в .env и заполните его (шаг 3 INSTALL.md)."}
}
