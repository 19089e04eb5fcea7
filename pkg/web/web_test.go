package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/domain"
)

const secret = "9f3c1e7a5b2d4f6081a3c5e7b9d1f3a5"

// tasks records what cron.cgi asked for; it stands in for the runner,
// which the wiring tests exercise against a real database.
type tasks struct {
	ran     []string
	err     error
	res     domain.Result // with no err: the result of a run (default ok)
	report  string
	formats []string
}

func (t *tasks) Run(ctx context.Context, task string) (domain.Result, string, error) {
	t.ran = append(t.ran, task)
	if t.err != nil {
		return domain.ResultError, "", t.err
	}
	if t.res != "" {
		return t.res, "created 0, set aside 3. Причина: first", nil
	}
	return domain.ResultOK, "created 2, pending 0", nil
}

func (t *tasks) Status(ctx context.Context, format string) (string, error) {
	t.formats = append(t.formats, format)
	switch format {
	case "json":
		return `{"ok":true}`, nil
	case "html":
		return "<!doctype html><title>x</title>", nil
	}
	return t.report, nil
}

func do(h http.Handler, method, target string, body io.Reader, hdr ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func assertNoSecret(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	all := w.Body.String()
	for k, v := range w.Header() {
		all += k + strings.Join(v, "")
	}
	if strings.Contains(all, secret) {
		t.Fatalf("answer echoes the secret: %q", all)
	}
}

// A wrong, missing or unset secret is 403 and nothing runs.
func TestCron_SecretGuardsEveryTask(t *testing.T) {
	cases := []struct {
		name, cfgSecret, target string
		hdr                     []string
		wantBody                string
	}{
		{"missing token", secret, "/?task=new", nil, "Forbidden"},
		{"wrong token", secret, "/?task=new&token=" + secret[:len(secret)-1] + "x", nil, "Forbidden"},
		{"wrong header", secret, "/?task=new", []string{"X-Cron-Token", "nope"}, "Forbidden"},
		{"empty secret", "", "/?task=new&token=", nil, "CRON_SECRET"},
		{"example secret", "change_me", "/?task=new&token=change_me", nil, "CRON_SECRET"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tk := &tasks{}
			w := do(&Cron{Secret: c.cfgSecret, Tasks: tk}, "GET", c.target, nil, c.hdr...)
			if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), c.wantBody) {
				t.Fatalf("got %d %q, want 403 with %q", w.Code, w.Body.String(), c.wantBody)
			}
			if len(tk.ran) != 0 {
				t.Fatalf("a task ran: %v", tk.ran)
			}
			assertNoSecret(t, w)
		})
	}
}

// The token is accepted from the query, X-Cron-Token, Authorization: Bearer and a posted form.
func TestCron_TokenFromQueryHeaderBearerOrForm(t *testing.T) {
	for name, mk := range map[string]func() *http.Request{
		"query": func() *http.Request { return httptest.NewRequest("GET", "/?task=new&token="+secret, nil) },
		"header": func() *http.Request {
			r := httptest.NewRequest("GET", "/?task=new", nil)
			r.Header.Set("X-Cron-Token", secret)
			return r
		},
		"bearer": func() *http.Request {
			r := httptest.NewRequest("GET", "/?task=new", nil)
			r.Header.Set("Authorization", "Bearer "+secret)
			return r
		},
		"form": func() *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader("task=new&token="+secret))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		},
	} {
		t.Run(name, func(t *testing.T) {
			tk := &tasks{}
			w := httptest.NewRecorder()
			(&Cron{Secret: secret, Tasks: tk}).ServeHTTP(w, mk())
			if w.Code != 200 || w.Body.String() != "OK new: created 2, pending 0\n" {
				t.Fatalf("got %d %q", w.Code, w.Body.String())
			}
			if got := w.Header().Get("Content-Type"); got != "text/plain; charset=utf-8" {
				t.Fatalf("content type %q", got)
			}
			assertNoSecret(t, w)
		})
	}
}

// A held lock answers BUSY with 200; an unknown task 400; other methods 405.
func TestCron_BusyUnknownTaskAndMethods(t *testing.T) {
	tk := &tasks{err: fmt.Errorf("run: %w", domain.ErrBusy)}
	h := &Cron{Secret: secret, Tasks: tk}
	if w := do(h, "GET", "/?task=reconcile&token="+secret, nil); w.Code != 200 || strings.TrimSpace(w.Body.String()) != "BUSY" {
		t.Fatalf("busy: %d %q", w.Code, w.Body.String())
	}
	if w := do(h, "GET", "/?task=drop_tables&token="+secret, nil); w.Code != 400 {
		t.Fatalf("unknown task: %d", w.Code)
	}
	for _, m := range []string{"PUT", "DELETE", "PATCH"} {
		w := do(h, m, "/?task=new&token="+secret, nil)
		if w.Code != 405 || w.Header().Get("Allow") != "GET, POST" {
			t.Fatalf("%s: %d allow=%q", m, w.Code, w.Header().Get("Allow"))
		}
	}
	if len(tk.ran) != 1 {
		t.Fatalf("ran %v, want only the busy attempt", tk.ran)
	}
}

// A run stopped by an error answers 200 "ERROR new: ..." (an HTTP cron
// service matches the word), in Russian, naming the service, without the
// detail of an internal error.
func TestCron_ErrorsAreSummarised(t *testing.T) {
	detail := "dial tcp 10.0.0.5:3306: password=hunter2"
	for _, c := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("open: %s: %w", detail, ErrSchemaBehind), "migrate.cgi"},
		{fmt.Errorf("amocrm: %s: %w", detail, domain.ErrBanned), "amoCRM заблокировал"},
		{fmt.Errorf("fetch_new: %w", &serviceErr{"Kaspi", domain.ErrAuth}), "Kaspi не принял токен"},
		{fmt.Errorf("fetch_new: %w", &serviceErr{"amoCRM", domain.ErrAuth}), "amoCRM не принял авторизацию"},
		{fmt.Errorf("amocrm: GET /api/v4/users: %w", domain.ErrForbidden), "нет прав на этот запрос"},
		{errors.New(detail), "Внутренняя ошибка"},
		{fmt.Errorf("fetch_new: %w", &serviceErr{"база данных", errors.New(detail)}), "Ошибка базы данных"},
		{Public(500, "DB_DRIVER: не задан"), "DB_DRIVER"},
		{fmt.Errorf("fetch_new: create leads: %w", &domain.SettingError{Key: "AMO_PIPELINE_ID", Value: "7009999", Reason: "такой воронки нет"}),
			"AMO_PIPELINE_ID=7009999: такой воронки нет"},
	} {
		w := do(&Cron{Secret: secret, Tasks: &tasks{err: c.err}}, "GET", "/?task=new&token="+secret, nil)
		body := w.Body.String()
		if w.Code != 200 || !strings.HasPrefix(body, "ERROR new: ") || !strings.Contains(body, c.want) ||
			strings.Contains(body, "hunter2") || strings.Count(body, "\n") != 1 {
			t.Errorf("%v: got %d %q", c.err, w.Code, body)
		}
	}
}

// serviceErr names the service that failed, as the API clients' errors do.
type serviceErr struct {
	svc string
	err error
}

func (e *serviceErr) Error() string   { return e.svc + ": " + e.err.Error() }
func (e *serviceErr) Unwrap() error   { return e.err }
func (e *serviceErr) Service() string { return e.svc }

// A run that set orders aside answers WARN with the counts and the reason,
// still 200; from a shell it exits 1 (2 for a refused .env value).
func TestCron_WarnAnswerAndExitCodes(t *testing.T) {
	w := do(&Cron{Secret: secret, Tasks: &tasks{res: domain.ResultWarn}}, "GET", "/?task=new&token="+secret, nil)
	if w.Code != 200 || w.Body.String() != "WARN new: created 0, set aside 3. Причина: first\n" {
		t.Fatalf("warn: %d %q", w.Code, w.Body.String())
	}
	for _, c := range []struct {
		tk   *tasks
		want int
	}{
		{&tasks{}, 0},
		{&tasks{res: domain.ResultWarn}, 1},
		{&tasks{err: fmt.Errorf("x: %w", domain.ErrBanned)}, 1},
		{&tasks{err: fmt.Errorf("x: %w", &domain.SettingError{Key: "AMO_STATUS_ID", Value: "1", Reason: "нет"})}, 2},
	} {
		var out, errOut bytes.Buffer
		if code := ServeCLI(context.Background(), &Cron{Tasks: c.tk}, []string{"task=new"}, nil, &out, &errOut); code != c.want {
			t.Errorf("%+v: exit %d, want %d (%q %q)", c.tk, code, c.want, out.String(), errOut.String())
		}
	}
}

// status returns the report as text, JSON with format=json, and HTML when
// a browser asks (Accept: text/html), never cached.
func TestCron_StatusTextJSONOrHTML(t *testing.T) {
	tk := &tasks{report: "Последние запуски: …"}
	h := &Cron{Secret: secret, Tasks: tk}
	w := do(h, "GET", "/?task=status&token="+secret, nil)
	if w.Code != 200 || !strings.Contains(w.Body.String(), "Последние запуски") || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("text: %d %q", w.Code, w.Body.String())
	}
	w = do(h, "GET", "/?task=status&format=json&token="+secret, nil)
	if w.Code != 200 || !json.Valid(w.Body.Bytes()) || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("json: %d %q", w.Code, w.Body.String())
	}
	w = do(h, "GET", "/?task=status&token="+secret, nil, "Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8")
	if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") || w.Header().Get("Cache-Control") != "no-store" ||
		!strings.Contains(w.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("html: %d %v", w.Code, w.Header())
	}
	if w := do(h, "GET", "/?task=status", nil, "Accept", "text/html"); w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), "<") {
		t.Fatalf("html without the secret: %d %q", w.Code, w.Body.String())
	}
	if strings.Join(tk.formats, ",") != "text,json,html" {
		t.Fatalf("formats asked: %v", tk.formats)
	}
}

// A body over the bound is refused before the handler reads the token.
func TestCron_BodyIsBounded(t *testing.T) {
	big := "task=new&pad=" + strings.Repeat("x", maxFormBody+10) + "&token=" + secret
	r := httptest.NewRequest("POST", "/", strings.NewReader(big))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	tk := &tasks{}
	(&Cron{Secret: secret, Tasks: tk}).ServeHTTP(w, r)
	if w.Code != http.StatusRequestEntityTooLarge || len(tk.ran) != 0 {
		t.Fatalf("got %d, ran %v", w.Code, tk.ran)
	}
}

type migrator struct {
	version uint
	err     error
	calls   int
}

func (m *migrator) Migrate(ctx context.Context) (uint, string, error) {
	m.calls++
	return m.version, "sqlite", m.err
}

// migrate.cgi needs the secret, answers the version, says busy and shows the fix.
func TestMigrate_Answers(t *testing.T) {
	m := &migrator{version: 7}
	h := &Migrate{Secret: secret, Migrator: m}
	if w := do(h, "GET", "/", nil); w.Code != 403 || m.calls != 0 {
		t.Fatalf("no token: %d calls=%d", w.Code, m.calls)
	}
	if w := do(h, "POST", "/", nil, "X-Cron-Token", secret); w.Code != 200 || w.Body.String() != "Migration OK: version 7 (sqlite)\n" {
		t.Fatalf("ok: %d %q", w.Code, w.Body.String())
	}
	if w := do(h, "DELETE", "/?token="+secret, nil); w.Code != 405 {
		t.Fatalf("delete: %d", w.Code)
	}
	m.err = fmt.Errorf("migrate: %w", domain.ErrBusy)
	if w := do(h, "GET", "/?token="+secret, nil); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "Занято") {
		t.Fatalf("busy: %d %q", w.Code, w.Body.String())
	}
	m.err = errors.New("version 3 is dirty: run UPDATE schema_migrations SET dirty=false after fixing")
	if w := do(h, "GET", "/?token="+secret, nil); w.Code != 500 || !strings.Contains(w.Body.String(), "dirty") {
		t.Fatalf("error: %d %q", w.Code, w.Body.String())
	}
}

// A panic becomes a plain 500 without a stack trace.
func TestRecover_PlainInternalError(t *testing.T) {
	h := Recover(nil, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("boom at main.go:12") }))
	w := do(h, "GET", "/", nil)
	if w.Code != 500 || strings.Contains(w.Body.String(), "main.go") {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

// From a shell, arguments become the query, no token is needed, and the
// exit code follows the status.
func TestServeCLI_ArgumentsBecomeTheRequest(t *testing.T) {
	tk := &tasks{}
	var out, errOut bytes.Buffer
	code := ServeCLI(context.Background(), &Cron{Secret: "", Tasks: tk}, []string{"task=new"}, nil, &out, &errOut)
	if code != 0 || out.String() != "OK new: created 2, pending 0\n" {
		t.Fatalf("code %d out %q err %q", code, out.String(), errOut.String())
	}
	out.Reset()
	code = ServeCLI(context.Background(), &Cron{Secret: secret, Tasks: tk}, []string{"--task=bogus"}, nil, &out, &errOut)
	if code != 1 || !strings.Contains(errOut.String(), "Неизвестная задача") {
		t.Fatalf("code %d err %q", code, errOut.String())
	}
}

// A request that fails on a bad .env exits 2 with the lines, as every
// other program does; any other failure exits 1, whatever its status.
func TestServeCLI_BadConfigExitsTwo(t *testing.T) {
	badEnv := &PublicError{Status: http.StatusInternalServerError, Msg: "AMO_MAX_RPS: expected 1..7", Err: ErrConfig}
	for _, c := range []struct {
		name string
		h    http.Handler
		want int
	}{
		{"setup", PerRequest(nil, func(context.Context) (http.Handler, func(), error) { return nil, nil, badEnv }), 2},
		{"task", &Cron{Tasks: &tasks{err: badEnv}}, 2},
		{"mapping", &Mapping{Backend: failingMappings{err: badEnv}}, 2},
		{"crash", &Cron{Tasks: &tasks{err: errors.New("disk full")}}, 1},
		{"public non-config", &Cron{Tasks: &tasks{err: Public(http.StatusInternalServerError, "broken")}}, 1},
	} {
		var out, errOut bytes.Buffer
		args := []string{"task=new"}
		if _, ok := c.h.(*Mapping); ok {
			args = []string{"action=get_mappings"}
		}
		code := ServeCLI(context.Background(), c.h, args, nil, &out, &errOut)
		if code != c.want {
			t.Errorf("%s: exit %d, want %d (err %q)", c.name, code, c.want, errOut.String())
		}
		if c.want == 2 && !strings.Contains(errOut.String(), "AMO_MAX_RPS") {
			t.Errorf("%s: the key is not named: %q", c.name, errOut.String())
		}
	}
}

// failingMappings fails the mapping list with err.
type failingMappings struct {
	MappingBackend
	err error
}

func (f failingMappings) StatusMappings(context.Context) ([]domain.StatusMapping, error) {
	return nil, f.err
}

// A trusted (shell) context never leaks into HTTP requests.
func TestTrusted_OnlyFromTheCommandLine(t *testing.T) {
	r := httptest.NewRequest("GET", "/?trusted=1", nil)
	r.Header.Set("X-Trusted", "1")
	if isTrusted(r) {
		t.Fatal("an HTTP request counted as trusted")
	}
}

func TestSameHost(t *testing.T) {
	for _, c := range []struct {
		ref, base string
		want      bool
	}{
		{"shop.amocrm.ru", "https://shop.amocrm.ru", true},
		{"SHOP.amocrm.ru", "https://shop.amocrm.ru", true},
		{"https://shop.amocrm.ru/", "https://shop.amocrm.ru", true},
		{"127.0.0.1:8081", "http://127.0.0.1:8081", true},
		{"127.0.0.1", "http://127.0.0.1:8081", true},
		{"127.0.0.1:9999", "http://127.0.0.1:8081", false},
		{"other.amocrm.ru", "https://shop.amocrm.ru", false},
		{"shop.amocrm.ru.evil.com", "https://shop.amocrm.ru", false},
		{"", "https://shop.amocrm.ru", false},
	} {
		if got := sameHost(c.ref, c.base); got != c.want {
			t.Errorf("sameHost(%q, %q) = %v", c.ref, c.base, got)
		}
	}
}

func TestAuthorizeURL_KommoForKommoAccounts(t *testing.T) {
	if got := AuthorizeURL("https://shop.kommo.com"); got != "https://www.kommo.com/oauth" {
		t.Errorf("kommo: %s", got)
	}
	if got := AuthorizeURL("https://shop.amocrm.ru"); got != "https://www.amocrm.ru/oauth" {
		t.Errorf("amocrm: %s", got)
	}
	// The sandbox on loopback serves its own authorize page.
	for base, want := range map[string]string{"http://127.0.0.1:8081": "http://127.0.0.1:8081/oauth",
		"http://localhost:9/": "http://localhost:9/oauth", "127.0.0.1:7": "http://127.0.0.1:7/oauth"} {
		if got := AuthorizeURL(base); got != want {
			t.Errorf("%s: %s, want %s", base, got, want)
		}
	}
}

// get_kaspi_statuses lists every real state and status.
func TestKaspiValues_RealStatesAndStatuses(t *testing.T) {
	got := strings.Join(KaspiValues(), ",")
	for _, v := range []string{"NEW", "SIGN_REQUIRED", "KASPI_DELIVERY", "ARCHIVE", "APPROVED_BY_BANK", "CANCELLING", "KASPI_DELIVERY_RETURN_REQUESTED", "RETURNED"} {
		if !strings.Contains(got, v) {
			t.Errorf("missing %s", v)
		}
	}
	if strings.Contains(got, "CANCELLED_BY_CUSTOMER") {
		t.Error("an invented value is listed")
	}
}

// fixedPipelines answers get_amo_pipelines with ps as amoCRM listed them.
type fixedPipelines struct {
	MappingBackend
	ps []Pipeline
}

func (f fixedPipelines) Pipelines(context.Context) ([]Pipeline, error) { return f.ps, nil }

// get_amo_pipelines answers [{id, name, sort, color, statuses: [{id,
// name, sort, color}]}], pipelines and statuses sorted by sort then id,
// every key present as in the PHP version.
func TestMapping_PipelinesSortedBySortThenID(t *testing.T) {
	ps := []Pipeline{
		{ID: 30, Name: "C", Sort: 2, Statuses: []PipelineStatus{}},
		{ID: 20, Name: "B", Sort: 1, Statuses: []PipelineStatus{
			{ID: 143, Name: "Lost", Sort: 11000, Color: "#D5D8DB"},
			{ID: 7, Name: "New", Sort: 20, Color: "#99ccff"},
			{ID: 5, Name: "Incoming", Sort: 20, Color: "#c1c1c1"},
		}},
		{ID: 10, Name: "A", Sort: 2, Statuses: []PipelineStatus{}},
	}
	h := &Mapping{Secret: secret, Backend: fixedPipelines{ps: ps}}
	w := do(h, "GET", "/?action=get_amo_pipelines", nil, "X-API-Secret", secret)
	want := `{"data":[` +
		`{"id":20,"name":"B","sort":1,"color":"","statuses":[` +
		`{"id":5,"name":"Incoming","sort":20,"color":"#c1c1c1"},` +
		`{"id":7,"name":"New","sort":20,"color":"#99ccff"},` +
		`{"id":143,"name":"Lost","sort":11000,"color":"#D5D8DB"}]},` +
		`{"id":10,"name":"A","sort":2,"color":"","statuses":[]},` +
		`{"id":30,"name":"C","sort":2,"color":"","statuses":[]}],"success":true}` + "\n"
	if w.Code != 200 || w.Body.String() != want {
		t.Fatalf("got %d\n%s\nwant\n%s", w.Code, w.Body.String(), want)
	}
}
