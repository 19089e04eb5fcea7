package sandbox

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

// adminIndex lists the admin endpoints (GET /_sandbox/).
var adminIndex = []string{
	"GET  /_sandbox/stats                      request counts of both fakes, most amoCRM requests in one second, 429s, ban",
	"GET  /_sandbox/orders                     orders in the fake Kaspi",
	"POST /_sandbox/orders/new?n=5             5 new orders created in the last 10 minutes",
	"POST /_sandbox/orders/status?code=&state=&status=[&reason=]   move an order in Kaspi",
	"GET  /_sandbox/leads|contacts|elements|links|notes             what is in the fake amoCRM",
	"GET  /_sandbox/requests                   the fake amoCRM's request log",
	"POST /_sandbox/leads/move?id=&pipeline_id=&status_id=          a manager's manual move",
	"POST /_sandbox/leads/delete?id=           a manager deletes a deal (also contacts/delete, elements/delete)",
	"POST /_sandbox/leads/field?id=&field_id=&value=               a manager types a value into a deal's field",
	"POST /_sandbox/fields/add?entity=leads&name=&type=text        a custom field added in the account's settings",
	"GET  /_sandbox/orders/sent-code?code=     the completion code Kaspi sent the buyer of an order",
	"POST /_sandbox/code                       a fresh authorization code",
	"POST /_sandbox/ban?seconds=60 | /_sandbox/unban",
	"POST /_sandbox/unpaid?on=1|0              the account is not paid (every API call 402) / paid again",
	"POST /_sandbox/fault?method=POST&path=/api/v4/leads&kind=ghost&times=1[&status=503][&delay_ms=2000]",
}

// adminHandler serves /_sandbox/...: not rate limited and not logged by
// the fake, so the demo can look without disturbing the numbers.
func (sb *Sandbox) adminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/_sandbox"), "/")
		get := r.Method == http.MethodGet
		post := r.Method == http.MethodPost
		switch {
		case name == "" && get:
			answer(w, adminIndex)
		case name == "stats" && get:
			answer(w, sb.stats())
		case name == "orders" && get:
			var all []domain.Order
			for _, k := range sb.KaspiStores {
				all = append(all, k.Orders()...)
			}
			answer(w, all)
		case name == "orders/new" && post:
			n, _ := strconv.Atoi(r.FormValue("n"))
			if n <= 0 || n > 1000 {
				n = 1
			}
			answer(w, map[string]any{"codes": sb.AddOrders(n, 10*time.Minute)})
		case name == "orders/status" && post:
			code, state, status := r.FormValue("code"), r.FormValue("state"), r.FormValue("status")
			kf := sb.storeOf(code)
			o, ok := kf.Order(code)
			if !ok {
				fail(w, http.StatusNotFound, "unknown order code")
				return
			}
			if state == "" {
				state = o.State
			}
			if status == "" {
				fail(w, http.StatusBadRequest, "status is required")
				return
			}
			if !known(state, domain.AllStates) || !known(status, domain.AllStatuses) {
				fail(w, http.StatusBadRequest, "unknown state or status")
				return
			}
			if err := kf.SetStatus(code, state, status, r.FormValue("reason")); err != nil {
				fail(w, http.StatusBadRequest, err.Error())
				return
			}
			o, _ = kf.Order(code)
			answer(w, o)
		case name == "leads" && get:
			answer(w, sb.Amo.Leads())
		case name == "contacts" && get:
			answer(w, sb.Amo.Contacts())
		case name == "elements" && get:
			answer(w, sb.Amo.Elements())
		case name == "links" && get:
			answer(w, sb.Amo.Links())
		case name == "notes" && get:
			answer(w, sb.Amo.Notes())
		case name == "requests" && get:
			answer(w, sb.Amo.Requests())
		case name == "leads/move" && post:
			done(w, sb.Amo.MoveLead(formInt(r, "id"), formInt(r, "pipeline_id"), formInt(r, "status_id")))
		case name == "leads/field" && post:
			done(w, sb.Amo.SetLeadField(formInt(r, "id"), formInt(r, "field_id"), r.FormValue("value")))
		case name == "fields/add" && post:
			entity, typ := r.FormValue("entity"), r.FormValue("type")
			if (entity != "leads" && entity != "contacts") || typ == "" || r.FormValue("name") == "" {
				fail(w, http.StatusBadRequest, "entity (leads or contacts), name and type are required")
				return
			}
			answer(w, map[string]int64{"id": sb.Amo.AddField(entity, r.FormValue("name"), "", typ)})
		case name == "orders/sent-code" && get:
			var code string
			ok := false
			for _, k := range sb.KaspiStores {
				if code, ok = k.SentCode(r.FormValue("code")); ok {
					break
				}
			}
			if !ok {
				fail(w, http.StatusNotFound, "no code sent for this order")
				return
			}
			answer(w, map[string]string{"code": code})
		case name == "leads/delete" && post:
			done(w, sb.Amo.DeleteLead(formInt(r, "id")))
		case name == "contacts/delete" && post:
			done(w, sb.Amo.DeleteContact(formInt(r, "id")))
		case name == "elements/delete" && post:
			done(w, sb.Amo.DeleteElement(formInt(r, "id")))
		case name == "code" && post:
			answer(w, map[string]string{"code": sb.Amo.IssueCode()})
		case name == "ban" && post:
			secs := formInt(r, "seconds")
			if secs <= 0 {
				secs = 60
			}
			sb.Amo.Ban(time.Duration(secs) * time.Second)
			answer(w, sb.stats())
		case name == "unban" && post:
			sb.Amo.Unban()
			answer(w, sb.stats())
		case name == "unpaid" && post:
			sb.Amo.SetPaymentRequired(r.FormValue("on") != "0")
			answer(w, sb.stats())
		case name == "fault" && post:
			f := amofake.Fault{
				Method: r.FormValue("method"), Path: r.FormValue("path"),
				Kind: amofake.FaultKind(r.FormValue("kind")), Times: int(formInt(r, "times")),
				Status: int(formInt(r, "status")), Delay: time.Duration(formInt(r, "delay_ms")) * time.Millisecond,
			}
			switch f.Kind {
			case amofake.FaultStatus, amofake.Fault429, amofake.FaultMalformed, amofake.FaultDelay,
				amofake.FaultGhost, amofake.FaultGhostDrop:
			default:
				fail(w, http.StatusBadRequest, "kind: status, 429, malformed, delay, ghost or ghost-drop")
				return
			}
			sb.Amo.InjectFault(f)
			answer(w, f)
		default:
			fail(w, http.StatusNotFound, "see GET /_sandbox/")
		}
	})
}

// Stats is what /_sandbox/stats reports.
type Stats struct {
	AmoRequests     int  `json:"amo_requests"`
	AmoMaxPerSecond int  `json:"amo_max_per_second"`
	Amo429          int  `json:"amo_429"`
	AmoBanned       bool `json:"amo_banned"`
	AmoTokenGrants  int  `json:"amo_token_grants"`
	AmoLeads        int  `json:"amo_leads"`
	AmoContacts     int  `json:"amo_contacts"`
	KaspiRequests   int  `json:"kaspi_requests"`
	KaspiOrders     int  `json:"kaspi_orders"`
	KaspiStores     int  `json:"kaspi_stores"`
}

func (sb *Sandbox) stats() Stats {
	st := sb.amoStats()
	for _, k := range sb.KaspiStores {
		st.KaspiRequests += k.RequestCount()
		st.KaspiOrders += len(k.Orders())
	}
	st.KaspiStores = len(sb.KaspiStores)
	return st
}

func (sb *Sandbox) amoStats() Stats {
	return Stats{
		AmoRequests: sb.Amo.RequestCount(), AmoMaxPerSecond: sb.Amo.MaxPerSecond(),
		Amo429: sb.Amo.Count429(), AmoBanned: sb.Amo.Banned(), AmoTokenGrants: sb.Amo.TokenGrants(),
		AmoLeads: len(sb.Amo.Leads()), AmoContacts: len(sb.Amo.Contacts()),
	}
}

func known(v string, list []string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func formInt(r *http.Request, key string) int64 {
	n, _ := strconv.ParseInt(r.FormValue(key), 10, 64)
	return n
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func fail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

func done(w http.ResponseWriter, err error) {
	if errors.Is(err, amofake.ErrUnknown) {
		fail(w, http.StatusNotFound, err.Error())
		return
	}
	if err != nil {
		fail(w, http.StatusBadRequest, err.Error())
		return
	}
	answer(w, map[string]bool{"ok": true})
}
