package amofake

import (
	"fmt"
	"net/http"
	"strings"
)

var (
	elementKeys       = keySet("name", "custom_fields_values", "request_id", "created_by", "updated_by", "created_at", "updated_at")
	elementUpdateKeys = keySet("id", "name", "custom_fields_values", "request_id", "created_by", "updated_by", "created_at", "updated_at")
)

type elementChange struct {
	name   *string
	fields []fieldChange
}

// checkElement validates one element item of catalog cid. Caller holds mu.
func (s *Server) checkElement(it *item, cid int64, update bool) elementChange {
	c := &it.chk
	o := it.obj
	var ch elementChange
	if update {
		checkKeys(o, elementUpdateKeys, "", c)
	} else {
		checkKeys(o, elementKeys, "", c)
	}
	if name, ok := optString(o, "name", maxNameLen, c); ok {
		if strings.TrimSpace(name) == "" {
			c.add(codeNotBlank, "name")
		} else {
			ch.name = &name
		}
	} else if _, has := o["name"]; !has && !update {
		c.add(codeNotBlank, "name")
	}
	for _, key := range []string{"created_by", "updated_by"} {
		if n, ok := optInt(o, key, c); ok && n != 0 && !s.userKnown(n) {
			c.add(codeNotSupported, key)
		}
	}
	for _, key := range []string{"created_at", "updated_at"} {
		optInt(o, key, c)
	}
	ch.fields = s.parseFields(catalogKey(cid), o["custom_fields_values"], c)
	return ch
}

func (s *Server) renderElement(r *http.Request, e *element, reqID string) map[string]any {
	m := map[string]any{
		"id": e.ID, "name": e.Name, "created_by": 0, "updated_by": 0,
		"created_at": e.CreatedAt, "updated_at": e.CreatedAt, "is_deleted": nil,
		"custom_fields_values": renderFields(e.Fields), "catalog_id": e.CatalogID, "account_id": AccountID,
		"_links": map[string]any{"self": href(r, fmt.Sprintf("/api/v4/catalogs/%d/elements/%d", e.CatalogID, e.ID))},
	}
	if reqID != "" {
		m["request_id"] = reqID
	}
	return m
}

func (s *Server) createElements(w http.ResponseWriter, r *http.Request, cid int64) {
	items, ok := readBatch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changes := make([]elementChange, len(items))
	for i, it := range items {
		changes[i] = s.checkElement(it, cid, false)
	}
	if rejectInvalid(w, items) {
		return
	}
	now := s.now().Unix()
	out := make([]any, len(items))
	for i, it := range items {
		e := &element{Element: Element{ID: s.newID(), CatalogID: cid, Name: *changes[i].name, CreatedAt: now}, indexedAt: s.now().Add(s.opts.SearchLag)}
		e.Fields = applyFields(nil, changes[i].fields)
		s.elements[e.ID] = e
		out[i] = s.renderElement(r, e, it.reqID)
	}
	writeSaved(w, r, fmt.Sprintf("/api/v4/catalogs/%d/elements", cid), "elements", out)
}

func (s *Server) patchElements(w http.ResponseWriter, r *http.Request, cid int64) {
	items, ok := readBatch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	targets := make([]*element, len(items))
	changes := make([]elementChange, len(items))
	for i, it := range items {
		rawID, has := it.obj["id"]
		id, ok := asInt(rawID)
		e := s.elements[id]
		switch {
		case !has:
			it.chk.add(codeNotBlank, "id")
		case !ok || e == nil || e.deleted || e.CatalogID != cid:
			it.chk.add(codeNotSupported, "id")
		}
		targets[i] = e
		changes[i] = s.checkElement(it, cid, true)
	}
	if rejectInvalid(w, items) {
		return
	}
	out := make([]any, len(items))
	for i, it := range items {
		e := targets[i]
		if changes[i].name != nil {
			e.Name = *changes[i].name
		}
		e.Fields = applyFields(e.Fields, changes[i].fields)
		out[i] = s.renderElement(r, e, it.reqID)
	}
	writeSaved(w, r, fmt.Sprintf("/api/v4/catalogs/%d/elements", cid), "elements", out)
}

// listElements is GET /api/v4/catalogs/{id}/elements (query over name and
// field values, filter[id][]; the library's bare id[] is ignored) or, with
// eid, one element (204 when missing).
func (s *Server) listElements(w http.ResponseWriter, r *http.Request, cid, eid int64) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	if eid != 0 {
		e, ok := s.elements[eid]
		if !ok || e.deleted || e.CatalogID != cid {
			noContent(w)
			return
		}
		writeJSON(w, http.StatusOK, s.renderElement(r, e, ""))
		return
	}
	ids, byID := idFilter(q)
	var items []any
	for _, id := range sortedKeys(s.elements) {
		e := s.elements[id]
		if e.deleted || e.CatalogID != cid || (byID && !ids[id]) {
			continue
		}
		if !s.searchable(e.indexedAt, q.Get("query")) || !matchQuery(q.Get("query"), []string{e.Name}, e.Fields) {
			continue
		}
		items = append(items, s.renderElement(r, e, ""))
	}
	writeList(w, r, "elements", items, parsePage(q, 250))
}
