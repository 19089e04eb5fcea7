package amofake

import (
	"fmt"
	"net/http"
	"strconv"
)

var (
	bulkLinkKeys      = keySet("entity_id", "entity_type", "to_entity_id", "to_entity_type", "metadata", "request_id")
	leadLinkKeys      = keySet("to_entity_id", "to_entity_type", "metadata", "request_id")
	elementMetaKeys   = keySet("catalog_id", "quantity", "price_id", "updated_by")
	contactMetaKeys   = keySet("is_main", "updated_by")
	noteKeys          = keySet("entity_id", "note_type", "params", "created_by", "responsible_user_id", "created_at", "updated_at", "request_id", "is_need_to_trigger_digital_pipeline")
	commonParamKeys   = keySet("text")
	serviceParamKeys  = keySet("service", "text")
	supportedNoteType = keySet("common", "call_in", "call_out", "service_message", "extended_service_message",
		"sms_in", "sms_out", "geolocation", "attachment", "message_cashier", "invoice_paid", "key_action_completed")
)

// linkMetadata is a link's metadata as the API returns it.
func linkMetadata(l Link) map[string]any {
	if l.ToEntityType == "contacts" {
		return map[string]any{"main_contact": l.Quantity == 1}
	}
	m := map[string]any{"quantity": l.Quantity, "catalog_id": l.CatalogID}
	if l.PriceID != 0 {
		m["price_id"] = l.PriceID
	}
	return m
}

// checkLink validates one link item; leadID is the lead of a per-entity
// call (0 for the bulk one). Caller holds mu.
func (s *Server) checkLink(it *item, leadID int64) (Link, bool) {
	c := &it.chk
	o := it.obj
	var ln Link
	if leadID == 0 {
		checkKeys(o, bulkLinkKeys, "", c)
		rawID, has := o["entity_id"]
		id, ok := asInt(rawID)
		l := s.leads[id]
		switch {
		case !has:
			c.add(codeNotBlank, "entity_id")
		case !ok || l == nil || l.deleted:
			c.add(codeNotSupported, "entity_id")
		}
		ln.LeadID = id
		if et, has := o["entity_type"]; has && et != "leads" {
			c.add(codeNotSupported, "entity_type")
		}
	} else {
		checkKeys(o, leadLinkKeys, "", c)
		ln.LeadID = leadID
	}
	toType, _ := o["to_entity_type"].(string)
	toID, idOK := asInt(o["to_entity_id"])
	if !idOK {
		c.add(codeNotBlank, "to_entity_id")
	}
	ln.ToEntityType, ln.ToEntityID = toType, toID
	var meta map[string]any
	if raw, has := o["metadata"]; has && raw != nil {
		m, ok := raw.(map[string]any)
		if !ok {
			c.add(codeInvalidType, "metadata")
			return ln, false
		}
		meta = m
	}
	if n, ok := optInt(meta, "updated_by", c); ok && !s.userKnown(n) {
		c.add(codeNotSupported, "metadata.updated_by")
	}
	switch toType {
	case "catalog_elements":
		checkKeys(meta, elementMetaKeys, "metadata.", c)
		e := s.elements[toID]
		if idOK && (e == nil || e.deleted) {
			c.add(codeNotSupported, "to_entity_id")
		}
		catID, has := asInt(meta["catalog_id"])
		switch {
		case meta["catalog_id"] == nil:
			c.add(codeNotBlank, "metadata.catalog_id")
		case !has || s.catalog(catID) == nil || (e != nil && e.CatalogID != catID):
			c.add(codeNotSupported, "metadata.catalog_id")
		}
		ln.CatalogID = catID
		ln.Quantity = 1
		if raw, has := meta["quantity"]; has {
			q, _, ok := asFloat(raw)
			if _, isStr := raw.(string); !ok || isStr || q < 0 {
				c.add(codeInvalidType, "metadata.quantity")
			}
			ln.Quantity = q
		}
		if raw, has := meta["price_id"]; has {
			pid, ok := asInt(raw)
			def := s.fieldByID(catalogKey(catID), pid)
			if !ok || def == nil || def.Type != "price" {
				c.add(codeNotSupported, "metadata.price_id")
			}
			ln.PriceID = pid
		}
	case "contacts":
		checkKeys(meta, contactMetaKeys, "metadata.", c)
		if ct := s.contacts[toID]; idOK && (ct == nil || ct.deleted) {
			c.add(codeNotSupported, "to_entity_id")
		}
		if raw, has := meta["is_main"]; has {
			b, ok := raw.(bool)
			if !ok {
				c.add(codeInvalidType, "metadata.is_main")
			} else if b {
				ln.Quantity = 1 // marks the main contact in this record
			}
		}
	case "companies":
		c.add(codeNotSupported, "to_entity_id")
	default:
		c.add(codeNotSupported, "to_entity_type")
	}
	return ln, c.ok()
}

// postLinks is POST /api/v4/leads/link (bulk) and /api/v4/leads/{id}/link.
func (s *Server) postLinks(w http.ResponseWriter, r *http.Request, leadID int64) {
	items, ok := readBatch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if leadID != 0 {
		if l := s.leads[leadID]; l == nil || l.deleted {
			problem(w, http.StatusNotFound, "Lead not found")
			return
		}
	}
	links := make([]Link, len(items))
	for i, it := range items {
		links[i], _ = s.checkLink(it, leadID)
	}
	if rejectInvalid(w, items) {
		return
	}
	out := make([]any, len(links))
	for i, ln := range links {
		if ln.ToEntityType == "contacts" {
			l := s.leads[ln.LeadID]
			l.ContactIDs = removeID(l.ContactIDs, ln.ToEntityID)
			if ln.Quantity == 1 {
				l.ContactIDs = append([]int64{ln.ToEntityID}, l.ContactIDs...)
			} else {
				l.ContactIDs = append(l.ContactIDs, ln.ToEntityID)
			}
		} else {
			replaced := false
			for _, old := range s.links {
				if old.LeadID == ln.LeadID && old.ToEntityType == ln.ToEntityType && old.ToEntityID == ln.ToEntityID {
					old.Link = ln // one link per pair: linking again updates it
					replaced = true
				}
			}
			if !replaced {
				s.links = append(s.links, &link{Link: ln})
			}
		}
		out[i] = map[string]any{
			"entity_id": ln.LeadID, "entity_type": "leads", "to_entity_id": ln.ToEntityID,
			"to_entity_type": ln.ToEntityType, "metadata": linkMetadata(ln),
		}
	}
	self := "/api/v4/leads/link"
	if leadID != 0 {
		self = fmt.Sprintf("/api/v4/leads/%d/link", leadID)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"_total_items": len(out),
		"_links":       map[string]any{"self": href(r, self)},
		"_embedded":    map[string]any{"links": out},
	})
}

// getLeadLinks is GET /api/v4/leads/{id}/links with the optional filters
// filter[to_entity_type], filter[to_catalog_id] and filter[to_entity_id]
// (which needs filter[to_entity_type]).
func (s *Server) getLeadLinks(w http.ResponseWriter, r *http.Request, leadID int64) {
	q := r.URL.Query()
	toType := q.Get("filter[to_entity_type]")
	if q.Has("filter[to_entity_id]") && toType == "" {
		problem(w, http.StatusBadRequest, "filter[to_entity_id] requires filter[to_entity_type]")
		return
	}
	toCatalog, _ := strconv.ParseInt(q.Get("filter[to_catalog_id]"), 10, 64)
	toID, _ := strconv.ParseInt(q.Get("filter[to_entity_id]"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.leads[leadID]
	if l == nil || l.deleted {
		noContent(w)
		return
	}
	var all []Link
	for i, cid := range l.ContactIDs {
		ln := Link{LeadID: leadID, ToEntityID: cid, ToEntityType: "contacts"}
		if i == 0 {
			ln.Quantity = 1
		}
		all = append(all, ln)
	}
	for _, ln := range s.links {
		if ln.LeadID == leadID {
			all = append(all, ln.Link)
		}
	}
	var out []any
	for _, ln := range all {
		if (toType != "" && ln.ToEntityType != toType) || (toCatalog != 0 && ln.CatalogID != toCatalog) ||
			(toID != 0 && ln.ToEntityID != toID) {
			continue
		}
		out = append(out, map[string]any{
			"entity_id": leadID, "entity_type": "leads", "to_entity_id": ln.ToEntityID,
			"to_entity_type": ln.ToEntityType, "metadata": linkMetadata(ln),
		})
	}
	if len(out) == 0 {
		noContent(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"_total_items": len(out),
		"_links":       map[string]any{"self": href(r, fmt.Sprintf("/api/v4/leads/%d/links", leadID))},
		"_embedded":    map[string]any{"links": out},
	})
}

// checkNote validates one note item. Caller holds mu.
func (s *Server) checkNote(it *item, leadID int64) Note {
	c := &it.chk
	o := it.obj
	checkKeys(o, noteKeys, "", c)
	n := Note{LeadID: leadID}
	if raw, has := o["entity_id"]; has || leadID == 0 {
		id, ok := asInt(raw)
		l := s.leads[id]
		switch {
		case !has:
			c.add(codeNotBlank, "entity_id")
		case !ok || l == nil || l.deleted || (leadID != 0 && id != leadID):
			c.add(codeNotSupported, "entity_id")
		}
		n.LeadID = id
	}
	typ, _ := o["note_type"].(string)
	if !supportedNoteType[typ] {
		c.add(codeNotSupported, "note_type")
	}
	n.NoteType = typ
	params, ok := o["params"].(map[string]any)
	if !ok {
		c.add(codeNotBlank, "params")
		return n
	}
	switch typ {
	case "common":
		checkKeys(params, commonParamKeys, "params.", c)
	case "service_message", "extended_service_message":
		checkKeys(params, serviceParamKeys, "params.", c)
		if svc, _ := params["service"].(string); svc == "" {
			c.add(codeNotBlank, "params.service")
		}
	}
	if typ == "common" || typ == "service_message" || typ == "extended_service_message" {
		text, isStr := params["text"].(string)
		switch {
		case !isStr && params["text"] != nil:
			c.add(codeInvalidType, "params.text")
		case text == "":
			c.add(codeNotBlank, "params.text")
		}
		n.Text = text
	}
	n.Params = params
	for _, key := range []string{"created_by", "responsible_user_id"} {
		if id, ok := optInt(o, key, c); ok && !(key == "created_by" && id == 0) && !s.userKnown(id) {
			c.add(codeNotSupported, key)
		}
	}
	for _, key := range []string{"created_at", "updated_at"} {
		if t, ok := optInt(o, key, c); ok && key == "created_at" {
			n.CreatedAt = t
		}
	}
	return n
}

// postNotes is POST /api/v4/leads/notes (bulk, each with entity_id) and
// POST /api/v4/leads/{id}/notes.
func (s *Server) postNotes(w http.ResponseWriter, r *http.Request, leadID int64) {
	items, ok := readBatch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if leadID != 0 {
		if l := s.leads[leadID]; l == nil || l.deleted {
			problem(w, http.StatusNotFound, "Lead not found")
			return
		}
	}
	notes := make([]Note, len(items))
	for i, it := range items {
		notes[i] = s.checkNote(it, leadID)
	}
	if rejectInvalid(w, items) {
		return
	}
	out := make([]any, len(notes))
	for i, n := range notes {
		n.ID = s.newID()
		if n.CreatedAt == 0 {
			n.CreatedAt = s.now().Unix()
		}
		s.notes[n.ID] = &note{Note: n}
		out[i] = map[string]any{
			"id": n.ID, "entity_id": n.LeadID, "request_id": items[i].reqID,
			"_links": map[string]any{"self": href(r, fmt.Sprintf("/api/v4/leads/%d/notes/%d", n.LeadID, n.ID))},
		}
	}
	writeSaved(w, r, "/api/v4/leads/notes", "notes", out)
}

// getLeadNotes is GET /api/v4/leads/{id}/notes (paged; 204 when none).
func (s *Server) getLeadNotes(w http.ResponseWriter, r *http.Request, leadID int64) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	var items []any
	if l := s.leads[leadID]; l != nil && !l.deleted {
		for _, id := range sortedKeys(s.notes) {
			n := s.notes[id]
			if n.LeadID != leadID {
				continue
			}
			items = append(items, map[string]any{
				"id": n.ID, "entity_id": n.LeadID, "created_by": n.createdBy, "updated_by": n.createdBy,
				"created_at": n.CreatedAt, "updated_at": n.CreatedAt, "responsible_user_id": UserID,
				"group_id": 0, "note_type": n.NoteType, "params": n.Params, "account_id": AccountID,
				"_links": map[string]any{"self": href(r, fmt.Sprintf("/api/v4/leads/%d/notes/%d", n.LeadID, n.ID))},
			})
		}
	}
	writeList(w, r, "notes", items, parsePage(q, 250))
}
