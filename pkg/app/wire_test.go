package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/runlock"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
	"kaspi-amocrm/pkg/sandbox/orders"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
	"kaspi-amocrm/pkg/web"
)

const (
	testSecret     = "d2b7c9e1f4a6083b5c7d9e1f2a4b6c8d"
	testKaspiToken = "kaspi-token-0123456789"
)

// site is one installation in a temporary app root, with .env pointing at
// an SQLite file there and at fake Kaspi and amoCRM servers.
type site struct {
	t        *testing.T
	root     string
	amo      *amofake.Server
	amoURL   string
	kaspi    *kaspifake.Server
	kaspiURL string
	dbCfg    store.Config
	access   string // the access token seeded into .env (if any)
	refresh  string
	extra    []string
}

func newSite(t *testing.T, withTokens bool, extra ...string) *site {
	t.Helper()
	return newSiteOn(t, store.DriverSQLite, withTokens, extra...)
}

// newSiteOn installs a site on a fresh database of the driver (MariaDB and
// PostgreSQL when their KA_TEST_*_DSN is set).
func newSiteOn(t *testing.T, driver string, withTokens bool, extra ...string) *site {
	t.Helper()
	s := &site{t: t, root: t.TempDir(), extra: extra}
	if driver == store.DriverSQLite {
		s.dbCfg = store.Config{Driver: store.DriverSQLite, SQLitePath: filepath.Join(s.root, "storage", "kaspi_amocrm.sqlite")}
	} else {
		_, s.dbCfg = storetest.OpenEmpty(t, driver)
	}
	s.amo = amofake.New(amofake.Options{RPS: -1})
	as := httptest.NewServer(s.amo)
	t.Cleanup(as.Close)
	s.amoURL = as.URL
	s.kaspi = kaspifake.New(kaspifake.Options{Token: testKaspiToken})
	ks := httptest.NewServer(s.kaspi)
	t.Cleanup(ks.Close)
	s.kaspiURL = ks.URL
	if withTokens {
		s.access, s.refresh, _ = s.amo.IssueTokens()
	}
	s.writeEnv()
	return s
}

func (s *site) writeEnv() {
	o := s.amo.Options()
	lines := []string{"DB_DRIVER=" + s.dbCfg.Driver}
	if s.dbCfg.Driver != store.DriverSQLite {
		lines = append(lines, "DB_HOST="+s.dbCfg.Host, "DB_PORT="+s.dbCfg.Port, "DB_NAME="+s.dbCfg.Name,
			"DB_USER="+s.dbCfg.User, "DB_PASS="+s.dbCfg.Pass)
	}
	lines = append(lines,
		"KASPI_API_BASE="+s.kaspiURL,
		"KASPI_API_TOKEN="+testKaspiToken,
		"AMO_SUBDOMAIN="+s.amoURL,
		"AMO_CLIENT_ID="+o.ClientID,
		"AMO_CLIENT_SECRET="+o.ClientSecret,
		"AMO_REDIRECT_URI="+o.RedirectURI,
		fmt.Sprintf("AMO_PIPELINE_ID=%d", amofake.PipelineID),
		fmt.Sprintf("AMO_STATUS_ID=%d", amofake.StatusNewOrder),
		"CRON_SECRET="+testSecret,
		"RUN_TIME_BUDGET_SECONDS=30",
	)
	if s.access != "" {
		lines = append(lines, "AMO_ACCESS_TOKEN="+s.access, "AMO_REFRESH_TOKEN="+s.refresh)
	}
	lines = append(lines, s.extra...)
	if err := os.WriteFile(filepath.Join(s.root, ".env"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		s.t.Fatal(err)
	}
}

func (s *site) opts() Options {
	return Options{Paths: At(s.root), Getenv: func(string) string { return "" }}
}

// db opens the site's database directly, for setup and assertions.
func (s *site) db() *store.DB {
	s.t.Helper()
	db, err := store.Open(context.Background(), s.dbCfg)
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { db.Close() })
	return db
}

func (s *site) migrate() {
	s.t.Helper()
	w := s.do(MigrateHandler(s.opts()), "GET", "/?token="+testSecret, nil)
	if w.Code != 200 {
		s.t.Fatalf("migrate: %d %s", w.Code, w.Body.String())
	}
}

// do sends one request and checks that no secret leaks into the answer.
func (s *site) do(h http.Handler, method, target string, body io.Reader, hdr ...string) *httptest.ResponseRecorder {
	s.t.Helper()
	r := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	answer := w.Body.String()
	for k, v := range w.Header() {
		answer += k + ":" + strings.Join(v, ",")
	}
	for _, secret := range []string{testSecret, testKaspiToken, s.access, s.refresh, s.amo.Options().ClientSecret} {
		if secret != "" && strings.Contains(answer, secret) {
			s.t.Fatalf("%s %s: the answer holds a secret: %q", method, target, answer)
		}
	}
	return w
}

func (s *site) addOrders(n int) []domain.Order {
	now := time.Now()
	os := orders.Generate(orders.Spec{N: n, Seed: 7, From: now.Add(-2 * time.Hour), To: now.Add(-time.Minute),
		States: []string{domain.StateNew}})
	s.kaspi.AddOrders(os)
	return os
}

// assertNoSecretInLogs reads every log file of the site.
func (s *site) assertNoSecretInLogs() {
	s.t.Helper()
	files, _ := filepath.Glob(filepath.Join(s.root, "logs", "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, secret := range []string{testSecret, testKaspiToken, s.access, s.refresh} {
			if secret != "" && bytes.Contains(b, []byte(secret)) {
				s.t.Fatalf("%s holds a secret", f)
			}
		}
	}
}

// migrate.cgi runs the migrations once and then answers the same version.
func TestMigrateHandler_MigratesThenIsANoOp(t *testing.T) {
	s := newSite(t, false)
	h := MigrateHandler(s.opts())
	if w := s.do(h, "GET", "/", nil); w.Code != 403 {
		t.Fatalf("no token: %d", w.Code)
	}
	if _, err := os.Stat(filepath.Join(s.root, "storage", "kaspi_amocrm.sqlite")); err == nil {
		t.Fatal("a request without a token opened the database")
	}
	w1 := s.do(h, "GET", "/?token="+testSecret, nil)
	w2 := s.do(h, "POST", "/", nil, "X-Cron-Token", testSecret)
	if w1.Code != 200 || !strings.HasPrefix(w1.Body.String(), "Migration OK: version ") || !strings.Contains(w1.Body.String(), "(sqlite)") {
		t.Fatalf("first: %d %q", w1.Code, w1.Body.String())
	}
	if w2.Body.String() != w1.Body.String() {
		t.Fatalf("second run differs: %q vs %q", w2.Body.String(), w1.Body.String())
	}
}

// Migrations held by another process: "busy", nothing done.
func TestMigrateHandler_BusyWhileAnotherMigrationRuns(t *testing.T) {
	s := newSite(t, false)
	s.migrate()
	db := s.db()
	// The lock store.Migrate takes before golang-migrate.
	release, ok, err := db.TryLock(context.Background(), "migrate")
	if err != nil || !ok {
		t.Fatalf("hold the migration lock: ok=%v err=%v", ok, err)
	}
	defer release()
	w := s.do(MigrateHandler(s.opts()), "GET", "/?token="+testSecret, nil)
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "Занято") {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

// Before migrate.cgi ran, cron.cgi refuses with the fix in Russian.
func TestCronHandler_SchemaBehindSaysOpenMigrate(t *testing.T) {
	s := newSite(t, true)
	w := s.do(CronHandler(s.opts()), "GET", "/?task=new&token="+testSecret, nil)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "migrate.cgi") {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

// task=new turns new orders into deals and answers "OK new: created N".
func TestCronHandler_NewCreatesDeals(t *testing.T) {
	for _, drv := range storetest.Drivers(t) {
		t.Run(drv, func(t *testing.T) { testCronNew(t, newSiteOn(t, drv, true)) })
	}
}

func testCronNew(t *testing.T, s *site) {
	s.migrate()
	s.addOrders(3)
	h := CronHandler(s.opts())
	w := s.do(h, "GET", "/?task=new", nil, "X-Cron-Token", testSecret)
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "OK new: created 3, pending 0") {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
	if n := len(s.amo.Leads()); n != 3 {
		t.Fatalf("amoCRM holds %d leads, want 3", n)
	}
	w = s.do(h, "GET", "/?task=reconcile&token="+testSecret, nil)
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "OK reconcile: created 0") {
		t.Fatalf("reconcile: %d %q", w.Code, w.Body.String())
	}
	w = s.do(h, "GET", "/?task=status&token="+testSecret, nil)
	if w.Code != 200 || w.Body.Len() == 0 {
		t.Fatalf("status: %d %q", w.Code, w.Body.String())
	}
	w = s.do(h, "GET", "/?task=status&format=json&token="+testSecret, nil)
	if w.Code != 200 || !json.Valid(w.Body.Bytes()) {
		t.Fatalf("status json: %d %q", w.Code, w.Body.String())
	}
	s.assertNoSecretInLogs()
}

// While another run holds the run lock, cron.cgi answers BUSY and makes
// no request to either API.
func TestCronHandler_BusyWhileAnotherRunHoldsTheLock(t *testing.T) {
	s := newSite(t, true)
	s.migrate()
	s.addOrders(2)
	release, ok, err := runlock.TryAcquire(context.Background(), filepath.Join(s.root, "storage"), nil)
	if err != nil || !ok {
		t.Fatalf("hold lock: %v %v", ok, err)
	}
	before := s.kaspi.RequestCount()
	w := s.do(CronHandler(s.opts()), "GET", "/?task=new&token="+testSecret, nil)
	release()
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != "BUSY" {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
	if s.kaspi.RequestCount() != before || len(s.amo.Leads()) != 0 {
		t.Fatal("a busy run did work")
	}
}

// A wrong token is 403 before the database is even opened.
func TestCronHandler_WrongTokenDoesNothing(t *testing.T) {
	s := newSite(t, true)
	w := s.do(CronHandler(s.opts()), "GET", "/?task=new&token=guess", nil)
	if w.Code != 403 {
		t.Fatalf("got %d", w.Code)
	}
	if _, err := os.Stat(filepath.Join(s.root, "storage", "kaspi_amocrm.sqlite")); err == nil {
		t.Fatal("the database was opened")
	}
}

// The example CRON_SECRET of .env.example refuses everything and says what to set.
func TestCronHandler_ExampleSecretRefusesAll(t *testing.T) {
	s := newSite(t, true, "CRON_SECRET=change_this_strong_random")
	w := s.do(CronHandler(s.opts()), "GET", "/?task=new&token=change_this_strong_random", nil)
	if w.Code != 403 || !strings.Contains(w.Body.String(), "CRON_SECRET") {
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

func hostOf(raw string) string { u, _ := url.Parse(raw); return u.Host }

// The whole OAuth flow: start issues a state and redirects to amoCRM; the
// callback with that state exchanges the code at the configured base,
// checks the account and stores the pair.
func TestOAuth_StartThenCallbackSavesTokens(t *testing.T) {
	s := newSite(t, false)
	s.migrate()
	h := OAuthHandler(s.opts())
	if w := s.do(h, "GET", "/?start=1", nil); w.Code != 403 {
		t.Fatalf("start without token: %d", w.Code)
	}
	u, state := locationState(t, s.do(h, "GET", "/?start=1&token="+testSecret, nil))
	if u.Scheme+"://"+u.Host+u.Path != "https://www.amocrm.ru/oauth" || state == "" ||
		u.Query().Get("client_id") != s.amo.Options().ClientID || u.Query().Get("mode") != "post_message" {
		t.Fatalf("redirect %s", u)
	}
	code := s.amo.IssueCode()
	w := s.do(h, "GET", "/?code="+code+"&referer="+hostOf(s.amoURL)+"&state="+state, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Токены сохранены") {
		t.Fatalf("callback: %d %q", w.Code, w.Body.String())
	}
	tok, err := s.db().Token(context.Background(), "amocrm")
	if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("stored token: %+v %v", tok, err)
	}
	if strings.Contains(w.Body.String(), tok.AccessToken) {
		t.Fatal("the page shows the token")
	}
	// The state is used up.
	w = s.do(h, "GET", "/?code="+s.amo.IssueCode()+"&referer="+hostOf(s.amoURL)+"&state="+state, nil)
	if w.Code != 403 {
		t.Fatalf("reused state: %d %q", w.Code, w.Body.String())
	}
	s.assertNoSecretInLogs()
}

// States, referer and method rules of the callback.
func TestOAuth_CallbackRules(t *testing.T) {
	s := newSite(t, false)
	s.migrate()
	h := OAuthHandler(s.opts())
	ref := hostOf(s.amoURL)
	_, state := locationState(t, s.do(h, "GET", "/?start=1&token="+testSecret, nil))

	cases := []struct {
		name, target string
		want         int
	}{
		{"forged state", "/?code=" + s.amo.IssueCode() + "&referer=" + ref + "&state=forged", 403},
		{"missing state while a flow is pending", "/?code=" + s.amo.IssueCode() + "&referer=" + ref, 403},
		{"referer of another host", "/?code=" + s.amo.IssueCode() + "&referer=evil.amocrm.ru&state=" + state, 403},
		{"no code", "/?referer=" + ref, 400},
		{"owner refused", "/?error=access_denied", 400},
	}
	for _, c := range cases {
		if w := s.do(h, "GET", c.target, nil); w.Code != c.want {
			t.Errorf("%s: %d %q, want %d", c.name, w.Code, w.Body.String(), c.want)
		}
	}
	if w := s.do(h, "POST", "/?code=x", nil); w.Code != 405 {
		t.Errorf("POST: %d", w.Code)
	}
	if _, err := s.db().Token(context.Background(), "amocrm"); err == nil {
		t.Fatal("a refused callback stored tokens")
	}
	// The widget install form has no state and is accepted.
	w := s.do(h, "GET", "/?code="+s.amo.IssueCode()+"&referer="+ref+"&from_widget=1", nil)
	if w.Code != 200 {
		t.Fatalf("widget: %d %q", w.Code, w.Body.String())
	}
}

// An expired or reused code is summarised; amoCRM's answer is not shown.
func TestOAuth_ExchangeErrorIsSummarised(t *testing.T) {
	s := newSite(t, false)
	s.migrate()
	h := OAuthHandler(s.opts())
	w := s.do(h, "GET", "/?code=def50200notacode&referer="+hostOf(s.amoURL), nil)
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
	s := newSite(t, false)
	s.migrate()
	lz := &lazyEnv{o: s.opts(), need: NeedOAuth}
	defer lz.close()
	h := &web.OAuth{Secret: testSecret, ClientID: s.amo.Options().ClientID, BaseURL: s.amoURL,
		Subdomain: "shop", Backend: &oauthBackend{lz: lz}}
	w := s.do(h, "GET", "/?code="+s.amo.IssueCode()+"&referer="+hostOf(s.amoURL), nil)
	if w.Code != 403 || !strings.Contains(w.Body.String(), "sandbox") {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
	if _, err := s.db().Token(context.Background(), "amocrm"); err == nil {
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
		t.Run(drv, func(t *testing.T) { testMappingAPI(t, newSiteOn(t, drv, true)) })
	}
}

func testMappingAPI(t *testing.T, s *site) {
	s.migrate()
	h := MappingHandler(s.opts())
	sec := []string{"X-API-Secret", testSecret}
	get := func(q string) *httptest.ResponseRecorder { return s.do(h, "GET", "/?"+q, nil, sec...) }
	post := func(q, body string) *httptest.ResponseRecorder {
		return s.do(h, "POST", "/?"+q, strings.NewReader(body), append(sec, "Content-Type", "application/json")...)
	}

	if w := s.do(h, "GET", "/?action=get_stats", nil); w.Code != 403 || decode(t, w)["error"] != "Forbidden" {
		t.Fatalf("no secret: %d %q", w.Code, w.Body.String())
	}
	if w := s.do(h, "GET", "/?action=get_stats&token="+testSecret, nil); w.Code != 403 {
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
	if w := s.do(h, "PUT", "/?action=get_stats", nil, sec...); w.Code != 405 {
		t.Fatalf("PUT: %d", w.Code)
	}
	big := `{"kaspi_status":"` + strings.Repeat("A", 70<<10) + `"}`
	if w := post("action=upsert_mapping", big); w.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("big body: %d", w.Code)
	}
}

// Whatever placeholder .env.example ships for CRON_SECRET counts as unset.
func TestExampleSecret_OfEnvExampleIsRefused(t *testing.T) {
	b, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Skip(".env.example not found")
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
