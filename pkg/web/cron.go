package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// Tasks runs the sync tasks of cron.cgi in-process.
type Tasks interface {
	// Run runs "new" (fetch_new) or "reconcile" under the run lock and the
	// time budget and returns the run's result and the line that follows
	// "OK <task>: " (or WARN, with the first reason). A held lock: an error
	// wrapping domain.ErrBusy, with nothing done. Any other error stopped the run.
	Run(ctx context.Context, task string) (res domain.Result, summary string, err error)
	// Status returns the status report in a format: "text", "json" or
	// "html".
	Status(ctx context.Context, format string) (report string, err error)
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
	case domain.TaskNewAlias, domain.TaskReconcile:
		res, summary, err := h.Tasks.Run(r.Context(), task)
		if errors.Is(err, domain.ErrBusy) {
			// Another run is at work: for a cron poller that is normal.
			writeText(w, http.StatusOK, "BUSY")
			return
		}
		if errors.Is(err, ErrConfig) {
			// A .env that cannot be loaded: 500 with the keys only.
			fail(w, r, h.Log, "cron "+task, err)
			return
		}
		if err != nil {
			// The run was stopped (configuration, database, authorization,
			// ban): 200, so that an HTTP cron service matches the word.
			res, summary = domain.ResultError, runErrorText(err)
			if h.Log != nil {
				h.Log.Error("cron "+task+" failed", slog.String("error", err.Error()))
			}
		}
		noteResult(r, res, err)
		writeText(w, http.StatusOK, ResultWord(res)+" "+task+": "+summary)
	case "status":
		format := statusFormat(r)
		report, err := h.Tasks.Status(r.Context(), format)
		if err != nil {
			fail(w, r, h.Log, "cron status", err)
			return
		}
		switch format {
		case "json":
			setCommonHeaders(w, "application/json; charset=utf-8")
		case "html":
			setCommonHeaders(w, "text/html; charset=utf-8")
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:")
		default:
			setCommonHeaders(w, "text/plain; charset=utf-8")
		}
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, report)
	default:
		writeText(w, http.StatusBadRequest, "Неизвестная задача: используйте task=new, task=reconcile или task=status")
	}
}

// statusFormat picks the status report's form: format=json|text|html, or
// HTML when a browser asks for it (Accept: text/html), text otherwise.
func statusFormat(r *http.Request) string {
	switch f := r.FormValue("format"); f {
	case "json", "text", "html":
		return f
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		if mt, _, _ := strings.Cut(strings.TrimSpace(part), ";"); strings.EqualFold(mt, "text/html") {
			return "html"
		}
	}
	return "text"
}

// ResultWord is a result's word in cron.cgi's answers: OK, WARN, ERROR.
func ResultWord(res domain.Result) string {
	switch res {
	case domain.ResultWarn:
		return "WARN"
	case domain.ResultError:
		return "ERROR"
	}
	return "OK"
}

// runErrorText is the owner's line for an error that stopped a run: the
// handlers' own table for what the wiring reports (schema behind, a key
// missing), domain.Explain where it names a service or a known kind, and
// no detail otherwise (an internal error may carry a host or a path).
func runErrorText(err error) string {
	var pe *PublicError
	var se *domain.SettingError
	switch {
	case errors.As(err, &se):
		return se.Error()
	case errors.As(err, &pe), errors.Is(err, ErrSchemaBehind), errors.Is(err, ErrNotConfigured):
		_, msg := answer(err)
		return msg
	case errors.Is(err, domain.ErrBanned), errors.Is(err, domain.ErrPaymentRequired), errors.Is(err, domain.ErrAuth), errors.Is(err, domain.ErrForbidden),
		errors.Is(err, domain.ErrTransient), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return domain.Explain(err)
	}
	switch domain.ServiceOf(err) {
	case "amoCRM", "Kaspi":
		return domain.Explain(err)
	case "база данных":
		return "Ошибка базы данных: запуск остановлен. Подробности в logs/; проверьте DB_* в .env (bin/doctor)."
	}
	_, msg := answer(err)
	return msg
}
