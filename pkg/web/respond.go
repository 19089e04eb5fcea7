package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
)

// maxFormBody bounds what a plain endpoint reads from a request body; a
// token and a task name fit many times over.
const maxFormBody = 16 << 10

func setCommonHeaders(w http.ResponseWriter, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// writeText answers with a plain text body ending in a newline.
func writeText(w http.ResponseWriter, status int, msg string) {
	setCommonHeaders(w, "text/plain; charset=utf-8")
	w.WriteHeader(status)
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	fmt.Fprint(w, msg)
}

// fail answers an error through the table in errors.go and logs what the
// client does not see. The request URL is never logged (it may hold token=).
func fail(w http.ResponseWriter, r *http.Request, log *slog.Logger, op string, err error) {
	noteError(r, err)
	status, msg := answerTo(r, err)
	if log != nil && status != http.StatusForbidden {
		log.LogAttrs(r.Context(), levelFor(status), op+" failed",
			slog.Int("status", status), slog.String("error", logText(err)))
	}
	writeText(w, status, msg)
}

func levelFor(status int) slog.Level {
	if status >= 500 {
		return slog.LevelError
	}
	return slog.LevelWarn
}

// allowMethods answers 405 unless the request uses one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeText(w, http.StatusMethodNotAllowed, "Method Not Allowed")
	return false
}

// limitBody bounds the request body before anything reads it.
func limitBody(w http.ResponseWriter, r *http.Request, n int64) {
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, n)
	}
}

// parseForm reads query and (bounded) form body; a body over the bound is 413.
func parseForm(w http.ResponseWriter, r *http.Request) bool {
	limitBody(w, r, maxFormBody)
	if err := r.ParseForm(); err != nil {
		writeText(w, http.StatusRequestEntityTooLarge, "Слишком большой или неверный запрос.")
		return false
	}
	return true
}

// Recover turns a panic into a plain 500 (no stack trace reaches the
// client) and logs it.
func Recover(log *slog.Logger, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				if log != nil {
					log.Error("handler panic", slog.String("panic", fmt.Sprint(v)))
				}
				writeText(w, http.StatusInternalServerError, "Внутренняя ошибка. Подробности в logs/.")
			}
		}()
		h.ServeHTTP(w, r)
	})
}
