package amofake

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// api routes /api/v4/... after authorization.
func (s *Server) api(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/api/v4/"), "/"), "/")
	m := r.Method
	// allow answers 405 unless the method is one of ms.
	allow := func(ms ...string) bool {
		for _, x := range ms {
			if x == m {
				return true
			}
		}
		problem(w, http.StatusMethodNotAllowed, "Method not allowed")
		return false
	}
	id := func(i int) (int64, bool) {
		if i >= len(parts) {
			return 0, false
		}
		n, err := strconv.ParseInt(parts[i], 10, 64)
		return n, err == nil && n > 0
	}
	switch {
	case len(parts) == 1 && parts[0] == "account":
		if allow(http.MethodGet) {
			s.getAccount(w, r)
		}
	case len(parts) == 1 && parts[0] == "users":
		if allow(http.MethodGet) {
			s.getUsers(w, r)
		}
	case len(parts) == 2 && (parts[0] == "leads" || parts[0] == "contacts") && parts[1] == "custom_fields":
		if allow(http.MethodGet) {
			s.getCustomFields(w, r, parts[0])
		}
	case len(parts) == 1 && parts[0] == "leads":
		if allow(http.MethodGet, http.MethodPost, http.MethodPatch) {
			switch m {
			case http.MethodGet:
				s.listLeads(w, r)
			case http.MethodPost:
				s.createLeads(w, r)
			default:
				s.patchLeads(w, r, 0)
			}
		}
	case len(parts) == 2 && parts[0] == "leads" && parts[1] == "pipelines":
		if allow(http.MethodGet) {
			s.getPipelines(w, r, 0)
		}
	case len(parts) == 3 && parts[0] == "leads" && parts[1] == "pipelines":
		if pid, ok := id(2); ok && allow(http.MethodGet) {
			s.getPipelines(w, r, pid)
		} else if !ok {
			problem(w, http.StatusNotFound, "Not found")
		}
	case len(parts) == 2 && parts[0] == "leads" && parts[1] == "loss_reasons":
		if allow(http.MethodGet) {
			s.getLossReasons(w, r)
		}
	case len(parts) == 2 && parts[0] == "leads" && parts[1] == "link":
		if allow(http.MethodPost) {
			s.postLinks(w, r, 0)
		}
	case len(parts) == 2 && parts[0] == "leads" && parts[1] == "notes":
		if allow(http.MethodPost) {
			s.postNotes(w, r, 0)
		}
	case len(parts) == 2 && parts[0] == "leads":
		lid, ok := id(1)
		if !ok {
			problem(w, http.StatusNotFound, "Not found")
		} else if allow(http.MethodGet, http.MethodPatch) {
			if m == http.MethodGet {
				s.getLead(w, r, lid)
			} else {
				s.patchLeads(w, r, lid)
			}
		}
	case len(parts) == 3 && parts[0] == "leads":
		lid, ok := id(1)
		switch {
		case !ok:
			problem(w, http.StatusNotFound, "Not found")
		case parts[2] == "links":
			if allow(http.MethodGet) {
				s.getLeadLinks(w, r, lid)
			}
		case parts[2] == "link":
			if allow(http.MethodPost) {
				s.postLinks(w, r, lid)
			}
		case parts[2] == "notes":
			if allow(http.MethodGet, http.MethodPost) {
				if m == http.MethodGet {
					s.getLeadNotes(w, r, lid)
				} else {
					s.postNotes(w, r, lid)
				}
			}
		default:
			problem(w, http.StatusNotFound, "Not found")
		}
	case len(parts) == 1 && parts[0] == "contacts":
		if allow(http.MethodGet, http.MethodPost, http.MethodPatch) {
			switch m {
			case http.MethodGet:
				s.listContacts(w, r)
			case http.MethodPost:
				s.createContacts(w, r)
			default:
				s.patchContacts(w, r, 0)
			}
		}
	case len(parts) == 2 && parts[0] == "contacts":
		cid, ok := id(1)
		if !ok {
			problem(w, http.StatusNotFound, "Not found")
		} else if allow(http.MethodGet, http.MethodPatch) {
			if m == http.MethodGet {
				s.getContact(w, r, cid)
			} else {
				s.patchContacts(w, r, cid)
			}
		}
	case len(parts) == 1 && parts[0] == "catalogs":
		if allow(http.MethodGet) {
			s.getCatalogs(w, r, 0)
		}
	case len(parts) >= 2 && parts[0] == "catalogs":
		cid, ok := id(1)
		if !ok || s.catalogLocked(cid) == nil {
			problem(w, http.StatusNotFound, "Not found")
			return
		}
		switch {
		case len(parts) == 2:
			if allow(http.MethodGet) {
				s.getCatalogs(w, r, cid)
			}
		case len(parts) == 3 && parts[2] == "custom_fields":
			if allow(http.MethodGet) {
				s.getCustomFields(w, r, catalogKey(cid))
			}
		case len(parts) == 3 && parts[2] == "elements":
			if allow(http.MethodGet, http.MethodPost, http.MethodPatch) {
				switch m {
				case http.MethodGet:
					s.listElements(w, r, cid, 0)
				case http.MethodPost:
					s.createElements(w, r, cid)
				default:
					s.patchElements(w, r, cid)
				}
			}
		case len(parts) == 4 && parts[2] == "elements":
			eid, ok := id(3)
			if !ok {
				problem(w, http.StatusNotFound, "Not found")
			} else if allow(http.MethodGet) {
				s.listElements(w, r, cid, eid)
			}
		default:
			problem(w, http.StatusNotFound, "Not found")
		}
	default:
		problem(w, http.StatusNotFound, "Not found")
	}
}

// ---- batch bodies ----

// item is one element of a batch body with its request_id and errors.
type item struct {
	obj   map[string]any
	reqID string
	chk   check
}

// readBatch reads a batch body: a JSON array of 1..MaxBatch objects. An
// object sent to a batch URL is the array-vs-object mismatch (405).
func readBatch(w http.ResponseWriter, r *http.Request) ([]*item, bool) {
	v, err := decodeJSON(r)
	if err != nil {
		problem(w, http.StatusBadRequest, "Request body is not valid JSON")
		return nil, false
	}
	arr, ok := v.([]any)
	if !ok {
		if _, isObj := v.(map[string]any); isObj {
			problem(w, http.StatusMethodNotAllowed, "An array of entities is expected")
			return nil, false
		}
		problem(w, http.StatusBadRequest, "An array of entities is expected")
		return nil, false
	}
	if len(arr) == 0 {
		problem(w, http.StatusBadRequest, "Empty request")
		return nil, false
	}
	if len(arr) > MaxBatch {
		problem(w, http.StatusBadRequest, fmt.Sprintf("Too many entities in one request: %d, at most %d", len(arr), MaxBatch))
		return nil, false
	}
	items := make([]*item, len(arr))
	for i, raw := range arr {
		it := &item{reqID: strconv.Itoa(i)}
		obj, ok := raw.(map[string]any)
		if !ok {
			it.chk.add(codeInvalidType, "")
			obj = map[string]any{}
		}
		it.obj = obj
		if rid, has := obj["request_id"]; has {
			if str, ok := rid.(string); ok {
				it.reqID = str
			} else {
				it.chk.add(codeInvalidType, "request_id")
			}
		}
		items[i] = it
	}
	return items, true
}

// readObject reads a single-entity body; an array is the mismatch (405).
func readObject(w http.ResponseWriter, r *http.Request) (*item, bool) {
	v, err := decodeJSON(r)
	if err != nil {
		problem(w, http.StatusBadRequest, "Request body is not valid JSON")
		return nil, false
	}
	obj, ok := v.(map[string]any)
	if !ok {
		if _, isArr := v.([]any); isArr {
			problem(w, http.StatusMethodNotAllowed, "An entity object is expected")
			return nil, false
		}
		problem(w, http.StatusBadRequest, "An entity object is expected")
		return nil, false
	}
	it := &item{obj: obj, reqID: "0"}
	if rid, ok := obj["request_id"].(string); ok {
		it.reqID = rid
	}
	return it, true
}

// readItems reads a PATCH body: an object for PATCH /{entity}/{single}
// (its id taken from the path) or, when single is 0, a batch.
func readItems(w http.ResponseWriter, r *http.Request, single int64) ([]*item, bool) {
	if single == 0 {
		return readBatch(w, r)
	}
	it, ok := readObject(w, r)
	if !ok {
		return nil, false
	}
	it.obj["id"] = jsonNumber(single)
	return []*item{it}, true
}

// writeSaved answers a batch POST or PATCH: the saved items under
// _embedded.{key}, with the collection's own link.
func writeSaved(w http.ResponseWriter, r *http.Request, path, key string, out []any) {
	writeJSON(w, http.StatusOK, map[string]any{
		"_links":    map[string]any{"self": href(r, path)},
		"_embedded": map[string]any{key: out},
	})
}

// rejectInvalid answers 400 validation-errors when any item failed; then
// nothing of the batch is applied.
func rejectInvalid(w http.ResponseWriter, items []*item) bool {
	var out []itemErrors
	for _, it := range items {
		if !it.chk.ok() {
			out = append(out, itemErrors{RequestID: it.reqID, Errors: it.chk.errs})
		}
	}
	if len(out) == 0 {
		return false
	}
	validationFailed(w, out)
	return true
}

func checkKeys(obj map[string]any, allowed map[string]bool, prefix string, c *check) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !allowed[k] {
			c.add(codeNotExpected, prefix+k)
		}
	}
}

func keySet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// optInt reads an optional integer key.
func optInt(obj map[string]any, key string, c *check) (int64, bool) {
	raw, has := obj[key]
	if !has {
		return 0, false
	}
	n, ok := asInt(raw)
	if !ok {
		c.add(codeInvalidType, key)
		return 0, false
	}
	return n, true
}

// optString reads an optional string key of at most maxLen characters.
func optString(obj map[string]any, key string, maxLen int, c *check) (string, bool) {
	raw, has := obj[key]
	if !has {
		return "", false
	}
	str, ok := raw.(string)
	if !ok {
		c.add(codeInvalidType, key)
		return "", false
	}
	if utf8.RuneCountInString(str) > maxLen {
		c.add(codeInvalidLength, key)
		return "", false
	}
	return str, true
}

// ---- account metadata ----

func (s *Server) userKnown(id int64) bool {
	for _, u := range s.users {
		if u.ID == id {
			return true
		}
	}
	return false
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	body := map[string]any{
		"id": AccountID, "name": "Магазин на Kaspi (песочница)", "subdomain": s.opts.Subdomain,
		"created_at": 1700000000, "created_by": UserID, "updated_at": 1700000000, "updated_by": UserID,
		"current_user_id": UserID, "country": "KZ", "currency": "KZT", "currency_symbol": "₸",
		"customers_mode": "disabled", "is_unsorted_on": true, "is_loss_reason_enabled": true,
		"is_helpbot_enabled": false, "is_technical_account": false, "contact_name_display_order": 1,
		"_links": map[string]any{"self": href(r, "/api/v4/account")},
	}
	if withSet(r.URL.Query())["datetime_settings"] {
		s.mu.Lock()
		zone := s.opts.Timezone
		s.mu.Unlock()
		if zone == "" {
			zone = "Asia/Almaty"
		}
		offset := "+05:00"
		if loc, err := time.LoadLocation(zone); err == nil {
			offset = s.now().In(loc).Format("-07:00")
		}
		body["_embedded"] = map[string]any{"datetime_settings": map[string]any{
			"date_pattern": "d.m.Y H:i", "short_date_pattern": "d.m.Y", "short_time_pattern": "H:i",
			"date_format": "d.m.Y", "time_format": "H:i:s", "timezone": zone, "timezone_offset": offset,
		}}
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) getUsers(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	nonAdmin, users := s.opts.NonAdmin, slices.Clone(s.users)
	s.mu.Unlock()
	if nonAdmin {
		problem(w, http.StatusForbidden, "Не хватает прав для вызова данного метода")
		return
	}
	var items []any
	for _, u := range users {
		items = append(items, map[string]any{
			"id": u.ID, "name": u.Name, "email": u.Email, "lang": "ru",
			"rights": map[string]any{"is_admin": true, "is_free": false, "is_active": true},
			"_links": map[string]any{"self": href(r, fmt.Sprintf("/api/v4/users/%d", u.ID))},
		})
	}
	writeList(w, r, "users", items, parsePage(r.URL.Query(), 250))
}

func (s *Server) renderPipeline(r *http.Request, p pipelineDef) map[string]any {
	statuses := make([]any, 0, len(p.Statuses))
	for _, st := range p.Statuses {
		statuses = append(statuses, map[string]any{
			"id": st.ID, "name": st.Name, "sort": st.Sort, "is_editable": st.ID != StatusWon && st.ID != StatusLost,
			"pipeline_id": p.ID, "color": st.Color, "type": st.Type, "account_id": AccountID,
			"_links": map[string]any{"self": href(r, fmt.Sprintf("/api/v4/leads/pipelines/%d/statuses/%d", p.ID, st.ID))},
		})
	}
	return map[string]any{
		"id": p.ID, "name": p.Name, "sort": p.Sort, "is_main": p.IsMain, "is_unsorted_on": true,
		"is_archive": false, "account_id": AccountID,
		"_links":    map[string]any{"self": href(r, fmt.Sprintf("/api/v4/leads/pipelines/%d", p.ID))},
		"_embedded": map[string]any{"statuses": statuses},
	}
}

func (s *Server) getPipelines(w http.ResponseWriter, r *http.Request, id int64) {
	if id != 0 {
		for _, p := range s.pipelines {
			if p.ID == id {
				writeJSON(w, http.StatusOK, s.renderPipeline(r, p))
				return
			}
		}
		problem(w, http.StatusNotFound, "Pipeline not found")
		return
	}
	var items []any
	for _, p := range s.pipelines {
		items = append(items, s.renderPipeline(r, p))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"_total_items": len(items),
		"_links":       map[string]any{"self": href(r, "/api/v4/leads/pipelines")},
		"_embedded":    map[string]any{"pipelines": items},
	})
}

func (s *Server) getLossReasons(w http.ResponseWriter, r *http.Request) {
	var items []any
	for _, id := range sortedKeys(s.lossReasons) {
		items = append(items, map[string]any{"id": id, "name": s.lossReasons[id], "sort": 1})
	}
	writeList(w, r, "loss_reasons", items, parsePage(r.URL.Query(), 250))
}

// customFieldsPerPage is what GET .../custom_fields returns at most per
// page, whatever the limit (the amoCRM docs say 50 while listing ≤ 250).
const customFieldsPerPage = 50

func (s *Server) getCustomFields(w http.ResponseWriter, r *http.Request, entity string) {
	s.mu.Lock()
	defs := append([]*fieldDef(nil), s.fields[entity]...)
	s.mu.Unlock()
	var items []any
	for _, d := range defs {
		var enums any
		if len(d.Enums) > 0 {
			enums = d.Enums
		}
		entry := map[string]any{
			"id": d.ID, "name": d.Name, "type": d.Type, "account_id": AccountID, "sort": d.Sort,
			"is_api_only": false, "enums": enums, "group_id": nil, "required_statuses": []any{},
			"is_deletable": !d.Predefined, "is_predefined": d.Predefined, "entity_type": d.EntityType,
			"remind": nil, "_links": map[string]any{"self": href(r, fmt.Sprintf("/api/v4/%s/custom_fields/%d", entity, d.ID))},
		}
		if d.Code != "" {
			entry["code"] = d.Code
		} else {
			entry["code"] = nil
		}
		if d.CatalogID != 0 {
			entry["catalog_id"] = d.CatalogID
		}
		items = append(items, entry)
	}
	writeList(w, r, "custom_fields", items, parsePage(r.URL.Query(), customFieldsPerPage))
}

// AddField defines one more custom field on "leads", "contacts" or a
// catalog (entity "catalogs/{id}") and returns its id (tests of paging).
func (s *Server) AddField(entity, name, code, typ string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := &fieldDef{ID: s.newID(), Name: name, Code: code, Type: typ, Sort: 1000 + len(s.fields[entity]), EntityType: entity}
	if strings.HasPrefix(entity, "catalogs/") {
		d.CatalogID, _ = strconv.ParseInt(strings.TrimPrefix(entity, "catalogs/"), 10, 64)
		d.EntityType = "catalogs"
	}
	s.fields[entity] = append(s.fields[entity], d)
	return d.ID
}

func (s *Server) catalog(id int64) *catalogDef {
	for i := range s.catalogs {
		if s.catalogs[i].ID == id {
			return &s.catalogs[i]
		}
	}
	return nil
}

func (s *Server) catalogLocked(id int64) *catalogDef {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.catalog(id)
}

func (s *Server) getCatalogs(w http.ResponseWriter, r *http.Request, id int64) {
	render := func(c catalogDef) map[string]any {
		return map[string]any{
			"id": c.ID, "name": c.Name, "created_by": UserID, "updated_by": UserID,
			"created_at": 1700000000, "updated_at": 1700000000, "sort": c.Sort, "type": c.Type,
			"can_add_elements": true, "can_show_in_cards": true, "can_link_multiple": true,
			"can_be_deleted": c.Type == "regular", "sdk_widget_code": nil, "account_id": AccountID,
			"_links": map[string]any{"self": href(r, fmt.Sprintf("/api/v4/catalogs/%d", c.ID))},
		}
	}
	if id != 0 {
		writeJSON(w, http.StatusOK, render(*s.catalogLocked(id)))
		return
	}
	var items []any
	for _, c := range s.catalogs {
		items = append(items, render(c))
	}
	writeList(w, r, "catalogs", items, parsePage(r.URL.Query(), 250))
}

// ---- pipelines and statuses ----

func (s *Server) pipeline(id int64) *pipelineDef {
	for i := range s.pipelines {
		if s.pipelines[i].ID == id {
			return &s.pipelines[i]
		}
	}
	return nil
}

func (s *Server) statusInPipeline(pipelineID, statusID int64) bool {
	p := s.pipeline(pipelineID)
	if p == nil {
		return false
	}
	for _, st := range p.Statuses {
		if st.ID == statusID {
			return true
		}
	}
	return false
}

// firstStatus is the first stage after "incoming" of a pipeline, where
// a lead created without a status lands.
func (s *Server) firstStatus(pipelineID int64) int64 {
	p := s.pipeline(pipelineID)
	if p == nil {
		return 0
	}
	for _, st := range p.Statuses {
		if st.Type == 0 {
			return st.ID
		}
	}
	return 0
}

func (s *Server) mainPipeline() int64 {
	for _, p := range s.pipelines {
		if p.IsMain {
			return p.ID
		}
	}
	return s.pipelines[0].ID
}

// pipelineOfStatus finds the pipeline of a non-system status.
func (s *Server) pipelineOfStatus(statusID int64) int64 {
	if statusID == StatusWon || statusID == StatusLost {
		return 0
	}
	for _, p := range s.pipelines {
		for _, st := range p.Statuses {
			if st.ID == statusID {
				return p.ID
			}
		}
	}
	return 0
}

// patchSpec describes one entity for patchEntities.
type patchSpec[E any, C any] struct {
	entity   string                     // contacts, leads
	notFound string                     // the 404 title of PATCH /{entity}/{id}
	live     func(id int64) (E, bool)   // the entity, and whether it exists undeleted
	check    func(it *item, target E) C // validates an item against its target
	apply    func(target E, ch C) (id, updatedAt int64)
}

// patchEntities is PATCH /api/v4/{entity} (array, each with id) or
// PATCH /api/v4/{entity}/{id} (object): every item must name a live
// entity, nothing is applied unless every item passes, and the answer
// lists id, updated_at and request_id.
func patchEntities[E any, C any](s *Server, w http.ResponseWriter, r *http.Request, single int64, spec patchSpec[E, C]) {
	items, ok := readItems(w, r, single)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	targets := make([]E, len(items))
	found := make([]bool, len(items))
	changes := make([]C, len(items))
	for i, it := range items {
		rawID, has := it.obj["id"]
		id, isInt := asInt(rawID)
		target, live := spec.live(id)
		switch {
		case !has:
			it.chk.add(codeNotBlank, "id")
		case !isInt || !live:
			it.chk.add(codeNotSupported, "id")
		}
		if live {
			targets[i], found[i] = target, true
		}
		changes[i] = spec.check(it, targets[i])
	}
	if single != 0 && !found[0] {
		problem(w, http.StatusNotFound, spec.notFound)
		return
	}
	if rejectInvalid(w, items) {
		return
	}
	out := make([]any, len(items))
	for i, it := range items {
		id, updated := spec.apply(targets[i], changes[i])
		out[i] = map[string]any{
			"id": id, "updated_at": updated, "request_id": it.reqID,
			"_links": map[string]any{"self": href(r, fmt.Sprintf("/api/v4/%s/%d", spec.entity, id))},
		}
	}
	if single != 0 {
		writeJSON(w, http.StatusOK, out[0])
		return
	}
	writeSaved(w, r, "/api/v4/"+spec.entity, spec.entity, out)
}
