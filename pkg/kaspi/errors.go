package kaspi

import (
	"errors"
	"fmt"

	"kaspi-amocrm/pkg/domain"
)

// bodySnippet is how many bytes of an unexpected body an error keeps: enough
// to recognise an HTML error page in a log, too few to flood it.
const bodySnippet = 200

// APIError is a failed Kaspi call. It unwraps to the domain kind the caller
// branches on (domain.ErrAuth, ErrBadRequest, ErrNotFound, ErrTransient) and
// to the transport error when no answer arrived.
type APIError struct {
	Op     string // e.g. "GET /orders"
	Status int    // HTTP status; 0 when no answer arrived (timeout, reset)
	Title  string // errors[0].title of a JSON:API error document
	Body   string // first bytes of a body that was not the expected JSON
	Kind   error  // one of the domain error kinds
	Err    error  // transport or decoding cause, if any
	// Blocked: an HTML 403 (a firewall or an IP block), not a verdict on
	// the token; Kind is ErrTransient.
	Blocked bool
}

// IsBlocked reports whether err is Kaspi's HTML 403: this server is
// blocked or filtered on the way to the API.
func IsBlocked(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Blocked
}

func (e *APIError) Error() string {
	msg := "kaspi: " + e.Op
	if e.Status != 0 {
		msg += fmt.Sprintf(": HTTP %d", e.Status)
	}
	if e.Blocked {
		msg += ": access blocked on the way to the API (a firewall or an IP block), not a token verdict"
	}
	if e.Title != "" {
		msg += ": " + e.Title
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Body != "" {
		msg += fmt.Sprintf(": body %q", e.Body)
	}
	return msg
}

// Service names Kaspi in the owner's lines (domain.Explain).
func (e *APIError) Service() string { return "Kaspi" }

// Unwrap exposes both the kind and the cause to errors.Is / errors.As.
func (e *APIError) Unwrap() []error {
	errs := []error{e.Kind}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// KaspiTitle is Kaspi's own reason (errors[0].title), for the notes a
// refusal writes.
func (e *APIError) KaspiTitle() string { return e.Title }

// Retryable reports whether the same request may succeed if sent again.
func (e *APIError) Retryable() bool { return errors.Is(e.Kind, domain.ErrTransient) }

// snippet cuts a body to its first bytes for an error or a log line.
func snippet(b []byte) string {
	if len(b) > bodySnippet {
		b = b[:bodySnippet]
	}
	return string(b)
}
