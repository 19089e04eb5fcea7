package amofake

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// ListFilters is what GET /api/v4/contacts makes of filter[updated_at] and
// order[...]. The filters API is alpha and enabled only for some accounts;
// elsewhere an unsupported filter is silently ignored and every contact
// comes back (amocrm-api-php #348; the API reference, §4 and §5.1).
// Sorting (order[id], order[updated_at]) is part of the documented list
// method, but an account where it is not honoured either is served too.
type ListFilters int

const (
	// FiltersIgnored (the default): filter[updated_at] is ignored, as on an
	// account outside the filters alpha; order[...] is honoured.
	FiltersIgnored ListFilters = iota
	// FiltersHonoured: filter[updated_at][from|to] and order[...] are
	// honoured (an account in the filters alpha).
	FiltersHonoured
	// OrderIgnored: both are ignored; lists come by id.
	OrderIgnored
)

// String names the behaviour.
func (f ListFilters) String() string {
	switch f {
	case FiltersHonoured:
		return "filters honoured"
	case OrderIgnored:
		return "filters and order ignored"
	}
	return "filters ignored, order honoured"
}

// SetListFilters changes what the contact listing honours.
func (s *Server) SetListFilters(f ListFilters) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.ListFilters = f
}

// EditContactPhones replaces a contact's PHONE values (as a manager types
// them) and stamps updated_at, as an edit in the interface does.
func (s *Server) EditContactPhones(id int64, phones ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[id]
	if !ok || c.deleted {
		return ErrUnknown
	}
	def := s.fieldByCode("contacts", "PHONE")
	var fields []Field
	for _, f := range c.Fields {
		if f.ID != def.ID {
			fields = append(fields, f)
		}
	}
	if len(phones) > 0 {
		f := Field{ID: def.ID, Code: def.Code, Name: def.Name, Type: def.Type}
		for _, p := range phones {
			f.Values = append(f.Values, FieldItem{Value: p, EnumID: def.Enums[2].ID, EnumCode: def.Enums[2].Value})
		}
		fields = append([]Field{f}, fields...)
	}
	c.Fields = fields
	c.UpdatedAt = s.now().Unix()
	c.indexedAt = time.Time{}
	return nil
}

// updatedRange reads filter[updated_at][from] and [to] (Unix seconds);
// a bound absent or unreadable is open.
func updatedRange(get func(string) string) (from, to int64, ok bool) {
	to = 1<<63 - 1
	if v := get("filter[updated_at][from]"); v != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			from, ok = n, true
		}
	}
	if v := get("filter[updated_at][to]"); v != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			to, ok = n, true
		}
	}
	return from, to, ok
}

// listOrder sorts contact ids as order[updated_at] or order[id] asks
// (asc or desc; ties by id), unless the account ignores it. Caller holds mu.
func (s *Server) listOrder(get func(string) string, ids []int64) []int64 {
	if s.opts.ListFilters == OrderIgnored {
		return ids
	}
	byUpdated, dir := false, ""
	if d := get("order[updated_at]"); d != "" {
		byUpdated, dir = true, d
	} else if d := get("order[id]"); d != "" {
		dir = d
	}
	desc := strings.EqualFold(dir, "desc")
	if dir == "" {
		return ids
	}
	out := slices.Clone(ids)
	slices.SortStableFunc(out, func(a, b int64) int {
		x, y := a, b
		if byUpdated {
			x, y = s.contacts[a].UpdatedAt, s.contacts[b].UpdatedAt
			if x == y {
				x, y = a, b
			}
		}
		if desc {
			x, y = y, x
		}
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	})
	return out
}
