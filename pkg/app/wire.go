package app

// This file is the wiring every main shares: .env → config → log → store
// (refused when its schema is behind) → the amoCRM client. The sync use
// cases under the run lock live in pkg/app/runner, so that the programs
// that do not sync (migrate.cgi, oauth_callback.cgi, api_status_mapping.cgi,
// cron_paths) do not link the phone library and its start-up cost.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/applog"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/web"
)

// Needs of the programs: what each cannot work without.
const (
	NeedSync    = config.NeedDB | config.NeedKaspi | config.NeedAmo
	NeedMigrate = config.NeedDB
	NeedOAuth   = config.NeedDB | config.NeedAmo | config.NeedOAuth
	NeedMapping = config.NeedDB
)

// SchemaBehindMessage is what a program says when migrations are pending.
const SchemaBehindMessage = "База данных не обновлена до этой версии программы: откройте в браузере " +
	"cgi-bin/migrate.cgi?token=CRON_SECRET (или запустите cgi-bin/migrate.cgi из консоли), затем повторите."

// schemaBehind carries the Russian message and still matches both
// store.ErrSchemaBehind and web.ErrSchemaBehind.
type schemaBehind struct{ err error }

func (e *schemaBehind) Error() string   { return SchemaBehindMessage }
func (e *schemaBehind) Unwrap() []error { return []error{e.err, web.ErrSchemaBehind} }

// openDBError is a failed connection; its text names the server and the
// database, never the password.
type openDBError struct{ err error }

func (e *openDBError) Error() string   { return e.err.Error() }
func (e *openDBError) Unwrap() []error { return []error{e.err, errOpenDB} }

// ExitCode is the exit code of a program that failed with err: 2 for a
// configuration problem, 1 for everything else (database, auth, ban).
func ExitCode(err error) int {
	var ce *config.Error
	var se *domain.SettingError
	if errors.As(err, &ce) || errors.As(err, &se) {
		return 2
	}
	return 1
}

// Env is what one run or one request opened.
type Env struct {
	Paths  Paths
	Config config.Config
	Store  *store.DB
	Log    *slog.Logger

	closers []func()
}

// Close releases everything Open opened, last first.
func (e *Env) Close() {
	if e == nil {
		return
	}
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// Options tune Open.
type Options struct {
	// Getenv reads the process environment; nil means os.Getenv.
	Getenv func(string) string
	// Paths, when Root is set, skips locating the app root.
	Paths Paths
	// LogAlso receives every log line too (stderr for a shell run).
	LogAlso io.Writer
	// Log, when set, is used instead of opening the daily log file.
	Log *slog.Logger
	// NoStore skips opening the database.
	NoStore bool
	// AnySchema opens the database without checking its schema (migrate).
	AnySchema bool
}

func (o Options) getenv() func(string) string {
	if o.Getenv != nil {
		return o.Getenv
	}
	return os.Getenv
}

// LoadConfig locates the app root (unless given) and reads its .env.
func LoadConfig(need config.Need, o Options) (Paths, config.Config, error) {
	p := o.Paths
	if p.Root == "" {
		var err error
		if p, err = Locate(o.getenv()); err != nil {
			return p, config.Config{}, err
		}
	}
	cfg, err := config.Load(p.Root, o.getenv(), need)
	ApplyLimits(cfg.MemoryLimitMB) // every program and request passes here (limits.go)
	return p, cfg, err
}

// StoreConfig turns the database settings into the store's.
func StoreConfig(c config.Config) store.Config {
	sc := store.Config{
		Driver: c.DB.Driver,
		Host:   c.DB.Host,
		Name:   c.DB.Name,
		User:   c.DB.User,
		Pass:   c.DB.Pass.Reveal(),
	}
	if c.DB.Port != 0 {
		sc.Port = strconv.Itoa(c.DB.Port)
	}
	if c.DB.Driver == config.DriverSQLite {
		sc.SQLitePath = c.DB.Name
	}
	return sc
}

// secretsOf lists the values the log must never show.
func secretsOf(c config.Config) []string {
	var out []string
	for _, s := range []config.Secret{c.KaspiAPIToken, c.AmoClientSecret, c.AmoAccessToken, c.AmoRefreshToken,
		c.CronSecret, c.DB.Pass, c.AlertTelegramBotToken} {
		if s.IsSet() {
			out = append(out, s.Reveal())
		}
	}
	for _, st := range c.KaspiStores {
		if st.No > 1 && st.Token.IsSet() {
			out = append(out, st.Token.Reveal())
		}
	}
	return out
}

// Open prepares one run: the app root, storage/ and logs/, the .env, the
// log, and (unless NoStore) the database with its schema checked — a
// schema behind this program is refused with SchemaBehindMessage.
func Open(ctx context.Context, need config.Need, o Options) (*Env, error) {
	p := o.Paths
	if p.Root == "" {
		var err error
		if p, err = Locate(o.getenv()); err != nil {
			return nil, err
		}
	}
	// storage/ and logs/ exist from the first run on, even one that
	// stops at a bad .env.
	if err := p.Ensure(); err != nil {
		return nil, err
	}
	o.Paths = p
	_, cfg, err := LoadConfig(need, o)
	if err != nil {
		return nil, err
	}
	e := &Env{Paths: p, Config: cfg, Log: o.Log}
	if e.Log == nil {
		e.openLog(o.LogAlso)
	}
	if o.NoStore {
		return e, nil
	}
	db, err := store.Open(ctx, StoreConfig(cfg))
	if err != nil {
		e.Close()
		return nil, &openDBError{err}
	}
	e.Store = db
	e.closers = append(e.closers, func() { db.Close() })
	if !o.AnySchema {
		if err := db.CheckSchema(ctx); err != nil {
			e.Close()
			if errors.Is(err, store.ErrSchemaBehind) {
				return nil, &schemaBehind{err: err}
			}
			return nil, fmt.Errorf("check database schema: %w", err)
		}
	}
	return e, nil
}

// AmoBaseURL is the amoCRM API base the config names.
func AmoBaseURL(c config.Config) (string, error) {
	base, err := amocrm.BaseURL(c.AmoSubdomain)
	if err != nil {
		return "", &config.Error{Lines: []string{"AMO_SUBDOMAIN: " + err.Error()},
			Public: []string{"AMO_SUBDOMAIN: ожидается поддомен amoCRM (shop), хост (shop.amocrm.ru) или адрес (https://shop.amocrm.ru)"}}
	}
	return base, nil
}

// amoDomains are the hosts whose first label is an account's subdomain.
var amoDomains = []string{".amocrm.ru", ".amocrm.com", ".kommo.com"}

// AmoSubdomain is the account name AMO_SUBDOMAIN gives: "shop" for shop,
// shop.amocrm.ru, https://shop.amocrm.ru or https://shop.kommo.com/. It
// is "" for any other base (a proxy, a test server): the callback then
// compares account ids instead (the one stored at the first authorization).
func AmoSubdomain(c config.Config) string {
	s := strings.ToLower(strings.TrimSpace(c.AmoSubdomain))
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "://") && !strings.ContainsAny(s, "./:") {
		return s
	}
	if !strings.Contains(s, "://") {
		s = "//" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	host := u.Hostname()
	for _, d := range amoDomains {
		if sub, ok := strings.CutSuffix(host, d); ok && sub != "" && !strings.Contains(sub, ".") {
			return sub
		}
	}
	return ""
}

// Amo builds the amoCRM client: tokens in the database, the limiter's
// state and the refresh lock in storage/.
func (e *Env) Amo() (*amocrm.Client, error) { return e.amo(0) }

// amo builds the client; maxWait > 0 bounds its waits for a limiter slot.
func (e *Env) amo(maxWait time.Duration) (*amocrm.Client, error) {
	base, err := AmoBaseURL(e.Config)
	if err != nil {
		return nil, err
	}
	c := e.Config
	return amocrm.New(amocrm.Config{
		BaseURL:         base,
		ClientID:        c.AmoClientID,
		ClientSecret:    c.AmoClientSecret.Reveal(),
		RedirectURI:     c.AmoRedirectURI,
		EnvAccessToken:  c.AmoAccessToken.Reveal(),
		EnvRefreshToken: c.AmoRefreshToken.Reveal(),
		EnvExpiresAt:    c.AmoExpiresAt,
		Tokens:          markingTokens{TokenStore: e.Store, storage: e.Paths.Storage},
		Settings:        e.Store,
		Limiter:         amocrm.NewLimiter(e.Paths.Storage, float64(c.AmoMaxRPS)),
		LockDir:         e.Paths.Storage,
		Logger:          e.Log,
		MaxWait:         maxWait,
	})
}

// markingTokens writes storage/'s token marker (web.TokenMarkerName)
// whenever a pair is saved or found, so that oauth_callback.cgi knows a
// token is stored without opening the database.
type markingTokens struct {
	domain.TokenStore
	storage string
}

func (m markingTokens) SaveToken(ctx context.Context, service string, t domain.Token) error {
	if err := m.TokenStore.SaveToken(ctx, service, t); err != nil {
		return err
	}
	m.mark()
	return nil
}

func (m markingTokens) Token(ctx context.Context, service string) (domain.Token, error) {
	t, err := m.TokenStore.Token(ctx, service)
	if err == nil && t.AccessToken != "" {
		m.mark()
	}
	return t, err
}

func (m markingTokens) UpdateToken(ctx context.Context, service string, fn func(cur domain.Token, found bool) (*domain.Token, error)) error {
	stored := false
	err := m.TokenStore.UpdateToken(ctx, service, func(cur domain.Token, found bool) (*domain.Token, error) {
		t, err := fn(cur, found)
		stored = err == nil && (t != nil || (found && cur.AccessToken != ""))
		return t, err
	})
	if err == nil && stored {
		m.mark()
	}
	return err
}

// mark is best effort: without the marker the callback only stays open
// to a state-less code, as before.
func (m markingTokens) mark() {
	if m.storage != "" {
		_ = web.MarkTokenStored(m.storage)
	}
}

// openLog opens the daily log file; a log that cannot be written must not
// stop the sync, so it falls back to stderr and says so.
func (e *Env) openLog(also io.Writer) {
	secrets := secretsOf(e.Config)
	log, closer, err := applog.OpenWith(applog.Options{
		Dir: e.Paths.Logs, RetentionDays: e.Config.LogRetentionDays, Also: also, Secrets: secrets,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "log:", err)
		e.Log = slog.New(applog.NewHandler(os.Stderr, slog.LevelInfo, secrets...))
		return
	}
	e.Log = log
	e.closers = append(e.closers, func() { closer.Close() })
}
