package domain

import (
	"context"
	"fmt"
	"sort"
	"strings"
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

// ActionRearmed: a refused action whose deal was seen outside the action's
// stage afterwards; when the deal comes back into the stage, the action is
// tried again (a manager's deliberate second move, not any edit).
const ActionRearmed ActionState = "rearmed"

// Actions lists the action names in the order KASPI_ACTIONS documents them.
var Actions = []string{ActionAccept, ActionAssemble, ActionComplete, ActionCancel}

// ActionSettings are the stage actions of one Kaspi store: which amoCRM
// stage of its pipeline triggers which action, and the fields and defaults
// the actions read. The zero value has no stage actions.
type ActionSettings struct {
	// Stages maps an action name to the amoCRM status id that triggers it.
	Stages map[string]int64
	// CancelReason is the Kaspi cancellation reason used when the deal's
	// reason field is empty or not configured.
	CancelReason string
	// Custom field ids of the deal (0 = not used).
	CancelReasonFieldID int64 // select: the option names a Kaspi reason
	ParcelsFieldID      int64 // numeric: numberOfSpace for assemble
	CodeFieldID         int64 // text: the buyer's completion code
	WaybillFieldID      int64 // url/text: the Kaspi Delivery waybill link
	// MaxPerRun: a run finding more actions pending acts on none of them
	// unless confirmed.
	MaxPerRun int
	// Keys are the setting names the values were read from (for errors).
	Keys ActionKeys
}

// ActionKeys are the names of the settings ActionSettings is read from.
type ActionKeys struct {
	Actions, CancelReason, CancelReasonField, ParcelsField, CodeField, WaybillField, MaxPerRun string
}

// DefaultActionKeys are the keys of the first (or only) Kaspi store.
var DefaultActionKeys = ActionKeys{
	Actions:           "KASPI_ACTIONS",
	CancelReason:      "KASPI_CANCEL_REASON",
	CancelReasonField: "AMO_LEAD_CANCEL_REASON_FIELD_ID",
	ParcelsField:      "AMO_LEAD_PARCELS_FIELD_ID",
	CodeField:         "AMO_LEAD_KASPI_CODE_FIELD_ID",
	WaybillField:      "AMO_LEAD_WAYBILL_FIELD_ID",
	MaxPerRun:         "KASPI_ACTIONS_MAX_PER_RUN",
}

// Defaults of the action settings.
const (
	DefaultCancelReason     = "BUYER_CANCELLATION_BY_MERCHANT"
	DefaultActionsMaxPerRun = 50
)

// MerchantCancelReasons are the reasons a merchant may send to Kaspi,
// with the option names a deal's select field uses for them.
var MerchantCancelReasons = []struct{ Reason, Option string }{
	{"BUYER_CANCELLATION_BY_MERCHANT", "Отмена по просьбе покупателя"},
	{"BUYER_NOT_REACHABLE", "Не удалось связаться с покупателем"},
	{"MERCHANT_OUT_OF_STOCK", "Нет в наличии"},
}

// CancelReasonOf maps a select option (its name, or the Kaspi reason
// itself) to a Kaspi reason; "" when it names none.
func CancelReasonOf(option string) string {
	for _, r := range MerchantCancelReasons {
		if equalFoldTrim(option, r.Option) || equalFoldTrim(option, r.Reason) {
			return r.Reason
		}
	}
	return ""
}

// Enabled reports whether any stage action is configured.
func (s ActionSettings) Enabled() bool { return len(s.Stages) > 0 }

// ActionOf returns the action stage statusID triggers ("" for none).
func (s ActionSettings) ActionOf(statusID int64) string {
	for _, a := range Actions {
		if id, ok := s.Stages[a]; ok && id == statusID {
			return a
		}
	}
	return ""
}

// StageIDs returns the configured stages in the order of Actions.
func (s ActionSettings) StageIDs() []int64 {
	var out []int64
	for _, a := range Actions {
		if id, ok := s.Stages[a]; ok {
			out = append(out, id)
		}
	}
	return out
}

// StageActions is the writer of the stage actions besides Accept.
type StageActions interface {
	OrderWriter
	Cancel(ctx context.Context, o Order, reason, comment string) (Order, error)
	Assemble(ctx context.Context, o Order, parcels int) (Order, error)
	SendCompletionCode(ctx context.Context, o Order) (Order, error)
	Complete(ctx context.Context, o Order, securityCode string) (Order, error)
}

// StageLedger is what the stage actions need of the ledger besides
// KaspiActions.
type StageLedger interface {
	KaspiActions
	// RecordsByLead returns the ledger rows of these deals, by lead id;
	// deals the ledger lacks are absent.
	RecordsByLead(ctx context.Context, leadIDs []int64) (map[int64]Record, error)
	// ActionsInState lists the rows of action in state, oldest change first,
	// at most limit ("" action: every action).
	ActionsInState(ctx context.Context, action string, state ActionState, limit int) ([]KaspiAction, error)
	// RestartAction records a new intent of an action that has a row
	// (refused, rearmed, or a completion asking for a new code): state
	// intent, tries 1, no detail. Unknown row: ErrNotFound.
	RestartAction(ctx context.Context, code, action string, now time.Time) error
}

func equalFoldTrim(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}

// CheckActionStages checks the stages of s against the account: each must
// be a stage of pipelineID (142 and 143 included), not its incoming stage.
// nil: all usable (or the pipeline is not listed: checked elsewhere).
func (a AccountLists) CheckActionStages(pipelineID int64, s ActionSettings) *SettingError {
	p := a.pipeline(pipelineID)
	if p == nil {
		return nil
	}
	for _, action := range Actions {
		id, ok := s.Stages[action]
		if !ok || id == StatusWon || id == StatusLost {
			continue
		}
		value := action + ":" + itoa(id)
		_, st := a.stageOf(pipelineID, id)
		switch {
		case st == nil:
			return &SettingError{Key: s.Keys.Actions, Value: value, Reason: fmt.Sprintf(
				"в воронке «%s» нет такого этапа; этапы: %s (142 — успешно, 143 — не реализовано)", p.Name, usableStages(*p))}
		case st.Type == StageIncoming:
			return IncomingStage(s.Keys.Actions, value, *p, *st)
		}
	}
	return nil
}

// actionResults are the Kaspi states and statuses an action leads to: a
// status map may put a deal into the action's own stage for them.
var actionResults = map[string][]string{
	ActionAccept:   {StatusAcceptedByMerchant, StatePickup, StateDelivery, StateKaspiDelivery},
	ActionAssemble: {}, // assembling changes no state or status
	ActionComplete: {StatusCompleted, StateArchive},
	ActionCancel:   {StatusCancelled, StatusCancelling, StatusReturned, StateArchive},
}

// ActionMapConflicts lists the status map entries that put a deal into an
// action's stage for a Kaspi state or status the action does not lead to:
// the sync would move deals there by itself and the manager's own move into
// that stage would look like the sync's (no action is taken then).
func ActionMapConflicts(statusMap map[string]int64, s ActionSettings) []string {
	var out []string
	keys := make([]string, 0, len(statusMap))
	for k := range statusMap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		action := s.ActionOf(statusMap[k])
		if action == "" {
			continue
		}
		ok := false
		for _, r := range actionResults[action] {
			ok = ok || r == k
		}
		if !ok {
			out = append(out, fmt.Sprintf("%s:%d ставит сделку в этап действия %s, хотя заказ в Kaspi в %s — это не результат действия %s", k, statusMap[k], action, k, action))
		}
	}
	return out
}
