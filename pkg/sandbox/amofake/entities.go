package amofake

import (
	"errors"
	"sort"
	"time"
)

// Lead is a stored deal as the inspection API shows it.
type Lead struct {
	ID                int64
	Name              string
	Price             int64
	PipelineID        int64
	StatusID          int64
	ResponsibleUserID int64
	LossReasonID      int64
	Tags              []string
	Fields            []Field
	ContactIDs        []int64 // the main contact first
	CreatedAt         int64
	UpdatedAt         int64
	ClosedAt          int64
}

// MainContactID is the lead's main contact (0 when none).
func (l Lead) MainContactID() int64 {
	if len(l.ContactIDs) == 0 {
		return 0
	}
	return l.ContactIDs[0]
}

// Contact is a stored contact.
type Contact struct {
	ID                int64
	Name              string
	FirstName         string
	LastName          string
	ResponsibleUserID int64
	Tags              []string
	Fields            []Field
	CreatedAt         int64
	UpdatedAt         int64
}

// Phones returns the PHONE values as stored.
func (c Contact) Phones() []string {
	var out []string
	for _, f := range c.Fields {
		if f.Code == "PHONE" {
			for _, it := range f.Values {
				if s, ok := it.Value.(string); ok {
					out = append(out, s)
				}
			}
		}
	}
	return out
}

// Element is a stored catalog element.
type Element struct {
	ID        int64
	CatalogID int64
	Name      string
	Fields    []Field
	CreatedAt int64
}

// SKU is the element's SKU field value.
func (e Element) SKU() string { return FieldTextByCode(e.Fields, "SKU") }

// Price is the element's PRICE field value as stored (a decimal string).
func (e Element) Price() string { return FieldTextByCode(e.Fields, "PRICE") }

// Link ties a lead to a catalog element (or to a contact).
type Link struct {
	LeadID       int64
	ToEntityID   int64
	ToEntityType string // catalog_elements, contacts
	CatalogID    int64
	Quantity     float64
	PriceID      int64
}

// Note is a stored lead note.
type Note struct {
	ID        int64
	LeadID    int64
	NoteType  string
	Text      string
	Params    map[string]any
	CreatedAt int64
}

// Internal records: the snapshot types plus bookkeeping.
type lead struct {
	Lead
	createdBy, updatedBy int64
	deleted              bool
	indexedAt            time.Time // searchable by query from then on
}

type contact struct {
	Contact
	createdBy, updatedBy int64
	deleted              bool
	indexedAt            time.Time
}

type element struct {
	Element
	deleted   bool
	indexedAt time.Time
}

// searchable reports whether an entity indexed at t shows in query
// results. Caller holds mu.
func (s *Server) searchable(t time.Time, query string) bool {
	return query == "" || !s.now().Before(t)
}

type link struct{ Link }

type note struct {
	Note
	createdBy int64
}

// ErrUnknown is returned by the manager actions for an id the fake does
// not hold (or already deleted).
var ErrUnknown = errors.New("amofake: unknown entity")

func (l *lead) snapshot() Lead {
	c := l.Lead
	c.Tags = append([]string(nil), l.Tags...)
	c.Fields = copyFields(l.Fields)
	c.ContactIDs = append([]int64(nil), l.ContactIDs...)
	return c
}

func (c *contact) snapshot() Contact {
	out := c.Contact
	out.Tags = append([]string(nil), c.Tags...)
	out.Fields = copyFields(c.Fields)
	return out
}

func (e *element) snapshot() Element {
	out := e.Element
	out.Fields = copyFields(e.Fields)
	return out
}

// Leads returns the live (not deleted) leads by id.
func (s *Server) Leads() []Lead {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Lead
	for _, id := range sortedKeys(s.leads) {
		if l := s.leads[id]; !l.deleted {
			out = append(out, l.snapshot())
		}
	}
	return out
}

// Lead returns one live lead.
func (s *Server) Lead(id int64) (Lead, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leads[id]
	if !ok || l.deleted {
		return Lead{}, false
	}
	return l.snapshot(), true
}

// Contacts returns the live contacts by id.
func (s *Server) Contacts() []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Contact
	for _, id := range sortedKeys(s.contacts) {
		if c := s.contacts[id]; !c.deleted {
			out = append(out, c.snapshot())
		}
	}
	return out
}

// Elements returns the live elements of every catalog by id.
func (s *Server) Elements() []Element {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Element
	for _, id := range sortedKeys(s.elements) {
		if e := s.elements[id]; !e.deleted {
			out = append(out, e.snapshot())
		}
	}
	return out
}

// Links returns every link of live leads, in creation order.
func (s *Server) Links() []Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Link
	for _, l := range s.links {
		if ld, ok := s.leads[l.LeadID]; ok && !ld.deleted {
			out = append(out, l.Link)
		}
	}
	return out
}

// Notes returns every note of live leads by id.
func (s *Server) Notes() []Note {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Note
	for _, id := range sortedKeys(s.notes) {
		n := s.notes[id]
		if ld, ok := s.leads[n.LeadID]; ok && !ld.deleted {
			out = append(out, n.Note)
		}
	}
	return out
}

func sortedKeys[V any](m map[int64]V) []int64 {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	return keys
}

// AddContact stores a contact the way a manager would type it (a decoy
// or a returning customer) and returns its id. Phones are kept verbatim.
func (s *Server) AddContact(name string, phones ...string) int64 {
	return s.AddContactFields(name, phones, nil)
}

// AddContactFields is AddContact with more field values by field id
// (text values; the address field, EMAIL, POSITION).
func (s *Server) AddContactFields(name string, phones []string, extra map[int64]string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().Unix()
	c := &contact{Contact: Contact{ID: s.newID(), Name: name, ResponsibleUserID: UserID, CreatedAt: now, UpdatedAt: now}}
	if len(phones) > 0 {
		def := s.fieldByCode("contacts", "PHONE")
		f := Field{ID: def.ID, Code: def.Code, Name: def.Name, Type: def.Type}
		for _, p := range phones {
			f.Values = append(f.Values, FieldItem{Value: p, EnumID: def.Enums[2].ID, EnumCode: def.Enums[2].Value})
		}
		c.Fields = append(c.Fields, f)
	}
	for _, id := range sortedKeys(extra) {
		def := s.fieldByID("contacts", id)
		if def == nil {
			continue
		}
		it := FieldItem{Value: extra[id]}
		if def.Type == "multitext" {
			it.EnumID, it.EnumCode = def.Enums[0].ID, def.Enums[0].Value
		}
		c.Fields = append(c.Fields, Field{ID: def.ID, Code: def.Code, Name: def.Name, Type: def.Type, Values: []FieldItem{it}})
	}
	s.contacts[c.ID] = c
	return c.ID
}

// AddElement stores a catalog element with SKU and PRICE (a product a
// manager added by hand) and returns its id.
func (s *Server) AddElement(catalogID int64, name, sku, price string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.catalog(catalogID) == nil {
		return 0, ErrUnknown
	}
	key := catalogKey(catalogID)
	e := &element{Element: Element{ID: s.newID(), CatalogID: catalogID, Name: name, CreatedAt: s.now().Unix()}}
	for code, val := range map[string]string{"SKU": sku, "PRICE": price} {
		if def := s.fieldByCode(key, code); def != nil && val != "" {
			e.Fields = append(e.Fields, Field{ID: def.ID, Code: def.Code, Name: def.Name, Type: def.Type, Values: []FieldItem{{Value: val}}})
		}
	}
	sort.Slice(e.Fields, func(i, j int) bool { return e.Fields[i].ID < e.Fields[j].ID })
	s.elements[e.ID] = e
	return e.ID, nil
}

// AddLead stores a lead as given (ID, CreatedAt and UpdatedAt are set
// here; a zero pipeline/status puts it in the first stage of the main
// pipeline). No validation: this is a manager's or another tool's lead.
func (s *Server) AddLead(l Lead) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().Unix()
	l.ID = s.newID()
	l.CreatedAt, l.UpdatedAt = now, now
	if l.PipelineID == 0 {
		l.PipelineID = PipelineID
	}
	if l.StatusID == 0 {
		l.StatusID = s.firstStatus(l.PipelineID)
	}
	if l.ResponsibleUserID == 0 {
		l.ResponsibleUserID = UserID
	}
	s.leads[l.ID] = &lead{Lead: l}
	return l.ID
}

// DeleteLead deletes a lead as a manager would.
func (s *Server) DeleteLead(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leads[id]
	if !ok || l.deleted {
		return ErrUnknown
	}
	l.deleted = true
	return nil
}

// DeleteContact deletes a contact; it also leaves the leads it was on.
func (s *Server) DeleteContact(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[id]
	if !ok || c.deleted {
		return ErrUnknown
	}
	c.deleted = true
	for _, l := range s.leads {
		l.ContactIDs = removeID(l.ContactIDs, id)
	}
	return nil
}

// DeleteElement deletes a catalog element; its links go with it.
func (s *Server) DeleteElement(id int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.elements[id]
	if !ok || e.deleted {
		return ErrUnknown
	}
	e.deleted = true
	kept := s.links[:0]
	for _, l := range s.links {
		if !(l.ToEntityType == "catalog_elements" && l.ToEntityID == id) {
			kept = append(kept, l)
		}
	}
	s.links = kept
	return nil
}

// MoveLead moves a lead to another stage by hand, as a manager in the UI.
func (s *Server) MoveLead(id, pipelineID, statusID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leads[id]
	if !ok || l.deleted || !s.statusInPipeline(pipelineID, statusID) {
		return ErrUnknown
	}
	l.PipelineID, l.StatusID = pipelineID, statusID
	l.UpdatedAt = s.now().Unix()
	l.updatedBy = UserID
	if statusID == StatusWon || statusID == StatusLost {
		l.ClosedAt = l.UpdatedAt
	}
	return nil
}

// SetLeadField writes a text value into a lead's custom field by hand, as
// a manager typing it ("" clears it).
func (s *Server) SetLeadField(id, fieldID int64, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leads[id]
	def := s.fieldByID("leads", fieldID)
	if !ok || l.deleted || def == nil {
		return ErrUnknown
	}
	kept := l.Fields[:0]
	for _, f := range l.Fields {
		if f.ID != fieldID {
			kept = append(kept, f)
		}
	}
	l.Fields = kept
	if value != "" {
		l.Fields = append(l.Fields, Field{ID: def.ID, Code: def.Code, Name: def.Name, Type: def.Type, Values: []FieldItem{{Value: value}}})
	}
	l.UpdatedAt = s.now().Unix()
	l.updatedBy = UserID
	return nil
}

// SetLossReason sets a lead's loss reason by hand, as a manager closing
// it as lost does.
func (s *Server) SetLossReason(id, reasonID int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leads[id]
	if _, known := s.lossReasons[reasonID]; !ok || l.deleted || !known {
		return ErrUnknown
	}
	l.LossReasonID = reasonID
	l.UpdatedAt = s.now().Unix()
	return nil
}

func removeID(ids []int64, id int64) []int64 {
	out := ids[:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}

// SetPaymentRequired switches the account into "not paid": every API call
// answers 402.
func (s *Server) SetPaymentRequired(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unpaid = on
}

// Ban blocks the account for d (every request answers 403 HTML).
func (s *Server) Ban(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bannedTill = s.now().Add(d)
}

// Unban lifts a ban (what support does after a chat).
func (s *Server) Unban() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bannedTill = time.Time{}
	s.recent429 = nil
}

// Banned reports whether the account is blocked now.
func (s *Server) Banned() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now().Before(s.bannedTill)
}

// Requests returns the request log.
func (s *Server) Requests() []RequestLog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]RequestLog(nil), s.log...)
}

// RequestCount counts the logged requests (oauth included).
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.log)
}

// Count429 counts the 429 answers given (rate limit and injected).
func (s *Server) Count429() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count429
}

// MaxPerSecond is the most requests that arrived within any one-second
// window (every request counts, refused ones too).
func (s *Server) MaxPerSecond() int {
	s.mu.Lock()
	times := make([]time.Time, len(s.log))
	for i, e := range s.log {
		times[i] = e.Time
	}
	s.mu.Unlock()
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	best, j := 0, 0
	for i := range times {
		for times[i].Sub(times[j]) >= time.Second {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// ResetStats clears the request log and the 429 count (entities stay).
func (s *Server) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = nil
	s.count429 = 0
	s.recent429 = nil
	s.window = nil
}
