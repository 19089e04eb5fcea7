package doctor

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/ratelimit"
	"kaspi-amocrm/pkg/store"
)

// Wiring is the real Connector: pkg/store, pkg/amocrm and pkg/kaspi built
// from the config exactly as the other programs build them.
type Wiring struct {
	// StoreConfig maps the config onto the store's; required. It is the
	// programs' own mapping (wiring.StoreConfig), passed in so that doctor
	// opens exactly the database they open.
	StoreConfig func(config.Config) store.Config
	Logger      *slog.Logger
	HTTPClient  *http.Client // nil: the clients' defaults
	// AmoLimiter overrides the AMO_MAX_RPS limiter (tests against the
	// sandbox run unpaced); nil: the shared limiter of the app.
	AmoLimiter *ratelimit.Limiter
}

var _ Connector = Wiring{}

// OpenDB opens the configured database.
func (w Wiring) OpenDB(ctx context.Context, cfg config.Config) (Database, func(), error) {
	if w.StoreConfig == nil {
		return nil, nil, errors.New("doctor: Wiring.StoreConfig is not set")
	}
	db, err := store.Open(ctx, w.StoreConfig(cfg))
	if err != nil {
		return nil, nil, err
	}
	return db, func() { db.Close() }, nil
}

// clients is the programs' own constructor of the API clients, tuned for
// a person waiting at the screen: fail fast.
func (w Wiring) clients(cfg config.Config) app.Clients {
	return app.Clients{Config: cfg, Storage: filepath.Join(cfg.Root, "storage"), Log: w.Logger,
		HTTPClient: w.HTTPClient, AmoLimiter: w.AmoLimiter, Interactive: true}
}

// Amo builds the amoCRM client over the database's token store.
func (w Wiring) Amo(cfg config.Config, db Database) (Amo, error) {
	// The owner sees the client's own words about a bad AMO_SUBDOMAIN.
	if _, err := amocrm.BaseURL(cfg.AmoSubdomain); err != nil {
		return nil, err
	}
	tokens, ok := db.(domain.TokenStore)
	if !ok {
		return nil, errors.New("doctor: the database keeps no tokens")
	}
	c := w.clients(cfg)
	c.Tokens, c.Settings = tokens, db
	return c.Amo()
}

// Kaspi builds the Kaspi client.
func (w Wiring) Kaspi(cfg config.Config) (OrderLookup, error) {
	return w.clients(cfg).Kaspi(), nil
}
