package amocrm

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// APIError is a failed amoCRM call. It unwraps to one of the domain error
// kinds (errors.Is(err, domain.ErrTransient), ...) and, for a 400 with
// validation-errors, to a *domain.ValidationError.
type APIError struct {
	Status       int // HTTP status; 0 for a network failure or timeout
	Method, Path string
	Title        string
	Detail       string
	RequestID    string // X-Request-Id, for a support ticket
	Kind         error  // the domain kind
	Validation   *domain.ValidationError
	Err          error // the underlying network or decoding error, if any
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("amocrm:")
	if e.Method != "" {
		b.WriteString(" " + e.Method + " " + e.Path + ":")
	}
	switch {
	case e.Status != 0:
		fmt.Fprintf(&b, " HTTP %d", e.Status)
		if e.Title != "" {
			b.WriteString(" " + e.Title)
		}
	case e.Err != nil:
		b.WriteString(" no answer")
	}
	if e.Detail != "" {
		if e.Method != "" || e.Status != 0 || e.Err != nil {
			b.WriteString(":")
		}
		b.WriteString(" " + e.Detail)
	}
	if e.Validation != nil {
		b.WriteString(" (" + e.Validation.Error() + ")")
	}
	if e.Err != nil {
		b.WriteString(": " + e.Err.Error())
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

// Service names amoCRM in the owner's lines (domain.Explain).
func (e *APIError) Service() string { return "amoCRM" }

// Unwrap exposes the domain kind, the validation details and the cause.
func (e *APIError) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Validation != nil {
		errs = append(errs, e.Validation)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// Plain messages the shop owner reads (doctor, status page).
const (
	msgReauth  = "нужна повторная авторизация amoCRM"
	msgNoToken = "нет токенов amoCRM: пройдите авторизацию"
	msgUnpaid  = "аккаунт amoCRM не оплачен"
	msgBanned  = "amoCRM заблокировал доступ (слишком много запросов); запросы приостановлены на 30 минут"
	// msgForbidden is followed by the method and path.
	msgForbidden = "у пользователя amoCRM, который авторизовал интеграцию, не хватает прав на"
)

// problem is amoCRM's application/problem+json body.
type problem struct {
	Title            string            `json:"title"`
	Detail           string            `json:"detail"`
	Hint             string            `json:"hint"`
	ValidationErrors []validationEntry `json:"validation-errors"`
}

type validationEntry struct {
	RequestID json.RawMessage `json:"request_id"` // a string; tolerate a number
	Errors    []struct {
		Code   string `json:"code"`
		Path   string `json:"path"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

func parseProblem(body []byte) (problem, bool) {
	var p problem
	if len(body) == 0 || json.Unmarshal(body, &p) != nil {
		return problem{}, false
	}
	return p, true
}

// validationError turns validation-errors into per-request_id messages.
// ids are the keys of the items we sent, in order (request_ids, or lead
// ids for calls whose items carry none): an entry whose request_id is not
// one of them but a position in the batch (the server numbers items itself
// when none was sent) is attributed by that position.
func validationError(entries []validationEntry, ids []string) *domain.ValidationError {
	known := make(map[string]bool, len(ids))
	for _, id := range ids {
		known[id] = true
	}
	ve := &domain.ValidationError{Items: map[string][]string{}, Problems: map[string][]domain.FieldProblem{}}
	for i, e := range entries {
		id := rawString(e.RequestID)
		if !known[id] {
			if n, err := strconv.Atoi(id); err == nil && n >= 0 && n < len(ids) {
				id = ids[n]
			} else if id == "" && i < len(ids) {
				id = ids[i]
			}
		}
		for _, fe := range e.Errors {
			msg := fe.Detail
			if fe.Path != "" {
				msg = fe.Path + ": " + msg
			}
			if fe.Code != "" {
				msg += " (" + fe.Code + ")"
			}
			ve.Items[id] = append(ve.Items[id], msg)
			ve.Problems[id] = append(ve.Problems[id], domain.FieldProblem{Code: fe.Code, Path: fe.Path, Detail: fe.Detail})
		}
		if len(e.Errors) == 0 {
			ve.Items[id] = append(ve.Items[id], "rejected")
		}
	}
	for id := range ve.Items {
		sort.Strings(ve.Items[id])
	}
	return ve
}

func rawString(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// kindFor maps an HTTP status to a domain kind.
func kindFor(status int) error {
	switch {
	case status == 400, status == 405, status == 422:
		return domain.ErrBadRequest
	case status == 401:
		return domain.ErrAuth
	case status == 402:
		return domain.ErrPaymentRequired
	case status == 403: // a JSON 403; an HTML one is the ban, decided before
		return domain.ErrForbidden
	case status == 404:
		return domain.ErrNotFound
	case status == 429, status >= 500:
		return domain.ErrTransient
	}
	return domain.ErrBadRequest
}

var errBatchTooLarge = errors.New("batch too large")

func checkBatch(op string, n int) error {
	if n > domain.MaxBatch {
		return fmt.Errorf("amocrm: %s: %d items, at most %d per call: %w: %w",
			op, n, domain.MaxBatch, errBatchTooLarge, domain.ErrBadRequest)
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
