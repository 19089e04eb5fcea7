package domain

import (
	"errors"
	"strings"
)

// Error kinds the sync engine branches on. API clients return errors that
// unwrap (errors.Is) to one of these; callers never read message text.
var (
	// ErrNotFound: the entity does not exist (404, or 204 on a single GET).
	ErrNotFound = errors.New("not found")
	// ErrAuth: the credentials were rejected (Kaspi 401/403, amoCRM 401
	// after one refresh, a revoked or reused refresh token).
	ErrAuth = errors.New("authorization rejected")
	// ErrPaymentRequired: amoCRM 402, the account is not paid.
	ErrPaymentRequired = errors.New("account not paid")
	// ErrBanned: amoCRM answered 403 with HTML (the account or IP is
	// blocked) or the circuit breaker is open. Stop the whole run.
	ErrBanned = errors.New("api access blocked")
	// ErrForbidden: amoCRM answered a JSON 403 ("Не хватает прав для
	// вызова данного метода"): the user who authorised the integration
	// lacks a right (GET /api/v4/users is admin-only). The tokens are
	// fine and kept; the owner must grant the right or authorise as an
	// administrator.
	ErrForbidden = errors.New("no rights for this method")
	// ErrTransient: 429, 5xx, a timeout or a dropped connection. For a GET
	// it is safe to retry later; for a create it means the outcome is
	// unknown (the entity may exist).
	ErrTransient = errors.New("temporary failure")
	// ErrBadRequest: the API rejected the request as malformed (400)
	// without per-item validation errors.
	ErrBadRequest = errors.New("bad request")
	// ErrNotSent: the request was never sent (no rate-limit slot was free
	// before the run's deadline). It also matches ErrTransient, but unlike
	// other transient failures of a create its outcome is known: nothing
	// was created, so nothing needs to be looked up before trying again.
	ErrNotSent = errors.New("request not sent")
	// ErrBusy: another run (or a migration) holds the lock; nothing was
	// done. The one sentinel the runner, the scheduler, migrate and the
	// web backends all answer, each in its own words.
	ErrBusy = errors.New("another run holds the lock")
)

// ValidationError is amoCRM's 400 with validation-errors: the failing items
// keyed by the request_id we sent, each with its messages. Items of the batch
// that are not listed were not at fault (but may not have been created).
type ValidationError struct {
	Items map[string][]string
	// Problems are the same entries as amoCRM sent them (code and path),
	// keyed like Items, for decisions that must not read message text.
	Problems map[string][]FieldProblem
}

// FieldProblem is one entry of amoCRM's validation-errors: Code such as
// NotSupportedChoice, Path inside the item such as "status_id" or
// "_embedded.contacts.0.id".
type FieldProblem struct {
	Code, Path, Detail string
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("validation failed")
	for id, msgs := range e.Items {
		b.WriteString("; ")
		b.WriteString(id)
		b.WriteString(": ")
		b.WriteString(strings.Join(msgs, ", "))
	}
	return b.String()
}

// Is lets errors.Is(err, ErrBadRequest) match a validation error too.
func (e *ValidationError) Is(target error) bool { return target == ErrBadRequest }
