package amofake_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/sandbox/amofake"
)

func TestMetadata_PipelinesCarryWonAndLostInEveryPipeline(t *testing.T) {
	f := newFake(t, amofake.Options{})
	pipelines := embedded(t, f.call("GET", "/api/v4/leads/pipelines", ""), "pipelines")
	if len(pipelines) != 2 {
		t.Fatalf("%d pipelines", len(pipelines))
	}
	for _, p := range pipelines {
		seen := map[float64]bool{}
		for _, st := range p["_embedded"].(map[string]any)["statuses"].([]any) {
			seen[st.(map[string]any)["id"].(float64)] = true
		}
		if !seen[142] || !seen[143] {
			t.Errorf("pipeline %v lacks 142/143", p["id"])
		}
	}
	acc := f.call("GET", "/api/v4/account", "").json(t)
	if acc["id"].(float64) != float64(amofake.AccountID) || acc["subdomain"] != "sandbox" {
		t.Errorf("account %v", acc)
	}
	if users := embedded(t, f.call("GET", "/api/v4/users", ""), "users"); len(users) != 1 {
		t.Errorf("users %v", users)
	}
	if cats := embedded(t, f.call("GET", "/api/v4/catalogs", ""), "catalogs"); cats[0]["type"] != "products" {
		t.Errorf("catalogs %v", cats)
	}
}

// Custom fields come in pages of at most 50 whatever the limit, and the
// last page has no next link; a page past the end is 204.
func TestCustomFields_PagesAreFollowedByNextLinks(t *testing.T) {
	f := newFake(t, amofake.Options{})
	for i := range 60 {
		f.srv.AddField("leads", fmt.Sprintf("Поле %d", i), "", "text")
	}
	path := "/api/v4/leads/custom_fields?limit=250"
	total, pages := 0, 0
	for path != "" {
		r := f.call("GET", path, "")
		total += len(embedded(t, r, "custom_fields"))
		pages++
		path = ""
		if next, ok := r.json(t)["_links"].(map[string]any)["next"].(map[string]any); ok {
			path = strings.TrimPrefix(next["href"].(string), f.http.URL)
		}
	}
	if total != 65 || pages != 2 {
		t.Errorf("%d fields in %d pages, want 65 in 2", total, pages)
	}
	mustStatus(t, f.call("GET", "/api/v4/leads/custom_fields?page=3", ""), http.StatusNoContent)
	catFields := embedded(t, f.call("GET", fmt.Sprintf("/api/v4/catalogs/%d/custom_fields", amofake.CatalogID), ""), "custom_fields")
	codes := map[string]string{}
	for _, cf := range catFields {
		if code, ok := cf["code"].(string); ok {
			codes[code] = cf["type"].(string)
		}
	}
	if codes["SKU"] != "text" || codes["PRICE"] != "price" {
		t.Errorf("catalog fields %v", codes)
	}
}

func TestLists_LimitAbove250IsCappedAndEmptyListsAre204(t *testing.T) {
	f := newFake(t, amofake.Options{})
	mustStatus(t, f.call("GET", "/api/v4/leads", ""), http.StatusNoContent)
	for i := range 6 {
		items := make([]string, 50)
		for j := range items {
			items[j] = fmt.Sprintf(`{"name":"n%d-%d"}`, i, j)
		}
		mustStatus(t, f.call("POST", "/api/v4/leads", "["+strings.Join(items, ",")+"]"), http.StatusOK)
	}
	if got := embedded(t, f.call("GET", "/api/v4/leads?limit=500", ""), "leads"); len(got) != 250 {
		t.Errorf("limit=500 gave %d", len(got))
	}
	if got := embedded(t, f.call("GET", "/api/v4/leads?limit=250&page=2", ""), "leads"); len(got) != 50 {
		t.Errorf("page 2 gave %d", len(got))
	}
	mustStatus(t, f.call("GET", "/api/v4/leads?limit=250&page=3", ""), http.StatusNoContent)
}

// The gateway counts requests per second: the 8th within one second is a
// 429 with an nginx HTML page and no Retry-After.
func TestRateLimit_EighthRequestInOneSecondIs429HTML(t *testing.T) {
	clk := newClock()
	f := newFake(t, amofake.Options{RPS: 7, Now: clk.Now})
	for i := range 7 {
		if r := f.call("GET", "/api/v4/account", ""); r.status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, r.status)
		}
	}
	r := f.call("GET", "/api/v4/account", "")
	mustStatus(t, r, http.StatusTooManyRequests)
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.body), "nginx") {
		t.Errorf("429 answer %q %s", r.header.Get("Content-Type"), r.body)
	}
	if r.header.Get("Retry-After") != "" {
		t.Error("429 carries Retry-After")
	}
	clk.Add(time.Second)
	mustStatus(t, f.call("GET", "/api/v4/account", ""), http.StatusOK)
	if f.srv.Count429() != 1 || f.srv.MaxPerSecond() != 8 {
		t.Errorf("429s %d, max per second %d", f.srv.Count429(), f.srv.MaxPerSecond())
	}
}

func TestRateLimit_ManyRefusalsBanTheAccountWith403HTML(t *testing.T) {
	clk := newClock()
	f := newFake(t, amofake.Options{RPS: 1, BanAfter429s: 3, BanDuration: time.Hour, Now: clk.Now})
	mustStatus(t, f.call("GET", "/api/v4/account", ""), http.StatusOK)
	for range 3 {
		mustStatus(t, f.call("GET", "/api/v4/account", ""), http.StatusTooManyRequests)
	}
	clk.Add(10 * time.Second)
	for _, path := range []string{"/api/v4/account", "/oauth2/access_token"} {
		r := f.call("GET", path, "")
		mustStatus(t, r, http.StatusForbidden)
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			t.Errorf("403 content type %q", r.header.Get("Content-Type"))
		}
	}
	if !f.srv.Banned() {
		t.Error("not banned")
	}
	clk.Add(time.Hour)
	mustStatus(t, f.call("GET", "/api/v4/account", ""), http.StatusOK)
}

func TestRateLimit_NegativeRPSDisablesTheLimit(t *testing.T) {
	f := newFake(t, amofake.Options{RPS: -1})
	for range 30 {
		mustStatus(t, f.call("GET", "/api/v4/account", ""), http.StatusOK)
	}
	if f.srv.Count429() != 0 || f.srv.MaxPerSecond() < 30 || len(f.srv.Requests()) != 30 {
		t.Errorf("429s %d, max/s %d, log %d", f.srv.Count429(), f.srv.MaxPerSecond(), len(f.srv.Requests()))
	}
}

func TestFault_GhostCreateAppliesThePostButLosesTheAnswer(t *testing.T) {
	f := newFake(t, amofake.Options{})
	f.srv.InjectFault(amofake.Fault{Method: "POST", Path: "/api/v4/leads", Kind: amofake.FaultGhost})
	r := f.call("POST", "/api/v4/leads", "["+validLead("512345678")+"]")
	mustStatus(t, r, http.StatusGatewayTimeout)
	if len(f.srv.Leads()) != 1 {
		t.Fatalf("ghost create stored %d leads", len(f.srv.Leads()))
	}
	// The fault was used up: the next POST is answered.
	mustStatus(t, f.call("POST", "/api/v4/leads", "["+validLead("2")+"]"), http.StatusOK)
}

func TestFault_GhostDropClosesTheConnectionAfterApplying(t *testing.T) {
	f := newFake(t, amofake.Options{})
	f.srv.InjectFault(amofake.Fault{Method: "POST", Path: "/api/v4/contacts", Kind: amofake.FaultGhostDrop})
	req, _ := http.NewRequest("POST", f.http.URL+"/api/v4/contacts", strings.NewReader(`[{"name":"x"}]`))
	req.Header.Set("Authorization", "Bearer "+f.token)
	if res, err := f.http.Client().Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("got an answer %d", res.StatusCode)
	}
	if len(f.srv.Contacts()) != 1 {
		t.Errorf("contacts %d, want 1", len(f.srv.Contacts()))
	}
}

func TestFault_StatusMalformedAnd429AreNotApplied(t *testing.T) {
	f := newFake(t, amofake.Options{})
	f.srv.InjectFault(amofake.Fault{Path: "/api/v4/leads", Kind: amofake.FaultStatus, Status: 502, Times: 2})
	f.srv.InjectFault(amofake.Fault{Path: "/api/v4/leads", Kind: amofake.FaultMalformed})
	f.srv.InjectFault(amofake.Fault{Path: "/api/v4/leads", Kind: amofake.Fault429})
	want := []int{502, 502, 200, 429, 200}
	for i, status := range want {
		r := f.call("POST", "/api/v4/leads", `[{"name":"x"}]`)
		mustStatus(t, r, status)
		if i == 2 && strings.HasSuffix(string(r.body), "}") {
			t.Errorf("malformed answer is valid-looking: %s", r.body)
		}
	}
	if n := len(f.srv.Leads()); n != 1 {
		t.Errorf("%d leads, want only the last one", n)
	}
	if f.srv.Banned() || f.srv.Count429() != 1 {
		t.Errorf("banned %v, 429s %d", f.srv.Banned(), f.srv.Count429())
	}
	log := f.srv.Requests()
	if log[0].Status != 502 || log[0].Fault != "status" || log[4].Status != 200 {
		t.Errorf("log %+v", log)
	}
}

func TestFault_PatternMatchesOnePathSegment(t *testing.T) {
	f := newFake(t, amofake.Options{})
	lead := createLead(t, f)
	f.srv.InjectFault(amofake.Fault{Method: "GET", Path: "/api/v4/leads/*/notes", Kind: amofake.FaultStatus, Status: 503})
	mustStatus(t, f.call("GET", "/api/v4/leads", ""), http.StatusOK)
	mustStatus(t, f.call("GET", fmt.Sprintf("/api/v4/leads/%d/notes", lead), ""), http.StatusServiceUnavailable)
}

func TestFault_DelayServesTheRequestLate(t *testing.T) {
	f := newFake(t, amofake.Options{})
	f.srv.InjectFault(amofake.Fault{Kind: amofake.FaultDelay, Delay: 20 * time.Millisecond})
	mustStatus(t, f.call("GET", "/api/v4/account", ""), http.StatusOK)
	if log := f.srv.Requests(); log[0].Fault != "delay" {
		t.Errorf("log %+v", log)
	}
}
