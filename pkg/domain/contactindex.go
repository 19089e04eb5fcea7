package domain

import "context"

// ContactQuery is one page of the contact listing (GET /api/v4/contacts
// without a query): the phone index is built and kept fresh from it.
type ContactQuery struct {
	Page int // 1-based
	// UpdatedFrom sends filter[updated_at][from] (Unix seconds; 0: none).
	// amoCRM's filters are alpha: an account outside it ignores the filter
	// and lists every contact, so the caller checks what comes back.
	UpdatedFrom int64
	// OrderByUpdated sends order[updated_at]=desc instead of order[id]=asc.
	OrderByUpdated bool
}

// ListedContact is a contact as the phone index keeps it: its id, when it
// was last changed (Unix seconds, amoCRM's clock) and its PHONE values as
// typed.
type ListedContact struct {
	ID        int64
	UpdatedAt int64
	Phones    []string
}

// ContactPage is one page of the listing; More is false on the last page
// (no _links.next, or 204).
type ContactPage struct {
	Contacts []ListedContact
	More     bool
}

// ContactLister is implemented by CRM clients that can list contacts page
// by page.
type ContactLister interface {
	ListContacts(ctx context.Context, q ContactQuery) (ContactPage, error)
}

// Contact index modes: how the account's changed contacts are found.
const (
	IndexModeFilter   = "filter"    // filter[updated_at][from] is honoured
	IndexModeOrder    = "order"     // the filter is ignored, order[updated_at]=desc is honoured
	IndexModeSearch   = "search"    // neither: one search per new phone, as without an index
	IndexModeTooLarge = "too_large" // more contacts than AMO_CONTACT_INDEX_MAX: search per phone
)

// ContactIndexState is where the phone index stands. While Complete is
// false the index is being built: NextPage is the next page of the
// listing (order[id]=asc) to read. Watermark is the newest updated_at
// the index has caught up with (amoCRM's clock, Unix seconds).
type ContactIndexState struct {
	Mode      string `json:"mode,omitempty"`
	Complete  bool   `json:"complete"`
	NextPage  int    `json:"next_page,omitempty"`
	Watermark int64  `json:"watermark,omitempty"`
	Contacts  int    `json:"contacts,omitempty"` // contacts read by the build
	// CheckedAt is when (our clock, Unix seconds) the mode was last
	// decided: an account in search or too_large mode is looked at again
	// after a while.
	CheckedAt int64 `json:"checked_at,omitempty"`
}

// IndexedContact is one contact's phones in E.164, as the index keeps
// them.
type IndexedContact struct {
	ID     int64
	Phones []string
}

// ContactIndex is the local phone index (E.164 → contact ids), kept next
// to the contact cache.
type ContactIndex interface {
	// IndexedContactIDs returns, per phone, the lowest contact id indexed
	// with it.
	IndexedContactIDs(ctx context.Context, phones []string) (map[string]int64, error)
	// IndexContacts replaces the indexed phones of these contacts, drops
	// contact cache rows of theirs for phones they no longer have, and
	// saves st, all in one transaction.
	IndexContacts(ctx context.Context, contacts []IndexedContact, st ContactIndexState) error
	// ClearContactIndex empties the index and saves st.
	ClearContactIndex(ctx context.Context, st ContactIndexState) error
	// ContactIndexState reads the index state (zero when never built).
	ContactIndexState(ctx context.Context) (ContactIndexState, error)
	SetContactIndexState(ctx context.Context, st ContactIndexState) error
}
