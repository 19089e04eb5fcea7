package amofake

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

var (
	leadKeys = keySet("name", "price", "status_id", "pipeline_id", "responsible_user_id",
		"created_by", "updated_by", "created_at", "updated_at", "closed_at", "loss_reason_id",
		"custom_fields_values", "tags_to_add", "_embedded", "request_id")
	leadUpdateKeys = keySet("id", "name", "price", "status_id", "pipeline_id", "responsible_user_id",
		"created_by", "updated_by", "created_at", "updated_at", "closed_at", "loss_reason_id",
		"custom_fields_values", "tags_to_add", "tags_to_delete", "_embedded", "request_id")
	leadEmbeddedKeys  = keySet("tags", "contacts", "companies", "source", "catalog_elements")
	linkedContactKeys = keySet("id", "is_main")
)

// maxNameLen is the longest entity name the fake stores.
const maxNameLen = 255

// leadChange is a validated lead item of a POST or PATCH.
type leadChange struct {
	name             *string
	price            *int64
	pipeline, status int64 // resolved; 0 = unchanged
	lossReason       *int64
	closedAt         *int64
	contacts         []int64 // main first
	ownedChange
}

// checkLead validates one lead item; cur is the stored lead on PATCH (nil
// when it is unknown). Caller holds mu.
func (s *Server) checkLead(it *item, cur *lead, update bool) leadChange {
	c := &it.chk
	o := it.obj
	var ch leadChange
	if !update {
		checkKeys(o, leadKeys, "", c)
	} else {
		checkKeys(o, leadUpdateKeys, "", c)
	}
	if name, ok := optString(o, "name", maxNameLen, c); ok {
		ch.name = &name
	}
	if raw, has := o["price"]; has {
		// amoCRM takes an integer budget; decimals are Kommo-only.
		if n, ok := asInt(raw); ok {
			ch.price = &n
		} else {
			c.add(codeInvalidType, "price")
		}
	}
	if n, ok := optInt(o, "closed_at", c); ok {
		ch.closedAt = &n
	}
	ch.ownedChange = s.checkOwned(o, "leads", c)
	if n, ok := optInt(o, "loss_reason_id", c); ok {
		if _, known := s.lossReasons[n]; known {
			ch.lossReason = &n
		} else {
			c.add(codeNotSupported, "loss_reason_id")
		}
	}
	s.resolveStatus(o, cur, &ch, c)
	if raw, has := o["_embedded"]; has {
		emb, ok := raw.(map[string]any)
		if !ok {
			c.add(codeInvalidType, "_embedded")
			return ch
		}
		checkKeys(emb, leadEmbeddedKeys, "_embedded.", c)
		s.checkEmbeddedTags(emb, &ch.ownedChange, c)
		if rawContacts, has := emb["contacts"]; has {
			ch.contacts = s.parseLinkedContacts(rawContacts, c)
		}
		if rawCompanies, has := emb["companies"]; has {
			// The fake account has no companies: any id is unknown.
			if arr, ok := rawCompanies.([]any); ok {
				for i := range arr {
					c.add(codeNotSupported, fmt.Sprintf("_embedded.companies.%d.id", i))
				}
			} else {
				c.add(codeInvalidType, "_embedded.companies")
			}
		}
		// _embedded.catalog_elements is accepted and ignored: products are
		// not attached when sent with the lead (#487).
	}
	return ch
}

// resolveStatus works out pipeline and status. 142/143 exist in every
// pipeline, so they need pipeline_id; any other status must belong to the
// pipeline sent (or, without one, to some pipeline).
func (s *Server) resolveStatus(o map[string]any, cur *lead, ch *leadChange, c *check) {
	pid, hasP := optInt(o, "pipeline_id", c)
	sid, hasS := optInt(o, "status_id", c)
	if hasP && s.pipeline(pid) == nil {
		c.add(codeNotSupported, "pipeline_id")
		return
	}
	// The incoming stage (type 1) takes leads only through the unsorted
	// API; POST/PATCH /leads naming it is refused.
	if hasS && s.incomingStatus(sid) {
		c.add(codeNotSupported, "status_id")
		return
	}
	switch {
	case hasS && (sid == StatusWon || sid == StatusLost) && !hasP:
		c.add(codeNotSupported, "status_id")
	case hasS && hasP:
		if !s.statusInPipeline(pid, sid) {
			c.add(codeNotSupported, "status_id")
			return
		}
		ch.pipeline, ch.status = pid, sid
	case hasS:
		p := s.pipelineOfStatus(sid)
		if p == 0 {
			c.add(codeNotSupported, "status_id")
			return
		}
		ch.pipeline, ch.status = p, sid
	case hasP:
		if cur != nil && cur.PipelineID == pid {
			return
		}
		ch.pipeline, ch.status = pid, s.firstStatus(pid)
	case cur == nil && !hasS && !hasP:
		p := s.mainPipeline()
		ch.pipeline, ch.status = p, s.firstStatus(p)
	}
}

var tagKeys = keySet("id", "name")

// parseTags reads [{"name": ...}] / [{"id": ...}] and returns tag names.
func (s *Server) parseTags(raw any, path string, c *check) []string {
	arr, ok := raw.([]any)
	if !ok {
		c.add(codeInvalidType, path)
		return nil
	}
	var names []string
	for i, rt := range arr {
		p := fmt.Sprintf("%s.%d", path, i)
		t, ok := rt.(map[string]any)
		if !ok {
			c.add(codeInvalidType, p)
			continue
		}
		checkKeys(t, tagKeys, p+".", c)
		if rawID, has := t["id"]; has {
			id, _ := asInt(rawID)
			found := ""
			for name, tid := range s.tags {
				if tid == id {
					found = name
				}
			}
			if found == "" {
				c.add(codeNotSupported, p+".id")
				continue
			}
			names = append(names, found)
			continue
		}
		name, ok := t["name"].(string)
		if !ok || strings.TrimSpace(name) == "" {
			c.add(codeNotBlank, p+".name")
			continue
		}
		names = append(names, name)
	}
	return names
}

// parseLinkedContacts reads _embedded.contacts: existing contacts only.
func (s *Server) parseLinkedContacts(raw any, c *check) []int64 {
	arr, ok := raw.([]any)
	if !ok {
		c.add(codeInvalidType, "_embedded.contacts")
		return nil
	}
	var main []int64
	var rest []int64
	for i, rc := range arr {
		p := fmt.Sprintf("_embedded.contacts.%d", i)
		obj, ok := rc.(map[string]any)
		if !ok {
			c.add(codeInvalidType, p)
			continue
		}
		checkKeys(obj, linkedContactKeys, p+".", c)
		id, ok := asInt(obj["id"])
		if ct, known := s.contacts[id]; !ok || !known || ct.deleted {
			c.add(codeNotSupported, p+".id")
			continue
		}
		if isMain, has := obj["is_main"]; has {
			if b, ok := isMain.(bool); !ok {
				c.add(codeInvalidType, p+".is_main")
			} else if b {
				main = append(main, id)
				continue
			}
		}
		rest = append(rest, id)
	}
	if len(main) > 1 {
		c.add(codeNotSupported, "_embedded.contacts")
	}
	return append(main, rest...)
}

func (s *Server) tagID(name string) int64 {
	if id, ok := s.tags[name]; ok {
		return id
	}
	id := s.newID()
	s.tags[name] = id
	return id
}

// apply writes a validated change into l. Caller holds mu.
func (s *Server) applyLead(l *lead, ch leadChange) {
	now := s.now().Unix()
	if ch.name != nil {
		l.Name = *ch.name
	}
	if ch.price != nil {
		l.Price = *ch.price
	}
	if ch.status != 0 {
		if (ch.status == StatusWon || ch.status == StatusLost) && l.StatusID != ch.status {
			l.ClosedAt = now
		}
		l.PipelineID, l.StatusID = ch.pipeline, ch.status
	}
	if ch.lossReason != nil {
		l.LossReasonID = *ch.lossReason
	}
	if ch.closedAt != nil {
		l.ClosedAt = *ch.closedAt
	}
	s.applyOwned(ch.ownedChange, ownedFields{
		resp: &l.ResponsibleUserID, createdBy: &l.createdBy, updatedBy: &l.updatedBy,
		createdAt: &l.CreatedAt, updatedAt: &l.UpdatedAt, fields: &l.Fields, tags: &l.Tags,
	})
	for i, cid := range ch.contacts {
		l.ContactIDs = removeID(l.ContactIDs, cid)
		if i == 0 {
			l.ContactIDs = append([]int64{cid}, l.ContactIDs...)
		} else {
			l.ContactIDs = append(l.ContactIDs, cid)
		}
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func removeStr(list []string, s string) []string {
	out := list[:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

func (s *Server) createLeads(w http.ResponseWriter, r *http.Request) {
	items, ok := readBatch(w, r)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	changes := make([]leadChange, len(items))
	for i, it := range items {
		changes[i] = s.checkLead(it, nil, false)
	}
	if rejectInvalid(w, items) {
		return
	}
	now := s.now().Unix()
	out := make([]any, len(items))
	for i, it := range items {
		l := &lead{Lead: Lead{ID: s.newID(), ResponsibleUserID: UserID, CreatedAt: now}, indexedAt: s.now().Add(s.opts.SearchLag)}
		s.applyLead(l, changes[i])
		if l.Name == "" {
			l.Name = fmt.Sprintf("Сделка #%d", l.ID)
		}
		s.leads[l.ID] = l
		out[i] = map[string]any{
			"id": l.ID, "request_id": it.reqID,
			"_links": map[string]any{"self": href(r, fmt.Sprintf("/api/v4/leads/%d", l.ID))},
		}
	}
	writeSaved(w, r, "/api/v4/leads", "leads", out)
}

// patchLeads is PATCH /api/v4/leads (array, each with id) or
// PATCH /api/v4/leads/{id} (object).
func (s *Server) patchLeads(w http.ResponseWriter, r *http.Request, single int64) {
	patchEntities(s, w, r, single, patchSpec[*lead, leadChange]{
		entity: "leads", notFound: "Lead not found",
		live: func(id int64) (*lead, bool) {
			l := s.leads[id]
			return l, l != nil && !l.deleted
		},
		check: func(it *item, l *lead) leadChange { return s.checkLead(it, l, true) },
		apply: func(l *lead, ch leadChange) (int64, int64) {
			s.applyLead(l, ch)
			return l.ID, l.UpdatedAt
		},
	})
}

func (s *Server) renderLead(r *http.Request, l *lead, with map[string]bool) map[string]any {
	tags := make([]any, 0, len(l.Tags))
	for _, t := range l.Tags {
		tags = append(tags, map[string]any{"id": s.tags[t], "name": t, "color": nil})
	}
	emb := map[string]any{"tags": tags, "companies": []any{}}
	if with["contacts"] {
		cs := make([]any, 0, len(l.ContactIDs))
		for i, cid := range l.ContactIDs {
			cs = append(cs, map[string]any{"id": cid, "is_main": i == 0,
				"_links": map[string]any{"self": href(r, fmt.Sprintf("/api/v4/contacts/%d", cid))}})
		}
		emb["contacts"] = cs
	}
	if with["catalog_elements"] {
		els := []any{}
		for _, ln := range s.links {
			if ln.LeadID == l.ID && ln.ToEntityType == "catalog_elements" {
				els = append(els, map[string]any{"id": ln.ToEntityID, "metadata": linkMetadata(ln.Link)})
			}
		}
		emb["catalog_elements"] = els
	}
	var loss, closed any
	if l.LossReasonID != 0 {
		loss = l.LossReasonID
	}
	if with["loss_reason"] {
		lr := []any{}
		if name, ok := s.lossReasons[l.LossReasonID]; ok && l.LossReasonID != 0 {
			lr = append(lr, map[string]any{"id": l.LossReasonID, "name": name, "sort": 1})
		}
		emb["loss_reason"] = lr
	}
	if l.ClosedAt != 0 {
		closed = l.ClosedAt
	}
	return map[string]any{
		"id": l.ID, "name": l.Name, "price": l.Price, "responsible_user_id": l.ResponsibleUserID,
		"group_id": 0, "status_id": l.StatusID, "pipeline_id": l.PipelineID, "loss_reason_id": loss,
		"created_by": l.createdBy, "updated_by": l.updatedBy, "created_at": l.CreatedAt,
		"updated_at": l.UpdatedAt, "closed_at": closed, "closest_task_at": nil, "is_deleted": false,
		"custom_fields_values": renderFields(l.Fields), "score": nil, "account_id": AccountID,
		"labor_cost": nil,
		"_links":     map[string]any{"self": href(r, fmt.Sprintf("/api/v4/leads/%d", l.ID))},
		"_embedded":  emb,
	}
}

// listLeads is GET /api/v4/leads: query (full text over name and field
// values), filter[id][], order[created_at|updated_at|id];
// filter[created_at][from|to], filter[statuses] and filter[updated_at][from]
// only with Options.Filters; other filters are silently ignored, as on an
// account outside the filters alpha.
func (s *Server) listLeads(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ids, byID := idFilter(q)
	with := withSet(q)
	s.mu.Lock()
	defer s.mu.Unlock()
	created, byCreated := s.createdFilter(q)
	stages, byStage := s.statusesFilter(q)
	updatedFrom, byUpdated := s.updatedFilter(q)
	var list []*lead
	for _, id := range sortedKeys(s.leads) {
		l := s.leads[id]
		if l.deleted || (byID && !ids[id]) {
			continue
		}
		if byCreated && (l.CreatedAt < created[0] || l.CreatedAt > created[1]) {
			continue
		}
		if byStage && !stages[[2]int64{l.PipelineID, l.StatusID}] {
			continue
		}
		if byUpdated && l.UpdatedAt < updatedFrom {
			continue
		}
		if !s.searchable(l.indexedAt, q.Get("query")) || !matchQuery(q.Get("query"), []string{l.Name}, l.Fields) {
			continue
		}
		list = append(list, l)
	}
	if err := sortLeads(list, q); err != "" {
		problem(w, http.StatusBadRequest, err)
		return
	}
	var items []any
	for _, l := range list {
		items = append(items, s.renderLead(r, l, with))
	}
	writeList(w, r, "leads", items, parsePage(q, 250))
}

// getLead is GET /api/v4/leads/{id}; a deleted or unknown lead is 204.
func (s *Server) getLead(w http.ResponseWriter, r *http.Request, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.leads[id]
	if !ok || l.deleted {
		noContent(w)
		return
	}
	writeJSON(w, http.StatusOK, s.renderLead(r, l, withSet(r.URL.Query())))
}

// SetFilters puts the account in the filters alpha or takes it out (see
// Options.Filters).
func (s *Server) SetFilters(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Filters = on
}

// createdFilter reads filter[created_at][from] and [to] (unix seconds;
// a missing bound is open) when the account is in the filters alpha.
// Caller holds mu.
func (s *Server) createdFilter(q url.Values) ([2]int64, bool) {
	from, to := q.Get("filter[created_at][from]"), q.Get("filter[created_at][to]")
	if !s.opts.Filters || (from == "" && to == "") {
		return [2]int64{}, false
	}
	r := [2]int64{math.MinInt64, math.MaxInt64}
	if n, err := strconv.ParseInt(from, 10, 64); err == nil {
		r[0] = n
	}
	if n, err := strconv.ParseInt(to, 10, 64); err == nil {
		r[1] = n
	}
	return r, true
}

// statusesFilter reads filter[statuses][i][pipeline_id] and [status_id]
// (amocrm-api.md §6: the pair form) when the account is in the filters
// alpha. Caller holds mu.
func (s *Server) statusesFilter(q url.Values) (map[[2]int64]bool, bool) {
	if !s.opts.Filters {
		return nil, false
	}
	out := map[[2]int64]bool{}
	for i := 0; ; i++ {
		k := "filter[statuses][" + strconv.Itoa(i) + "]"
		p, st := q.Get(k+"[pipeline_id]"), q.Get(k+"[status_id]")
		if p == "" && st == "" {
			break
		}
		pn, _ := strconv.ParseInt(p, 10, 64)
		sn, _ := strconv.ParseInt(st, 10, 64)
		out[[2]int64{pn, sn}] = true
	}
	return out, len(out) > 0
}

// updatedFilter reads filter[updated_at][from] (unix seconds) when the
// account is in the filters alpha. Caller holds mu.
func (s *Server) updatedFilter(q url.Values) (int64, bool) {
	v := q.Get("filter[updated_at][from]")
	if !s.opts.Filters || v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// sortLeads applies order[created_at|updated_at|id]=asc|desc (id ascending
// by default; ties by id).
func sortLeads(list []*lead, q url.Values) string {
	for _, key := range []string{"created_at", "updated_at", "id"} {
		dir := q.Get("order[" + key + "]")
		if dir == "" {
			continue
		}
		if dir != "asc" && dir != "desc" {
			return "order[" + key + "] must be asc or desc"
		}
		val := func(l *lead) int64 {
			switch key {
			case "created_at":
				return l.CreatedAt
			case "updated_at":
				return l.UpdatedAt
			}
			return l.ID
		}
		sort.SliceStable(list, func(i, j int) bool {
			a, b := val(list[i]), val(list[j])
			if a == b {
				a, b = list[i].ID, list[j].ID
			}
			if dir == "desc" {
				return a > b
			}
			return a < b
		})
		return ""
	}
	return ""
}

// incomingStatus reports whether id is a pipeline's incoming stage
// ("Неразобранное", type 1). Caller holds mu.
func (s *Server) incomingStatus(id int64) bool {
	for _, p := range s.pipelines {
		for _, st := range p.Statuses {
			if st.ID == id && st.Type == 1 {
				return true
			}
		}
	}
	return false
}

// SetNonAdmin makes the authorising user an ordinary user or an
// administrator again (see Options.NonAdmin).
func (s *Server) SetNonAdmin(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.NonAdmin = on
}

// SetTimezone sets the account's time zone (see Options.Timezone).
func (s *Server) SetTimezone(zone string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Timezone = zone
}

// RemoveUser removes a user from the account (a manager who left): from
// then on amoCRM refuses the id as responsible_user_id.
func (s *Server) RemoveUser(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.users[:0]
	for _, u := range s.users {
		if u.ID != id {
			kept = append(kept, u)
		}
	}
	s.users = kept
}
