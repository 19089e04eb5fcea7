package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
)

// Tasks runs the sync tasks of cron.cgi in-process.
type Tasks interface {
	// Run runs "new" (fetch_new) or "reconcile" under the run lock and the
	// time budget and returns the one-line summary. A held lock: an error
	// wrapping ErrBusy, with nothing done.
	Run(ctx context.Context, task string) (summary string, err error)
	// Status returns the status report, JSON when asJSON.
	Status(ctx context.Context, asJSON bool) (report string, err error)
}

// Cron serves cron.cgi?task=new|reconcile|status.
type Cron struct {
	Secret string
	Tasks  Tasks
	Log    *slog.Logger
}

func (h *Cron) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) || !parseForm(w, r) {
		return
	}
	if err := requireCronSecret(r, h.Secret); err != nil {
		fail(w, r, h.Log, "cron", err)
		return
	}
	task := r.FormValue("task")
	switch task {
	case "new", "reconcile":
		summary, err := h.Tasks.Run(r.Context(), task)
		if errors.Is(err, ErrBusy) {
			// Another run is at work: for a cron poller that is normal.
			writeText(w, http.StatusOK, "BUSY")
			return
		}
		if err != nil {
			fail(w, r, h.Log, "cron "+task, err)
			return
		}
		writeText(w, http.StatusOK, "OK "+task+": "+summary)
	case "status":
		asJSON := r.FormValue("format") == "json"
		report, err := h.Tasks.Status(r.Context(), asJSON)
		if err != nil {
			fail(w, r, h.Log, "cron status", err)
			return
		}
		if asJSON {
			setCommonHeaders(w, "application/json; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			w.Write([]byte(report))
			return
		}
		writeText(w, http.StatusOK, report)
	default:
		writeText(w, http.StatusBadRequest, "Unknown task: use task=new, task=reconcile or task=status")
	}
}
