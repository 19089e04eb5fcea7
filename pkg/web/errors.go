package web

import (
	"context"
	"errors"
	"net/http"

	"kaspi-amocrm/pkg/domain"
)

// Sentinels the wiring wraps its errors in so that the handlers can answer
// them without knowing the store or the clients.
var (
	// ErrSchemaBehind: the database needs migrate.cgi first.
	ErrSchemaBehind = errors.New("database schema is behind")
	// ErrNotConfigured: a key the endpoint needs is empty (the message says which).
	ErrNotConfigured = errors.New("not configured")
	// ErrConfig marks a bad .env (a PublicError listing the keys wraps
	// it): a request answers 500 with the lines, a command-line run exits
	// 2 like every other program.
	ErrConfig = errors.New("bad configuration")
)

// PublicError carries a message that is safe to show as is (a config
// error naming a key, a validation message). It never holds a secret.
type PublicError struct {
	Status int
	Msg    string
	// Detail, when set, is shown instead of Msg to a command-line run
	// (whoever runs a program from a shell can read .env anyway): the
	// value of a bad key, the server a database connection failed on.
	Detail string
	Err    error // optional cause, for errors.Is; never shown to the web
}

func (e *PublicError) Error() string { return e.Msg }
func (e *PublicError) Unwrap() error { return e.Err }

// logText is what the log gets for err: a PublicError's message with its
// cause (a database error names the server, never the password), except
// for a bad .env, whose lines may hold values cut from a broken file.
func logText(err error) string {
	var pe *PublicError
	if errors.As(err, &pe) && pe.Err != nil && !errors.Is(err, ErrConfig) {
		return err.Error() + ": " + pe.Err.Error()
	}
	return err.Error()
}

// answerTo is answer for one request: a command-line run sees a
// PublicError's Detail.
func answerTo(r *http.Request, err error) (status int, msg string) {
	status, msg = answer(err)
	var pe *PublicError
	if isTrusted(r) && errors.As(err, &pe) && pe.Detail != "" {
		msg = pe.Detail
	}
	return status, msg
}

// Public wraps a safe message with its status.
func Public(status int, msg string) error { return &PublicError{Status: status, Msg: msg} }

// answer is the one table from an error to the status and the plain
// message a client sees. Anything it does not know is "internal": the
// detail goes to the log only.
func answer(err error) (status int, msg string) {
	var pe *PublicError
	switch {
	case errors.As(err, &pe):
		return pe.Status, pe.Msg
	case errors.Is(err, errSecretUnset):
		return http.StatusForbidden, msgSecretUnset
	case errors.Is(err, errSecretShort):
		return http.StatusForbidden, msgSecretShort
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, "Forbidden"
	case errors.Is(err, ErrSchemaBehind):
		return http.StatusServiceUnavailable, "База данных не обновлена: откройте migrate.cgi?token=CRON_SECRET, затем повторите."
	case errors.Is(err, domain.ErrBusy):
		return http.StatusConflict, "Занято: другой процесс держит блокировку. Повторите через минуту."
	case errors.Is(err, domain.ErrBanned):
		return http.StatusServiceUnavailable, "amoCRM заблокировал доступ к API (слишком много запросов). Запросы приостановлены; если блокировка не снимается, напишите в поддержку amoCRM."
	case errors.Is(err, domain.ErrPaymentRequired):
		return http.StatusBadGateway, "amoCRM: аккаунт не оплачен (HTTP 402)."
	case errors.Is(err, domain.ErrAuth), errors.Is(err, domain.ErrForbidden):
		return http.StatusBadGateway, domain.Explain(err)
	case errors.Is(err, domain.ErrTransient), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "Внешний сервис временно не отвечает. Повторите позже."
	case errors.Is(err, domain.ErrBadRequest):
		return http.StatusBadGateway, "Внешний сервис отклонил запрос. Подробности в logs/."
	case errors.Is(err, domain.ErrNotFound):
		return http.StatusNotFound, "Не найдено."
	}
	return http.StatusInternalServerError, "Внутренняя ошибка. Подробности в logs/."
}
