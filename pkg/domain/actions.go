package domain

import (
	"context"
	"time"
)

// Kaspi actions: the writes the sync makes to Kaspi on an order (accept,
// assemble, complete, cancel). Each is done at most once per order: its
// intent is recorded before the POST, and an intent whose outcome is
// unknown (a timeout, a 5xx, a crash) is resolved by re-reading the order,
// never by posting again blindly.

// Kaspi action names, as KASPI_ACTIONS spells them.
const (
	ActionAccept   = "accept"
	ActionAssemble = "assemble"
	ActionComplete = "complete"
	ActionCancel   = "cancel"
)

// ActionState is where one action on one order stands.
type ActionState string

const (
	// ActionIntent: recorded before the POST; the outcome is not known yet.
	ActionIntent ActionState = "intent"
	// ActionDone: Kaspi shows the order where the action leads.
	ActionDone ActionState = "done"
	// ActionRefused: Kaspi refused it (Detail says why); not retried on its own.
	ActionRefused ActionState = "refused"
	// ActionWaiting: accepted by Kaspi, something is still to come
	// (a waybill, the buyer's code).
	ActionWaiting ActionState = "waiting"
)

// KaspiAction is one action on one order (table kaspi_actions).
type KaspiAction struct {
	Code      string
	Action    string
	State     ActionState
	Tries     int    // POSTs sent for it
	Detail    string // Kaspi's reason of a refusal, or what is awaited
	CreatedAt time.Time
	UpdatedAt time.Time
}

// KaspiActions keeps the actions so that each happens at most once.
type KaspiActions interface {
	// BeginAction records the intent of action on code (state intent,
	// tries 1) and reports true; it reports false, changing nothing, when
	// the order has a row for that action already (whatever its state).
	// Two processes racing get one true.
	BeginAction(ctx context.Context, code, action string, now time.Time) (bool, error)
	// KaspiAction returns one row; ErrNotFound when absent.
	KaspiAction(ctx context.Context, code, action string) (KaspiAction, error)
	// SetActionState moves a row to state with detail; retry true also
	// counts one more POST (tries+1). Unknown row: ErrNotFound.
	SetActionState(ctx context.Context, code, action string, state ActionState, detail string, retry bool, now time.Time) error
	// AcceptCandidates returns the rows of orders whose deal is complete
	// (step done, lead_id > 0), still tracked, that Kaspi last showed waiting for the
	// merchant (status APPROVED_BY_BANK) and that have no accept row or one
	// whose outcome is unknown (intent), oldest creation first, at most limit.
	AcceptCandidates(ctx context.Context, limit int) ([]Record, error)
}

// OrderWriter sends the merchant's status changes to Kaspi. A refusal
// unwraps to ErrBadRequest; an unknown outcome to ErrTransient (re-read the
// order before anything else).
type OrderWriter interface {
	Accept(ctx context.Context, o Order) (Order, error)
}
