package amofake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

var (
	contactKeys = keySet("name", "first_name", "last_name", "responsible_user_id", "created_by",
		"updated_by", "created_at", "updated_at", "custom_fields_values", "tags_to_add", "_embedded", "request_id")
	contactUpdateKeys = keySet("id", "name", "first_name", "last_name", "responsible_user_id", "created_by",
		"updated_by", "created_at", "updated_at", "custom_fields_values", "tags_to_add", "tags_to_delete",
		"_embedded", "request_id")
	contactEmbeddedKeys = keySet("tags", "companies")
)

func jsonNumber(n int64) json.Number { return json.Number(strconv.FormatInt(n, 10)) }

type contactChange struct {
	ownedChange
	name, first, last *string
}

// checkContact validates one contact item. Caller holds mu.
func (s *Server) checkContact(it *item, update bool) contactChange {
	c := &it.chk
	o := it.obj
	var ch contactChange
	if update {
		checkKeys(o, contactUpdateKeys, "", c)
	} else {
		checkKeys(o, contactKeys, "", c)
	}
	for key, dst := range map[string]**string{"name": &ch.name, "first_name": &ch.first, "last_name": &ch.last} {
		if v, ok := optString(o, key, maxNameLen, c); ok {
			*dst = &v
		}
	}
	ch.ownedChange = s.checkOwned(o, "contacts", c)
	if raw, has := o["_embedded"]; has {
		emb, ok := raw.(map[string]any)
		if !ok {
			c.add(codeInvalidType, "_embedded")
			return ch
		}
		checkKeys(emb, contactEmbeddedKeys, "_embedded.", c)
		s.checkEmbeddedTags(emb, &ch.ownedChange, c)
		if rawCompanies, has := emb["companies"]; has {
			if arr, ok := rawCompanies.([]any); ok {
				for i := range arr {
					c.add(codeNotSupported, fmt.Sprintf("_embedded.companies.%d.id", i))
				}
			} else {
				c.add(codeInvalidType, "_embedded.companies")
			}
		}
	}
	return ch
}

func (s *Server) applyContact(ct *contact, ch contactChange) {
	if ch.first != nil {
		ct.FirstName = *ch.first
	}
	if ch.last != nil {
		ct.LastName = *ch.last
	}
	if ch.name != nil {
		ct.Name = *ch.name
	} else if ch.first != nil || ch.last != nil {
		ct.Name = strings.TrimSpace(ct.FirstName + " " + ct.LastName)
	}
	s.applyOwned(ch.ownedChange, ownedFields{
		resp: &ct.ResponsibleUserID, createdBy: &ct.createdBy, updatedBy: &ct.updatedBy,
		createdAt: &ct.CreatedAt, updatedAt: &ct.UpdatedAt, fields: &ct.Fields, tags: &ct.Tags,
	})
}

func (s *Server) createContacts(w http.ResponseWriter, r *http.Request) {
	items, ok := readBatch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changes := make([]contactChange, len(items))
	for i, it := range items {
		changes[i] = s.checkContact(it, false)
	}
	if rejectInvalid(w, items) {
		return
	}
	now := s.now().Unix()
	out := make([]any, len(items))
	for i, it := range items {
		ct := &contact{Contact: Contact{ID: s.newID(), ResponsibleUserID: UserID, CreatedAt: now}, indexedAt: s.now().Add(s.opts.SearchLag)}
		s.applyContact(ct, changes[i])
		s.contacts[ct.ID] = ct
		out[i] = map[string]any{
			"id": ct.ID, "request_id": it.reqID,
			"_links": map[string]any{"self": href(r, fmt.Sprintf("/api/v4/contacts/%d", ct.ID))},
		}
	}
	writeSaved(w, r, "/api/v4/contacts", "contacts", out)
}

func (s *Server) patchContacts(w http.ResponseWriter, r *http.Request, single int64) {
	patchEntities(s, w, r, single, patchSpec[*contact, contactChange]{
		entity: "contacts", notFound: "Contact not found",
		live: func(id int64) (*contact, bool) {
			ct := s.contacts[id]
			return ct, ct != nil && !ct.deleted
		},
		check: func(it *item, _ *contact) contactChange { return s.checkContact(it, true) },
		apply: func(ct *contact, ch contactChange) (int64, int64) {
			s.applyContact(ct, ch)
			return ct.ID, ct.UpdatedAt
		},
	})
}

func (s *Server) renderContact(r *http.Request, ct *contact, with map[string]bool) map[string]any {
	tags := make([]any, 0, len(ct.Tags))
	for _, t := range ct.Tags {
		tags = append(tags, map[string]any{"id": s.tags[t], "name": t, "color": nil})
	}
	emb := map[string]any{"tags": tags, "companies": []any{}}
	if with["leads"] {
		ls := []any{}
		for _, id := range sortedKeys(s.leads) {
			l := s.leads[id]
			if !l.deleted && containsID(l.ContactIDs, ct.ID) {
				ls = append(ls, map[string]any{"id": id,
					"_links": map[string]any{"self": href(r, fmt.Sprintf("/api/v4/leads/%d", id))}})
			}
		}
		emb["leads"] = ls
	}
	return map[string]any{
		"id": ct.ID, "name": ct.Name, "first_name": ct.FirstName, "last_name": ct.LastName,
		"responsible_user_id": ct.ResponsibleUserID, "group_id": 0, "created_by": ct.createdBy,
		"updated_by": ct.updatedBy, "created_at": ct.CreatedAt, "updated_at": ct.UpdatedAt,
		"closest_task_at": nil, "is_deleted": false, "is_unsorted": false,
		"custom_fields_values": renderFields(ct.Fields), "account_id": AccountID,
		"_links":    map[string]any{"self": href(r, fmt.Sprintf("/api/v4/contacts/%d", ct.ID))},
		"_embedded": emb,
	}
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// listContacts is GET /api/v4/contacts: query over every filled field
// (names, phones, e-mails, custom fields), filter[id][];
// filter[updated_at] and order[...] as Options.ListFilters says; other
// filters are ignored.
func (s *Server) listContacts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ids, byID := idFilter(q)
	with := withSet(q)
	s.mu.Lock()
	defer s.mu.Unlock()
	from, to, byUpdated := updatedRange(q.Get)
	byUpdated = byUpdated && s.opts.ListFilters == FiltersHonoured
	var items []any
	for _, id := range s.listOrder(q.Get, sortedKeys(s.contacts)) {
		ct := s.contacts[id]
		if ct.deleted || (byID && !ids[id]) || (byUpdated && (ct.UpdatedAt < from || ct.UpdatedAt > to)) {
			continue
		}
		if !s.searchable(ct.indexedAt, q.Get("query")) || !matchQuery(q.Get("query"), []string{ct.Name, ct.FirstName, ct.LastName}, ct.Fields) {
			continue
		}
		items = append(items, s.renderContact(r, ct, with))
	}
	writeList(w, r, "contacts", items, parsePage(q, 250))
}

func (s *Server) getContact(w http.ResponseWriter, r *http.Request, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ct, ok := s.contacts[id]
	if !ok || ct.deleted {
		noContent(w)
		return
	}
	writeJSON(w, http.StatusOK, s.renderContact(r, ct, withSet(r.URL.Query())))
}
