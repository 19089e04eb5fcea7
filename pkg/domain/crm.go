package domain

import "context"

// FieldItem is one value of an amoCRM custom field. Value is a string,
// int64, float64 or bool; EnumCode is set for multitext fields (PHONE: MOB).
type FieldItem struct {
	Value    any    `json:"value"`
	EnumCode string `json:"enum_code,omitempty"`
}

// FieldValue is a custom field value as written to or read from amoCRM.
// Exactly one of FieldID and FieldCode identifies the field when writing.
type FieldValue struct {
	FieldID   int64
	FieldCode string
	FieldType string // as read back (text, date, date_time, multitext, price, ...)
	Values    []FieldItem
}

// FieldDef is a custom field definition (GET /{entity}/custom_fields).
type FieldDef struct {
	ID         int64
	Name       string
	Code       string
	Type       string
	EntityType string
}

// Contact is an amoCRM contact. Phones are the PHONE values as stored
// (people type them freely: "8 (701) 123-45-67").
type Contact struct {
	ID        int64
	RequestID string
	Name      string
	FirstName string
	LastName  string
	Phones    []string
	Fields    []FieldValue // extra fields to write on create (address)
}

// Element is a catalog element (a product).
type Element struct {
	ID        int64
	RequestID string
	CatalogID int64
	Name      string
	SKU       string
	Price     float64
}

// Lead is an amoCRM deal. Zero ids are left out of requests, never sent as null.
type Lead struct {
	ID                int64
	RequestID         string
	Name              string
	Price             int64
	PipelineID        int64
	StatusID          int64
	ResponsibleUserID int64
	Tags              []string
	Fields            []FieldValue
	ContactID         int64 // main contact; 0 = none
	IsDeleted         bool
	CreatedAt         int64  // unix seconds, as read back (never sent)
	UpdatedAt         int64  // unix seconds, as read back (never sent)
	LossReason        string // the loss reason's name, when read with it
}

// LeadUpdate is one item of a batched PATCH /api/v4/leads. StatusID is sent
// together with PipelineID (mandatory for 142/143). Price nil = unchanged.
type LeadUpdate struct {
	ID         int64
	PipelineID int64
	StatusID   int64
	Price      *int64
	// Fields are custom field values to write; a field with no Values is
	// cleared.
	Fields []FieldValue
}

// Link ties a catalog element to a lead with a quantity.
type Link struct {
	LeadID    int64
	ElementID int64
	CatalogID int64
	Quantity  float64
}

// Note is a common (text) note on a lead.
type Note struct {
	ID        int64
	LeadID    int64
	RequestID string
	Text      string
}

// Well-known amoCRM status ids shared by every pipeline.
const (
	StatusWon  int64 = 142
	StatusLost int64 = 143
)

// MaxBatch is the most items the sync puts in one amoCRM batch call.
const MaxBatch = 50

// CRM is what the sync engine needs from amoCRM. Every method paces itself
// under the shared rate limit. Errors unwrap to the kinds in errors.go:
// ErrTransient on a create means the outcome is unknown; *ValidationError
// names the rejected items by RequestID (nothing of that batch is assumed
// created). Batch methods take at most MaxBatch items.
type CRM interface {
	// SearchContacts returns the contacts whose fields contain query (one
	// full page). No match is an empty slice and a nil error.
	SearchContacts(ctx context.Context, query string) ([]Contact, error)
	// CreateContacts creates contacts and returns them with ID set, matched
	// to the input by RequestID.
	CreateContacts(ctx context.Context, contacts []Contact) ([]Contact, error)

	// SearchElements searches a catalog (fuzzy); callers compare SKU exactly.
	SearchElements(ctx context.Context, catalogID int64, query string) ([]Element, error)
	// CreateElements creates catalog elements (name, SKU, PRICE) and returns
	// them with ID set, matched by RequestID.
	CreateElements(ctx context.Context, catalogID int64, elements []Element) ([]Element, error)

	// SearchLeads full-text searches leads (one full page).
	SearchLeads(ctx context.Context, query string) ([]Lead, error)
	// GetLeads returns the leads with these ids that still exist; a deleted
	// or unknown id is simply absent from the result.
	GetLeads(ctx context.Context, ids []int64) ([]Lead, error)
	// LeadsCreatedPage reads one page (1-based, up to 250 leads of every
	// pipeline, fields included) of the account's leads: with filter, those
	// created in [fromSec, toSec] (filter[created_at]; an account outside
	// the filters alpha ignores it and returns everything, so callers
	// post-filter); without, every lead newest first
	// (order[created_at]=desc). more says whether a next page exists.
	LeadsCreatedPage(ctx context.Context, fromSec, toSec int64, filter bool, page int) (leads []Lead, more bool, err error)
	// LeadsInStagesPage reads one page (1-based, up to 250 leads, fields
	// and loss reason included). With filter: the leads in stages (pairs
	// of pipeline and status, of one or several pipelines) updated at or
	// after fromSec, oldest change first (filter[statuses],
	// filter[updated_at][from], order[updated_at]=asc);
	// an account outside the filters alpha ignores the filters, so callers
	// post-filter. Without: every lead of the account, latest change first
	// (order[updated_at]=desc), to be read down to fromSec.
	LeadsInStagesPage(ctx context.Context, stages []StageRef, fromSec int64, filter bool, page int) (leads []Lead, more bool, err error)
	// CreateLeads creates leads and returns them with ID set, matched by RequestID.
	CreateLeads(ctx context.Context, leads []Lead) ([]Lead, error)
	// UpdateLeads applies a batch of status/price changes.
	UpdateLeads(ctx context.Context, updates []LeadUpdate) error

	// LinkElements links catalog elements to leads in one bulk call.
	LinkElements(ctx context.Context, links []Link) error
	// LeadLinks lists the catalog elements linked to a lead.
	LeadLinks(ctx context.Context, leadID int64) ([]Link, error)

	// AddNotes adds common notes in one bulk call.
	AddNotes(ctx context.Context, notes []Note) error
	// LeadNotes lists a lead's notes.
	LeadNotes(ctx context.Context, leadID int64) ([]Note, error)

	// CustomFields lists the field definitions of "leads", "contacts" or
	// "catalogs/{id}" (every page).
	CustomFields(ctx context.Context, entity string) ([]FieldDef, error)
}

// OrderSource is what the sync engine needs from Kaspi.
type OrderSource interface {
	// ListOrders calls fn for every order in state created in [fromMs, toMs]
	// (epoch ms), in no particular order, reading every page and splitting
	// the range into windows of at most 14 days. Lines are loaded.
	ListOrders(ctx context.Context, state string, fromMs, toMs int64, fn func(Order) error) error
	// OrderByCode looks one order up by its code, with lines. Unknown code:
	// ErrNotFound.
	OrderByCode(ctx context.Context, code string) (Order, error)
}
