package doctor

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/kaspi"
	"kaspi-amocrm/pkg/ratelimit"
	"kaspi-amocrm/pkg/store"
)

// Wiring is the real Connector: pkg/store, pkg/amocrm and pkg/kaspi built
// from the config exactly as the other programs build them.
type Wiring struct {
	// StoreConfig maps the config onto the store's; required. It is the
	// programs' own mapping (app.StoreConfig), passed in so that doctor
	// opens exactly the database they open and this package does not link
	// the wiring of the web endpoints.
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

// Amo builds the amoCRM client over the database's token store.
func (w Wiring) Amo(cfg config.Config, db Database) (Amo, error) {
	base, err := amocrm.BaseURL(cfg.AmoSubdomain)
	if err != nil {
		return nil, err
	}
	tokens, ok := db.(domain.TokenStore)
	if !ok {
		return nil, errors.New("doctor: the database keeps no tokens")
	}
	storage := filepath.Join(cfg.Root, "storage")
	lim := w.AmoLimiter
	if lim == nil {
		lim = amocrm.NewLimiter(storage, float64(cfg.AmoMaxRPS))
	}
	return amocrm.New(amocrm.Config{
		BaseURL: base, ClientID: cfg.AmoClientID, ClientSecret: cfg.AmoClientSecret.Reveal(),
		RedirectURI:    cfg.AmoRedirectURI,
		EnvAccessToken: cfg.AmoAccessToken.Reveal(), EnvRefreshToken: cfg.AmoRefreshToken.Reveal(),
		EnvExpiresAt: cfg.AmoExpiresAt,
		Tokens:       tokens, Settings: db,
		Limiter: lim, LockDir: storage,
		HTTPClient: w.HTTPClient, Logger: w.Logger,
		// doctor answers a person waiting at the screen: fail fast.
		Retries: 1, BackoffBase: 200 * time.Millisecond,
	})
}

// Kaspi builds the Kaspi client.
func (w Wiring) Kaspi(cfg config.Config) (OrderLookup, error) {
	return kaspi.New(kaspi.Config{
		BaseURL: cfg.KaspiAPIBase, Token: cfg.KaspiAPIToken.Reveal(), HTTPClient: w.HTTPClient,
		Logger: w.Logger, MaxRetries: 1, RetryBase: 200 * time.Millisecond, Timeout: 20 * time.Second,
	}), nil
}
