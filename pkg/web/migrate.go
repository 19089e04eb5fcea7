package web

import (
	"context"
	"errors"
	"fmt"
	"kaspi-amocrm/pkg/domain"
	"log/slog"
	"net/http"
)

// Migrator runs the pending migrations of the configured database.
type Migrator interface {
	// Migrate brings the schema up to date and returns the version reached
	// and the driver name. Another migration holding the lock: an error
	// wrapping domain.ErrBusy. Nothing pending is success.
	Migrate(ctx context.Context) (version uint, driver string, err error)
}

// Migrate serves migrate.cgi: GET or POST with CRON_SECRET runs the
// pending migrations and answers "Migration OK: version N (driver)".
type Migrate struct {
	Secret   string
	Migrator Migrator
	Log      *slog.Logger
}

func (h *Migrate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) || !parseForm(w, r) {
		return
	}
	if err := requireCronSecret(r, h.Secret); err != nil {
		fail(w, r, h.Log, "migrate", err)
		return
	}
	version, driver, err := h.Migrator.Migrate(r.Context())
	if err != nil {
		if !errors.Is(err, domain.ErrBusy) {
			var pe *PublicError
			if !errors.As(err, &pe) {
				// The store's migration errors name the fix (dirty
				// version, missing privilege) and hold no secret; the
				// caller proved to be the owner.
				err = &PublicError{Status: http.StatusInternalServerError, Msg: "Migration failed: " + err.Error(), Err: err}
			}
		}
		fail(w, r, h.Log, "migrate", err)
		return
	}
	if h.Log != nil {
		h.Log.Info("migration done", slog.Uint64("version", uint64(version)), slog.String("driver", driver))
	}
	writeText(w, http.StatusOK, fmt.Sprintf("Migration OK: version %d (%s)", version, driver))
}
