package endpoints

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/apptest"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/store/storetest"
	"kaspi-amocrm/pkg/web"
)

const testSecret = apptest.Secret

func opts(s *apptest.Site) app.Options {
	return app.Options{Paths: app.At(s.Root), Getenv: apptest.Getenv}
}

func hostOf(raw string) string { u, _ := url.Parse(raw); return u.Host }

// migrate.cgi runs the migrations once and then answers the same version.
func TestMigrateHandler_MigratesThenIsANoOp(t *testing.T) {
	s := apptest.New(t, false)
	h := MigrateHandler(opts(s))
	if w := s.Do(h, "GET", "/", nil); w.Code != 403 {
		t.Fatalf("no token: %d", w.Code)
	}
	if _, err := os.Stat(filepath.Join(s.Root, "storage", "kaspi_amocrm.sqlite")); err == nil {
		t.Fatal("a request without a token opened the database")
	}
	w1 := s.Do(h, "GET", "/?token="+testSecret, nil)
	w2 := s.Do(h, "POST", "/", nil, "X-Cron-Token", testSecret)
	if w1.Code != 200 || !strings.HasPrefix(w1.Body.String(), "Migration OK: version ") || !strings.Contains(w1.Body.String(), "(sqlite)") {
		t.Fatalf("first: %d %q", w1.Code, w1.Body.String())
	}
	if w2.Body.String() != w1.Body.String() {
		t.Fatalf("second run differs: %q vs %q", w2.Body.String(), w1.Body.String())
	}
}

// Migrations held by another process: "busy", nothing done.
func TestMigrateHandler_BusyWhileAnotherMigrationRuns(t *testing.T) {
	s := apptest.New(t, false)
	s.Migrate()
	db := s.DB()
	// The lock store.Migrate takes before golang-migrate.
	release, ok, err := db.TryLock(context.Background(), "migrate")
	if err != nil || !ok {
		t.Fatalf("hold the migration lock: ok=%v err=%v", ok, err)
	}
	defer release()
	w := s.Do(MigrateHandler(opts(s)), "GET", "/?token="+testSecret, nil)
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "Занято") {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

// Before migrate.cgi ran, the endpoints refuse with the fix in Russian.
func TestMappingHandler_SchemaBehindSaysOpenMigrate(t *testing.T) {
	s := apptest.New(t, true)
	w := s.Do(MappingHandler(opts(s)), "GET", "/?action=get_stats", nil, "X-API-Secret", testSecret)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "migrate.cgi") {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

func locationState(t *testing.T, w *httptest.ResponseRecorder) (*url.URL, string) {
	t.Helper()
	if w.Code != http.StatusFound {
		t.Fatalf("start: %d %q", w.Code, w.Body.String())
	}
	u, err := url.Parse(w.Header().Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u, u.Query().Get("state")
}

// The whole OAuth flow: start issues a state and redirects to the authorize
// page (the sandbox's own for a loopback account); the
// callback with that state exchanges the code at the configured base,
// checks the account and stores the pair.
func TestOAuth_StartThenCallbackSavesTokens(t *testing.T) {
	s := apptest.New(t, false)
	s.Migrate()
	h := OAuthHandler(opts(s))
	if w := s.Do(h, "GET", "/?start=1", nil); w.Code != 403 {
		t.Fatalf("start without token: %d", w.Code)
	}
	u, state := locationState(t, s.Do(h, "GET", "/?start=1&token="+testSecret, nil))
	// The fake amoCRM is on loopback, so the authorize page is the sandbox's.
	if u.Scheme+"://"+u.Host+u.Path != s.AmoURL+"/oauth" || state == "" ||
		u.Query().Get("client_id") != s.Amo.Options().ClientID || u.Query().Get("mode") != "post_message" {
		t.Fatalf("redirect %s", u)
	}
	code := s.Amo.IssueCode()
	w := s.Do(h, "GET", "/?code="+code+"&referer="+hostOf(s.AmoURL)+"&state="+state, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Токены сохранены") {
		t.Fatalf("callback: %d %q", w.Code, w.Body.String())
	}
	tok, err := s.DB().Token(context.Background(), "amocrm")
	if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("stored token: %+v %v", tok, err)
	}
	if strings.Contains(w.Body.String(), tok.AccessToken) {
		t.Fatal("the page shows the token")
	}
	// The state is used up.
	w = s.Do(h, "GET", "/?code="+s.Amo.IssueCode()+"&referer="+hostOf(s.AmoURL)+"&state="+state, nil)
	if w.Code != 403 {
		t.Fatalf("reused state: %d %q", w.Code, w.Body.String())
	}
	s.AssertNoSecretInLogs()
}

// States, referer and method rules of the callback.
func TestOAuth_CallbackRules(t *testing.T) {
	s := apptest.New(t, false)
	s.Migrate()
	h := OAuthHandler(opts(s))
	ref := hostOf(s.AmoURL)
	_, state := locationState(t, s.Do(h, "GET", "/?start=1&token="+testSecret, nil))

	cases := []struct {
		name, target string
		want         int
	}{
		{"forged state", "/?code=" + s.Amo.IssueCode() + "&referer=" + ref + "&state=forged", 403},
		{"missing state while a flow is pending", "/?code=" + s.Amo.IssueCode() + "&referer=" + ref, 403},
		{"referer of another host", "/?code=" + s.Amo.IssueCode() + "&referer=evil.amocrm.ru&state=" + state, 403},
		{"no code", "/?referer=" + ref, 400},
		{"owner refused", "/?error=access_denied", 400},
	}
	for _, c := range cases {
		if w := s.Do(h, "GET", c.target, nil); w.Code != c.want {
			t.Errorf("%s: %d %q, want %d", c.name, w.Code, w.Body.String(), c.want)
		}
	}
	if w := s.Do(h, "POST", "/?code=x", nil); w.Code != 405 {
		t.Errorf("POST: %d", w.Code)
	}
	if _, err := s.DB().Token(context.Background(), "amocrm"); err == nil {
		t.Fatal("a refused callback stored tokens")
	}
	// The widget install form has no state and is accepted (a few
	// seconds after the refused attempt above used the exchange slot).
	os.Remove(filepath.Join(s.Storage(), "oauth_exchange"))
	w := s.Do(h, "GET", "/?code="+s.Amo.IssueCode()+"&referer="+ref+"&from_widget=1", nil)
	if w.Code != 200 {
		t.Fatalf("widget: %d %q", w.Code, w.Body.String())
	}
}

// An expired or reused code is summarised; amoCRM's answer is not shown.
func TestOAuth_ExchangeErrorIsSummarised(t *testing.T) {
	s := apptest.New(t, false)
	s.Migrate()
	h := OAuthHandler(opts(s))
	w := s.Do(h, "GET", "/?code=def50200notacodenotacodenotacode&referer="+hostOf(s.AmoURL), nil)
	if w.Code != http.StatusBadGateway || !strings.Contains(w.Body.String(), "отклонил код") {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
	if strings.Contains(w.Body.String(), "{") || strings.Contains(w.Body.String(), "detail") {
		t.Fatalf("amoCRM's body leaked: %q", w.Body.String())
	}
}

// Tokens of another account (AMO_SUBDOMAIN names "shop", the tokens are
// the sandbox account's) are refused and not stored.
func TestOAuth_ForeignAccountIsRefused(t *testing.T) {
	s := apptest.New(t, false)
	s.Migrate()
	lz := &Lazy{o: opts(s), Need: app.NeedOAuth}
	defer lz.Close()
	h := &web.OAuth{Secret: testSecret, ClientID: s.Amo.Options().ClientID, BaseURL: s.AmoURL,
		Subdomain: "shop", Backend: &oauthBackend{lz: lz}}
	w := s.Do(h, "GET", "/?code="+s.Amo.IssueCode()+"&referer="+hostOf(s.AmoURL), nil)
	if w.Code != 403 || !strings.Contains(w.Body.String(), "sandbox") {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
	if _, err := s.DB().Token(context.Background(), "amocrm"); err == nil {
		t.Fatal("foreign tokens were stored")
	}
}

func decode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %q", w.Body.String())
	}
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("content type %q", w.Header().Get("Content-Type"))
	}
	return m
}

// The PHP version's mapping API: same actions, payloads and status codes.
func TestMappingAPI_PHPActions(t *testing.T) {
	for _, drv := range storetest.Drivers(t) {
		t.Run(drv, func(t *testing.T) { testMappingAPI(t, apptest.NewOn(t, drv, true)) })
	}
}

func testMappingAPI(t *testing.T, s *apptest.Site) {
	s.Migrate()
	h := MappingHandler(opts(s))
	sec := []string{"X-API-Secret", testSecret}
	get := func(q string) *httptest.ResponseRecorder { return s.Do(h, "GET", "/?"+q, nil, sec...) }
	post := func(q, body string) *httptest.ResponseRecorder {
		return s.Do(h, "POST", "/?"+q, strings.NewReader(body), append(sec, "Content-Type", "application/json")...)
	}

	if w := s.Do(h, "GET", "/?action=get_stats", nil); w.Code != 403 || decode(t, w)["error"] != "Forbidden" {
		t.Fatalf("no secret: %d %q", w.Code, w.Body.String())
	}
	if w := s.Do(h, "GET", "/?action=get_stats&token="+testSecret, nil); w.Code != 403 {
		t.Fatalf("token= is not the mapping API's secret: %d", w.Code)
	}
	w := post("action=upsert_mapping", fmt.Sprintf(`{"kaspi_status":"COMPLETED","amo_pipeline_id":%d,"amo_status_id":142}`, amofake.PipelineID))
	if w.Code != 200 || decode(t, w)["success"] != true {
		t.Fatalf("upsert: %d %q", w.Code, w.Body.String())
	}
	id := decode(t, w)["data"].(map[string]any)["id"].(float64)
	// The legacy list form updates the same row (keyed on status and pipeline).
	w = post("action=upsert_mapping", fmt.Sprintf(`{"kaspi_status":"COMPLETED","amo_pipeline_id":"%d","amo_status_ids":[%d],"is_active":false}`, amofake.PipelineID, amofake.StatusConfirmed))
	if w.Code != 200 || decode(t, w)["data"].(map[string]any)["id"].(float64) != id {
		t.Fatalf("legacy upsert: %d %q", w.Code, w.Body.String())
	}
	if w := post("action=upsert_mapping", `{"kaspi_status":"COMPLETED","amo_pipeline_id":1,"amo_status_ids":[]}`); w.Code != 400 {
		t.Fatalf("empty list: %d", w.Code)
	}
	if w := post("action=upsert_mapping", `{"kaspi_status":"COMPLETED","amo_pipeline_id":1.5,"amo_status_id":1}`); w.Code != 400 {
		t.Fatalf("float pipeline: %d", w.Code)
	}
	if w := post("action=upsert_mapping", `{not json`); w.Code != 400 || decode(t, w)["error"] != "Invalid JSON body" {
		t.Fatalf("bad json: %d %q", w.Code, w.Body.String())
	}
	w = get(fmt.Sprintf("action=get_mappings&kaspi_status=COMPLETED&amo_pipeline_id=%d", amofake.PipelineID))
	rows := decode(t, w)["data"].([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["amo_status_id"].(float64) != float64(amofake.StatusConfirmed) ||
		rows[0].(map[string]any)["is_active"] != false {
		t.Fatalf("get_mappings: %q", w.Body.String())
	}
	w = get(fmt.Sprintf("action=get_amo_status_ids&kaspi_status=COMPLETED&amo_pipeline_id=%d", amofake.PipelineID))
	if got := decode(t, w)["data"].(map[string]any); got["amo_status_id"] != nil || len(got["amo_status_ids"].([]any)) != 0 {
		t.Fatalf("inactive row counted: %q", w.Body.String())
	}
	if w := post("action=toggle_mapping", fmt.Sprintf(`{"id":%d,"is_active":true}`, int64(id))); w.Code != 200 || decode(t, w)["data"] != true {
		t.Fatalf("toggle: %d %q", w.Code, w.Body.String())
	}
	w = get("action=get_stats")
	if st := decode(t, w)["data"].(map[string]any); st["total"].(float64) != 1 || st["active"].(float64) != 1 || st["inactive"].(float64) != 0 {
		t.Fatalf("stats: %q", w.Body.String())
	}
	w = get("action=get_kaspi_statuses")
	if !strings.Contains(w.Body.String(), `"APPROVED_BY_BANK"`) || !strings.Contains(w.Body.String(), `"ARCHIVE"`) {
		t.Fatalf("kaspi statuses: %q", w.Body.String())
	}
	w = get("action=get_amo_pipelines")
	ps := decode(t, w)["data"].([]any)
	if w.Code != 200 || len(ps) != 2 || ps[0].(map[string]any)["id"].(float64) != float64(amofake.PipelineID) ||
		len(ps[0].(map[string]any)["statuses"].([]any)) == 0 {
		t.Fatalf("pipelines: %d %q", w.Code, w.Body.String())
	}
	// sort and color are amoCRM's (the fake's fixture), not positions.
	main := ps[0].(map[string]any)
	first := main["statuses"].([]any)[0].(map[string]any)
	if main["sort"].(float64) != 1 || ps[1].(map[string]any)["sort"].(float64) != 2 || main["color"] != "" ||
		first["id"].(float64) != float64(amofake.StatusUnsorted) || first["sort"].(float64) != 10 || first["color"] != "#c1c1c1" {
		t.Fatalf("pipeline sort/color: %q", w.Body.String())
	}
	if w := post(fmt.Sprintf("action=delete_mapping&id=%d", int64(id)), ""); w.Code != 200 || decode(t, w)["data"] != true {
		t.Fatalf("delete: %d %q", w.Code, w.Body.String())
	}
	if w := post("action=delete_mapping&id=x", ""); w.Code != 400 {
		t.Fatalf("delete bad id: %d", w.Code)
	}
	if w := get("action=nope"); w.Code != 400 || decode(t, w)["error"] != "Unknown action query parameter value" {
		t.Fatalf("unknown: %d %q", w.Code, w.Body.String())
	}
	if w := get(""); w.Code != 400 || decode(t, w)["error"] != "Missing action query parameter" {
		t.Fatalf("missing: %d %q", w.Code, w.Body.String())
	}
	if w := s.Do(h, "PUT", "/?action=get_stats", nil, sec...); w.Code != 405 {
		t.Fatalf("PUT: %d", w.Code)
	}
	big := `{"kaspi_status":"` + strings.Repeat("A", 70<<10) + `"}`
	if w := post("action=upsert_mapping", big); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("big body: %d", w.Code)
	}
}

// Whatever placeholder .env.example ships for CRON_SECRET counts as unset.
func TestExampleSecret_OfEnvExampleIsRefused(t *testing.T) {
	b, err := os.ReadFile("../../../.env.example")
	if err != nil {
		t.Fatalf(".env.example: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "CRON_SECRET="); ok {
			v, _, _ = strings.Cut(v, "#")
			if !web.IsExampleSecret(strings.Trim(strings.TrimSpace(v), `"'`)) {
				t.Fatalf(".env.example's CRON_SECRET %q would open the endpoints", v)
			}
			return
		}
	}
}
