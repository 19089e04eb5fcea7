package domain

import (
	"context"
	"time"
)

// Step is where an order stands on its way to a complete deal
// (DESIGN.md §5). Each step is recorded before the next amoCRM call, so a
// crash resumes where it stopped and never repeats a create that may have
// happened.
type Step string

const (
	// StepNew: in the ledger, no amoCRM call made yet.
	StepNew Step = "new"
	// StepLeadRequested: the intent is recorded and POST /leads may have
	// happened. A row found in this step is first looked up in amoCRM by
	// order code, never blindly created again.
	StepLeadRequested Step = "lead_requested"
	// StepLeadCreated: the lead id is known (LeadID > 0); products not linked yet.
	StepLeadCreated Step = "lead_created"
	// StepLinked: products linked; the note is not written yet.
	StepLinked Step = "linked"
	// StepDone: the deal is complete; reconcile keeps it in step.
	StepDone Step = "done"
)

// Record is one ledger row (table orders_map). LeadID is 0 while no deal is
// known. Order is the last snapshot seen at Kaspi (nil for rows adopted from
// the PHP version and after the snapshot retention has dropped it).
type Record struct {
	Code       string
	KaspiID    string
	State      string // Kaspi state last seen
	Status     string // Kaspi status last seen ("" for adopted PHP rows)
	CreationMs int64  // 0 when unknown (adopted PHP rows)
	TotalPrice int64
	LeadID     int64
	Step       Step
	Order      *Order

	Phone     string // E.164; "" when the order has no usable phone
	ContactID int64

	Attempts      int
	NextAttemptAt time.Time // zero: due now
	LastError     string
	Quarantined   bool

	AmoStatusID int64     // the amoCRM status id we last set (0: none yet)
	Tracked     bool      // false once a final status is in amoCRM or the lead was deleted
	CheckedAt   time.Time // when Kaspi was last asked about this order (zero: never)
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// CompletedAt is when the sync first recorded the order COMPLETED
	// (zero: not yet); returns are watched for a window from then.
	CompletedAt time.Time
	// StoreNo is the Kaspi store the order came from (1 … 9); rows written
	// before several stores existed, PHP ones included, are store 1.
	StoreNo int
}

// AdoptedLead is a deal found in amoCRM for an order code.
type AdoptedLead struct {
	Code        string
	LeadID      int64
	AmoStatusID int64
	StoreNo     int // the Kaspi store the deal's name tells (0: store 1)
}

// Token is an OAuth token pair. ExpiresAt is unix seconds; a long-lived
// token has no RefreshToken.
type Token struct {
	AccessToken  string
	RefreshToken string
	ExpiresAt    int64
}

// Run is one recorded run of a task, for the status page.
type Run struct {
	ID         int64
	Task       string // fetch_new, reconcile
	StartedAt  time.Time
	FinishedAt time.Time // zero while running (or after a crash)
	OK         bool      // the run did its job (result ok or warn)
	Summary    string
	// Result is ok, warn or error ("" while running); Reason is the first
	// reason of a warn or error, in Russian.
	Result Result
	Reason string
	// AmoRequests is how many requests the run made to amoCRM.
	AmoRequests int64
}

// RunEnd is how a run ended: its result, first reason, summary line and
// the amoCRM requests it made.
type RunEnd struct {
	Result      Result
	Reason      string
	Summary     string
	AmoRequests int64
}

// StatusMapping is a row of the PHP version's status_mapping table.
type StatusMapping struct {
	ID                   int64
	KaspiStatus          string
	AmoPipelineID        int64
	AmoStatusID          int64
	SortOrder            int
	AmoResponsibleUserID int64 // 0 = NULL
	IsActive             bool
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// Settings is the key/value table shared with the PHP version.
type Settings interface {
	// Setting returns a value; ok is false when the key is absent.
	Setting(ctx context.Context, key string) (value string, ok bool, err error)
	SetSetting(ctx context.Context, key, value string) error
}

// TokenStore keeps OAuth tokens (table oauth_tokens).
type TokenStore interface {
	// Token returns the stored pair; ErrNotFound when there is no row.
	Token(ctx context.Context, service string) (Token, error)
	// SaveToken inserts or replaces the pair.
	SaveToken(ctx context.Context, service string, t Token) error
	// UpdateToken runs fn with the service's row locked against other
	// processes (SELECT ... FOR UPDATE; BEGIN IMMEDIATE on SQLite) and
	// fn given the row as it is now (found=false when absent). A non-nil
	// returned token is saved in the same transaction before the lock is
	// released. fn must not take longer than a network call.
	UpdateToken(ctx context.Context, service string, fn func(cur Token, found bool) (*Token, error)) error
}

// Ledger is the order ledger and the caches the sync engine keeps: the
// sum of the narrow interfaces below, which consumers take instead when
// they need only a part. All times are passed in, never read from the
// clock inside.
type Ledger interface {
	Settings
	Orders
	ContactCache
	ElementCache
	StatusMaps
	RunLog
}

// Orders is the order ledger (table orders_map): one row per Kaspi order
// on its way to a complete deal, and the reads the sync and the status
// page make of it.
type Orders interface {
	// Ingest inserts the orders whose code is not in the ledger yet (step
	// new, lead_id 0, snapshot kept) and returns their codes. Known codes
	// are left untouched; a concurrent insert of the same code is skipped,
	// never an error.
	Ingest(ctx context.Context, orders []Order, now time.Time) (inserted []string, err error)
	// UpdateOrder refreshes a known row from Kaspi: snapshot, state,
	// status, total, creation ms, kaspi id, store (when o.StoreNo > 0),
	// CheckedAt=now. Step, lead and
	// sync fields are not touched. Unknown code: ErrNotFound.
	UpdateOrder(ctx context.Context, o Order, now time.Time) error
	// Record returns one row; ErrNotFound when absent.
	Record(ctx context.Context, code string) (Record, error)
	// Records returns the rows for these codes (absent codes are missing from the map).
	Records(ctx context.Context, codes []string) (map[string]Record, error)
	// Due returns rows with step != done whose NextAttemptAt <= now, oldest
	// CreationMs first (unknown creation last), at most limit. Quarantined
	// rows only when withQuarantined.
	Due(ctx context.Context, now time.Time, limit int, withQuarantined bool) ([]Record, error)
	// Stale returns tracked rows with step done whose CheckedAt is before
	// checkedBefore, least recently checked first, at most limit.
	Stale(ctx context.Context, checkedBefore time.Time, limit int) ([]Record, error)

	// SetStep moves rows to step (clearing LastError, Attempts,
	// NextAttemptAt and Quarantined when step is done).
	SetStep(ctx context.Context, codes []string, step Step, now time.Time) error
	// SetLead stores the lead id the moment it is known and moves the row
	// to StepLeadCreated.
	SetLead(ctx context.Context, code string, leadID int64, now time.Time) error
	// SetContact records the resolved phone and contact of an order.
	SetContact(ctx context.Context, code, phone string, contactID int64, now time.Time) error
	// SetAside records a failure: Attempts+1, LastError, NextAttemptAt,
	// Quarantined. The step is unchanged.
	SetAside(ctx context.Context, code, lastError string, next time.Time, quarantined bool, now time.Time) error
	// SetSynced records what reconcile brought into amoCRM: the Kaspi
	// state/status now reflected, the amoCRM status we set (0 keeps the
	// old value), whether the row is still tracked, and CheckedAt=now.
	// The first COMPLETED recorded sets CompletedAt=now.
	SetSynced(ctx context.Context, code, state, status string, amoStatusID int64, tracked bool, now time.Time) error
	// DropSnapshots removes the personal data snapshot (and phone) from
	// rows done before olderThan (by UpdatedAt); codes and ids stay.
	DropSnapshots(ctx context.Context, olderThan time.Time) (int, error)
	// StepCounts counts rows per step; quarantined rows are counted under
	// the key "quarantined" instead of their step.
	StepCounts(ctx context.Context) (map[string]int, error)

	// AdoptLeads records deals that already exist in amoCRM (found before
	// anything is created, on a new or lost database): a code absent from
	// the ledger is inserted as a finished, tracked deal without snapshot;
	// a row at step new takes it at step done with its errors cleared; a
	// done row holding a higher lead id takes the lower one; other rows
	// (on their way, looked up by code when a create may have happened)
	// are left alone. AmoStatusID is
	// the deal's current stage. It returns how many rows changed.
	AdoptLeads(ctx context.Context, leads []AdoptedLead, now time.Time) (int, error)
	// MissedBySweep returns tracked done rows created in [fromMs, toMs]
	// that were not checked since checkedBefore (a sweep of that range
	// should have returned them), oldest first, at most limit.
	MissedBySweep(ctx context.Context, fromMs, toMs int64, checkedBefore time.Time, limit int) ([]Record, error)
	// FirstOrderMs is when the ledger's history starts: the oldest order's
	// creation time (epoch ms), else the oldest row's insertion time; ok is
	// false when the ledger is empty.
	FirstOrderMs(ctx context.Context) (ms int64, ok bool, err error)
	// SetAsideCount counts the orders waiting for a retry after a failure
	// (not quarantined) and returns the newest one's reason.
	SetAsideCount(ctx context.Context) (n int, reason string, err error)
}

// ContactCache is the phone → amoCRM contact cache.
type ContactCache interface {
	// ContactIDs looks E.164 phones up in the phone → contact cache.
	ContactIDs(ctx context.Context, phones []string) (map[string]int64, error)
	PutContact(ctx context.Context, phone string, contactID int64) error
	ForgetContact(ctx context.Context, contactID int64) error
}

// ElementCache is the SKU → amoCRM catalog element cache, per catalog.
type ElementCache interface {
	// ElementIDs looks SKUs of a catalog up in the element cache.
	ElementIDs(ctx context.Context, catalogID int64, skus []string) (map[string]int64, error)
	PutElement(ctx context.Context, catalogID int64, sku string, elementID int64) error
	ForgetElement(ctx context.Context, catalogID, elementID int64) error
}

// StatusMaps reads the status_mapping table shared with the PHP version.
type StatusMaps interface {
	// ActiveStatusMappings returns kaspi value → amoCRM status id from the
	// active status_mapping rows of a pipeline.
	ActiveStatusMappings(ctx context.Context, pipelineID int64) (map[string]int64, error)
}

// RunLog is the log of task runs the status page shows.
type RunLog interface {
	// StartRun and FinishRun keep the run log.
	StartRun(ctx context.Context, task string, now time.Time) (int64, error)
	FinishRun(ctx context.Context, id int64, ok bool, summary string, now time.Time) error
	// FinishRunResult records how a run ended.
	FinishRunResult(ctx context.Context, id int64, end RunEnd, now time.Time) error
}

// Deal is a deal the integration created (or adopted): which order, which
// lead, when.
type Deal struct {
	Code      string
	LeadID    int64
	CreatedAt time.Time
}
