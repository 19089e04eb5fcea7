// Package wiring opens what one run or one request works with: the app
// root, storage/ and logs/, the .env, the log and the database, its schema
// checked. It is kept apart from pkg/app so that the programs that never
// open a database (cron_paths) do not link the database drivers.
package wiring

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/web"
)

// SchemaBehindMessage is what a program says when migrations are pending.
const SchemaBehindMessage = "База данных не обновлена до этой версии программы: откройте в браузере " +
	"cgi-bin/migrate.cgi?token=CRON_SECRET (или запустите cgi-bin/migrate.cgi из консоли), затем повторите."

// schemaBehind carries the Russian message and still matches both
// store.ErrSchemaBehind and web.ErrSchemaBehind.
type schemaBehind struct{ err error }

func (e *schemaBehind) Error() string   { return SchemaBehindMessage }
func (e *schemaBehind) Unwrap() []error { return []error{e.err, web.ErrSchemaBehind} }

// ErrOpenDB marks a failure to connect (its text names the server, never
// the password, so the owner may see it).
var ErrOpenDB = errors.New("database unavailable")

// openDBError is a failed connection; its text names the server and the
// database, never the password.
type openDBError struct{ err error }

func (e *openDBError) Error() string   { return e.err.Error() }
func (e *openDBError) Unwrap() []error { return []error{e.err, ErrOpenDB} }

// Env is what one run or one request opened.
type Env struct {
	Paths  app.Paths
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

// Open prepares one run: the app root, storage/ and logs/, the .env, the
// log, and (unless NoStore) the database with its schema checked — a
// schema behind this program is refused with SchemaBehindMessage.
func Open(ctx context.Context, need config.Need, o app.Options) (*Env, error) {
	p := o.Paths
	if p.Root == "" {
		var err error
		if p, err = app.Locate(o.GetenvFunc()); err != nil {
			return nil, err
		}
	}
	// storage/ and logs/ exist from the first run on, even one that
	// stops at a bad .env.
	if err := p.Ensure(); err != nil {
		return nil, err
	}
	o.Paths = p
	_, cfg, err := app.LoadConfig(need, o)
	if err != nil {
		return nil, err
	}
	e := &Env{Paths: p, Config: cfg, Log: o.Log}
	if e.Log == nil {
		e.openLog(o)
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

// Clients is the constructor of this environment's API clients: tokens
// and the ban in the database, the limiter's state, the refresh lock and
// the token marker in storage/.
func (e *Env) Clients() app.Clients {
	return app.Clients{Config: e.Config, Storage: e.Paths.Storage, Tokens: e.Store, Settings: e.Store,
		Log: e.Log, MarkTokens: true}
}

// openLog opens the daily log file; a log that cannot be written must not
// stop the sync, so it falls back to stderr and says so.
func (e *Env) openLog(o app.Options) {
	log, closer, err := app.OpenLog(e.Paths, e.Config, o.LogAlso)
	if err != nil {
		fmt.Fprintln(os.Stderr, "log:", err)
		e.Log = app.StderrLog(e.Config)
		return
	}
	e.Log = log
	e.closers = append(e.closers, func() { closer.Close() })
}
