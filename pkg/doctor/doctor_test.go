package doctor

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/app/wiring"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/ratelimit"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
	"kaspi-amocrm/pkg/store"
)

const kaspiToken = "kaspi-test-token-0123456789abcdefghijklmn="

var goodHost = Host{KernelRelease: "5.10.0-28-amd64", Machine: "x86_64", GOOS: "linux", GOARCH: "amd64"}

// install is one installation under test: an app root with .env, a real
// SQLite store, and the two fakes.
type install struct {
	t     *testing.T
	root  string
	env   map[string]string
	amo   *amofake.Server
	kaspi *kaspifake.Server
	now   time.Time
	host  Host
	// site is the shop's web server; serve lists the paths it serves.
	site  *httptest.Server
	serve map[string]bool
	fix   bool
}

// newInstall sets up a healthy, fully configured installation: migrated
// database, authorised amoCRM, fresh successful runs.
func newInstall(t *testing.T) *install {
	t.Helper()
	in := &install{t: t, root: t.TempDir(), now: time.Now(), host: goodHost}
	// The shop's site: answers 404 for the private files unless a test
	// makes it serve them.
	in.site = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if in.serve[r.URL.Path] {
			w.Write([]byte("DB_DRIVER=sqlite\n"))
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(in.site.Close)
	in.serve = map[string]bool{}
	in.amo = amofake.New(amofake.Options{RPS: -1, RedirectURI: in.site.URL + "/shop/cgi-bin/oauth_callback.cgi"})
	amoSrv := httptest.NewServer(in.amo)
	t.Cleanup(amoSrv.Close)
	in.kaspi = kaspifake.New(kaspifake.Options{Token: kaspiToken})
	kSrv := httptest.NewServer(in.kaspi)
	t.Cleanup(kSrv.Close)

	in.env = map[string]string{
		"DB_DRIVER":                          "sqlite",
		"KASPI_API_BASE":                     kSrv.URL,
		"KASPI_API_TOKEN":                    kaspiToken,
		"AMO_SUBDOMAIN":                      amoSrv.URL,
		"AMO_CLIENT_ID":                      amofake.DefaultClientID,
		"AMO_CLIENT_SECRET":                  amofake.DefaultClientSecret,
		"AMO_REDIRECT_URI":                   in.site.URL + "/shop/cgi-bin/oauth_callback.cgi",
		"AMO_PIPELINE_ID":                    fmt.Sprint(amofake.PipelineID),
		"AMO_STATUS_ID":                      fmt.Sprint(amofake.StatusNewOrder),
		"AMO_RESPONSIBLE_USER_ID":            fmt.Sprint(amofake.UserID),
		"AMO_CATALOG_ID":                     fmt.Sprint(amofake.CatalogID),
		"AMO_LEAD_ORDER_CODE_FIELD_ID":       fmt.Sprint(amofake.LeadOrderCodeFieldID),
		"AMO_LEAD_ORDER_DATE_FIELD_ID":       fmt.Sprint(amofake.LeadOrderDateFieldID),
		"AMO_LEAD_DELIVERY_ADDRESS_FIELD_ID": fmt.Sprint(amofake.LeadAddressFieldID),
		"AMO_CONTACT_ADDRESS_FIELD_ID":       fmt.Sprint(amofake.ContactAddressFieldID),
		"AMO_STATUS_MAP":                     fmt.Sprintf("COMPLETED:142,CANCELLED:143,KASPI_DELIVERY:%d", amofake.StatusInDelivery),
		"CRON_SECRET":                        "a-long-random-secret-for-cron-0123456789",
	}
	in.writeFile(".env.example", "DB_DRIVER=sqlite\nKASPI_API_TOKEN=your_kaspi_token\nCRON_SECRET=change_me_to_a_long_random_string\nAMO_CLIENT_SECRET=\n", 0o644)
	in.writeEnv()

	db := in.openDB()
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	access, refresh, exp := in.amo.IssueTokens()
	in.must(db.SaveToken(context.Background(), domain.TokenServiceAmo, domain.Token{AccessToken: access, RefreshToken: refresh, ExpiresAt: exp.Unix()}))
	in.recordRun(db, domain.TaskFetchNew, in.now.Add(-time.Minute), true)
	in.recordRun(db, domain.TaskReconcile, in.now.Add(-5*time.Minute), true)
	return in
}

func (in *install) must(err error) {
	in.t.Helper()
	if err != nil {
		in.t.Fatal(err)
	}
}

func (in *install) writeFile(name, content string, mode os.FileMode) {
	in.t.Helper()
	path := filepath.Join(in.root, name)
	in.must(os.WriteFile(path, []byte(content), mode))
	in.must(os.Chmod(path, mode))
}

func (in *install) writeEnv() {
	in.t.Helper()
	keys := make([]string, 0, len(in.env))
	for k := range in.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%s\n", k, in.env[k])
	}
	in.writeFile(".env", b.String(), 0o600)
}

func (in *install) set(kv ...string) {
	in.t.Helper()
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			delete(in.env, kv[i])
		} else {
			in.env[kv[i]] = kv[i+1]
		}
	}
	in.writeEnv()
}

func (in *install) openDB() *store.DB {
	in.t.Helper()
	in.must(os.MkdirAll(filepath.Join(in.root, "storage"), 0o750))
	db, err := store.Open(context.Background(), store.Config{Driver: "sqlite", SQLitePath: filepath.Join(in.root, config.DefaultSQLiteFile)})
	in.must(err)
	in.t.Cleanup(func() { db.Close() })
	return db
}

func (in *install) recordRun(db *store.DB, task string, at time.Time, ok bool) {
	in.t.Helper()
	id, err := db.StartRun(context.Background(), task, at)
	in.must(err)
	in.must(db.FinishRun(context.Background(), id, ok, task+" summary", at.Add(2*time.Second)))
}

func (in *install) run() Report {
	in.t.Helper()
	return Run(context.Background(), in.options())
}

func (in *install) options() Options {
	return Options{
		Root: in.root, Now: in.now, Host: &in.host, Fix: in.fix,
		Connect: Wiring{StoreConfig: wiring.StoreConfig, AmoLimiter: ratelimit.New("", 1000)},
	}
}

func text(r Report) string {
	var b bytes.Buffer
	r.WriteText(&b)
	return b.String()
}

// expectFail asserts that exactly the named checks failed.
func expectFail(t *testing.T, r Report, ids ...string) {
	t.Helper()
	got := r.Failures()
	sort.Strings(got)
	sort.Strings(ids)
	if strings.Join(got, ",") != strings.Join(ids, ",") {
		t.Fatalf("failed checks %v, want %v\n%s", got, ids, text(r))
	}
	for _, id := range ids {
		c, _ := r.Find(id)
		if c.Fix == "" {
			t.Errorf("check %s failed without a fix", id)
		}
	}
}

func TestRun_HealthyInstallPassesEveryCheck(t *testing.T) {
	in := newInstall(t)
	r := in.run()
	expectFail(t, r)
	if r.Failed() {
		t.Fatal("Failed() on a healthy install")
	}
	out := text(r)
	for _, want := range []string{"✓ Токен amoCRM: аккаунт", "refresh-токен ещё примерно", "✓ Воронка и этап", "✓ Токен Kaspi", "Всё в порядке"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// doctor only reads: every amoCRM API call it makes is a GET.
func TestRun_OnlyReadsFromTheAPIs(t *testing.T) {
	in := newInstall(t)
	in.run()
	for _, req := range in.amo.Requests() {
		if req.Method != http.MethodGet {
			t.Errorf("doctor sent %s %s to amoCRM", req.Method, req.Path)
		}
	}
	for _, req := range in.kaspi.Requests() {
		if req.Method != http.MethodGet {
			t.Errorf("doctor sent %s %s to Kaspi", req.Method, req.Path)
		}
	}
}

func TestRun_CatchesEachMisconfiguration(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(in *install)
		fail   []string
		// detail, when set, must appear in the first failed check's detail.
		detail string
	}{
		{"no .env", func(in *install) { in.must(os.Remove(filepath.Join(in.root, ".env"))) },
			[]string{"env.file", "env.keys"}, "не найден"},
		{"required key missing", func(in *install) { in.set("KASPI_API_TOKEN", "") },
			[]string{"env.keys"}, ""},
		{"example value left in", func(in *install) { in.set("CRON_SECRET", "change_me_to_a_long_random_string") },
			[]string{"env.examples"}, "CRON_SECRET"},
		{"CRON_SECRET shorter than 16", func(in *install) { in.set("CRON_SECRET", "k8s2j4h6g8f0d2s") },
			[]string{"env.secret"}, "короче 16 символов"},
		{"placeholder value", func(in *install) { in.set("AMO_CLIENT_SECRET", "your-client-secret") },
			[]string{"env.examples"}, "AMO_CLIENT_SECRET"},
		{".env readable by others", func(in *install) { in.must(os.Chmod(filepath.Join(in.root, ".env"), 0o644)) },
			[]string{"env.mode"}, "0644"},
		{"only the pipeline set", func(in *install) { in.set("AMO_STATUS_ID", "") },
			[]string{"env.target", "amo.pipeline"}, ""},
		{"logs not writable", func(in *install) {
			in.must(os.RemoveAll(filepath.Join(in.root, "logs")))
			in.writeFile("logs", "not a folder", 0o600)
		}, []string{"dir.logs"}, ""},
		{"database unreachable", func(in *install) { in.set("DB_DRIVER", "mysql", "DB_HOST", "127.0.0.1", "DB_PORT", "1") },
			[]string{"db.connect"}, ""},
		{"database not migrated", func(in *install) {
			in.set("DB_NAME", "storage/other.sqlite")
		}, []string{"db.schema"}, "таблицы не созданы — откройте migrate.cgi"},
		{"never authorised", func(in *install) {
			db := in.openDB()
			_, err := db.SQL().Exec("DELETE FROM oauth_tokens")
			in.must(err)
		}, []string{"amo.token"}, "не авторизована"},
		{"tokens revoked", func(in *install) { in.amo.RevokeAll() },
			[]string{"amo.token"}, "не принимает токен"},
		{"account banned", func(in *install) { in.amo.Ban(time.Hour) },
			[]string{"amo.token", "runs.ban"}, "заблокировал"},
		{"account not paid", func(in *install) { in.amo.SetPaymentRequired(true) },
			[]string{"amo.token"}, "не оплачен"},
		{"unknown pipeline", func(in *install) { in.set("AMO_PIPELINE_ID", "1") },
			[]string{"amo.pipeline"}, "воронки 1 нет"},
		{"status of another pipeline", func(in *install) { in.set("AMO_STATUS_ID", fmt.Sprint(amofake.OtherStatusFirst)) },
			[]string{"amo.pipeline"}, "другой воронке"},
		{"status in the incoming stage", func(in *install) { in.set("AMO_STATUS_ID", fmt.Sprint(amofake.StatusUnsorted)) },
			[]string{"amo.pipeline"}, "AMO_STATUS_ID=61234560: это этап «Неразобранное» воронки «Kaspi»"},
		{"status map to the incoming stage", func(in *install) {
			in.set("AMO_STATUS_MAP", fmt.Sprintf("ACCEPTED_BY_MERCHANT:%d", amofake.StatusUnsorted))
		}, []string{"amo.status_map"}, "AMO_STATUS_MAP=ACCEPTED_BY_MERCHANT:61234560"},
		{"unknown status", func(in *install) { in.set("AMO_STATUS_ID", "5") },
			[]string{"amo.pipeline"}, "нет этапа 5"},
		{"unknown responsible user", func(in *install) { in.set("AMO_RESPONSIBLE_USER_ID", "42") },
			[]string{"amo.user"}, "пользователя 42 нет"},
		{"unknown catalog", func(in *install) { in.set("AMO_CATALOG_ID", "77") },
			[]string{"amo.catalog"}, "каталога 77 нет"},
		{"catalog without SKU and PRICE", func(in *install) { in.set("AMO_CATALOG_ID", fmt.Sprint(amofake.RegularCatalogID)) },
			[]string{"amo.catalog"}, "нет полей SKU и PRICE"},
		{"unknown order code field", func(in *install) { in.set("AMO_LEAD_ORDER_CODE_FIELD_ID", "999") },
			[]string{"amo.field.lead_order_code"}, "поля 999 нет"},
		{"order code field of a date type", func(in *install) {
			in.set("AMO_LEAD_ORDER_CODE_FIELD_ID", fmt.Sprint(amofake.LeadOrderDateFieldID))
		}, []string{"amo.field.lead_order_code"}, "тип date"},
		{"order date field of a select type", func(in *install) {
			in.set("AMO_LEAD_ORDER_DATE_FIELD_ID", fmt.Sprint(amofake.LeadSourceFieldID))
		}, []string{"amo.field.lead_order_date"}, "тип select"},
		{"delivery address field of a date type", func(in *install) {
			in.set("AMO_LEAD_DELIVERY_ADDRESS_FIELD_ID", fmt.Sprint(amofake.LeadOrderDateTimeFieldID))
		}, []string{"amo.field.lead_delivery_address"}, "тип date_time"},
		{"contact address given a lead field", func(in *install) {
			in.set("AMO_CONTACT_ADDRESS_FIELD_ID", fmt.Sprint(amofake.LeadAddressFieldID))
		}, []string{"amo.field.contact_address"}, "среди полей контактов"},
		{"status map to a missing status", func(in *install) { in.set("AMO_STATUS_MAP", "COMPLETED:142,CANCELLED:999") },
			[]string{"amo.status_map"}, "CANCELLED:999"},
		{"status map to another pipeline's status", func(in *install) {
			in.set("AMO_STATUS_MAP", fmt.Sprintf("COMPLETED:%d", amofake.OtherStatusFirst))
		}, []string{"amo.status_map"}, "COMPLETED"},
		{"wrong Kaspi token", func(in *install) { in.set("KASPI_API_TOKEN", "wrong-token-abcdefghijklmnopqrstuvwxyz0123") },
			[]string{"kaspi.token"}, "не принимает"},
		{"fetch_new not run for an hour", func(in *install) {
			in.now = in.now.Add(time.Hour)
		}, []string{"runs.fetch_new", "runs.reconcile"}, "больше 15 мин"},
		{"never ran", func(in *install) {
			db := in.openDB()
			_, err := db.SQL().Exec("DELETE FROM run_log")
			in.must(err)
		}, []string{"runs.fetch_new", "runs.reconcile"}, "ещё не запускался"},
		{"kernel too old", func(in *install) { in.host.KernelRelease = "2.6.32-754.el6.x86_64" },
			[]string{"host.kernel"}, "слишком старое"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := newInstall(t)
			tc.break_(in)
			r := in.run()
			expectFail(t, r, tc.fail...)
			if !r.Failed() {
				t.Fatal("Failed() is false")
			}
			if tc.detail != "" {
				c, _ := r.Find(tc.fail[len(tc.fail)-1])
				if first, _ := r.Find(tc.fail[0]); !strings.Contains(c.Detail+c.Fix, tc.detail) && !strings.Contains(first.Detail+first.Fix, tc.detail) {
					t.Errorf("detail lacks %q:\n%s", tc.detail, text(r))
				}
			}
		})
	}
}

func TestRun_WarnsOnAVirtualMemoryLimitTooLowForAmd64(t *testing.T) {
	in := newInstall(t)
	in.host.AddressSpaceLimit = 512 << 20
	r := in.run()
	expectFail(t, r)
	c, _ := r.Find("host.vmem")
	if c.Mark != Warn || !strings.Contains(c.Fix, "linux-386") {
		t.Fatalf("vmem check: %+v", c)
	}
	in.host.GOARCH = "386"
	if c, _ := in.run().Find("host.vmem"); c.Mark != OK {
		t.Fatalf("the 386 build under 512 MB: %+v", c)
	}
}

func TestRun_WarnsAboutQuarantinedOrders(t *testing.T) {
	in := newInstall(t)
	db := in.openDB()
	ctx := context.Background()
	_, err := db.Ingest(ctx, []domain.Order{{ID: "id1", Code: "512345678", State: "NEW", Status: "APPROVED_BY_BANK", CreationMs: in.now.UnixMilli(), TotalPrice: 100}}, in.now)
	in.must(err)
	in.must(db.SetAside(ctx, "512345678", "400: NotSupportedChoice", in.now.Add(time.Hour), true, in.now))
	r := in.run()
	expectFail(t, r)
	if c, ok := r.Find("runs.quarantined"); !ok || c.Mark != Warn || !strings.Contains(c.Detail, "512345678") {
		t.Fatalf("quarantine: %+v\n%s", c, text(r))
	}
}

func TestParseAddressSpace(t *testing.T) {
	limits := "Limit                     Soft Limit           Hard Limit           Units     \n" +
		"Max cpu time              unlimited            unlimited            seconds   \n" +
		"Max address space         536870912            unlimited            bytes     \n"
	if got := parseAddressSpace(limits); got != 536870912 {
		t.Fatalf("got %d", got)
	}
	if got := parseAddressSpace(strings.Replace(limits, "536870912", "unlimited", 1)); got != 0 {
		t.Fatalf("unlimited: got %d", got)
	}
}

func TestKernelAtLeast(t *testing.T) {
	for rel, want := range map[string]bool{"3.2.0": true, "3.10.0-1160.el7.x86_64": true, "2.6.32-754.el6": false, "3.1.9": false, "6.1.0-18-amd64": true} {
		if got, ok := kernelAtLeast(rel, 3, 2); !ok || got != want {
			t.Errorf("%s: got %v %v, want %v", rel, got, ok, want)
		}
	}
}

func TestRun_SaysHowContactsAreFound(t *testing.T) {
	in := newInstall(t)
	db := in.openDB()
	ctx := context.Background()
	r := in.run()
	if c, ok := r.Find("runs.contact_index"); !ok || c.Mark != OK || !strings.Contains(c.Detail, "ещё не построен") {
		t.Fatalf("fresh install: %+v", c)
	}
	in.must(db.SetContactIndexState(ctx, domain.ContactIndexState{Complete: true, Mode: domain.IndexModeSearch}))
	r = in.run()
	expectFail(t, r)
	if c, ok := r.Find("runs.contact_index"); !ok || c.Mark != Warn || !strings.Contains(c.Detail, "поиск каждого нового номера") || c.Fix == "" {
		t.Fatalf("search mode: %+v\n%s", c, text(r))
	}
}

// Files of the install that other users of the host can read are flagged;
// --fix takes that access away and keeps the owner's and the group's.
func TestRun_ModesCheckedAndFixed(t *testing.T) {
	in := newInstall(t)
	db := filepath.Join(in.root, config.DefaultSQLiteFile)
	logs := filepath.Join(in.root, "logs")
	in.must(os.MkdirAll(logs, 0o755))
	in.must(os.Chmod(logs, 0o755))
	in.writeFile("logs/scheduler.log", "x", 0o644)
	in.must(os.Chmod(db, 0o644))
	in.must(os.Chmod(filepath.Join(in.root, ".env"), 0o640))
	r := in.run()
	expectFail(t, r, "files.modes")
	if d := text(r); !strings.Contains(d, "logs (0755)") || !strings.Contains(d, "storage/kaspi_amocrm.sqlite (0644)") || !strings.Contains(d, "doctor --fix") {
		t.Fatalf("report:\n%s", d)
	}
	in.fix = true
	r = in.run()
	expectFail(t, r)
	for p, want := range map[string]os.FileMode{logs: 0o750, db: 0o640, filepath.Join(logs, "scheduler.log"): 0o640, filepath.Join(in.root, ".env"): 0o640} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: %v, want %v", p, st.Mode().Perm(), want)
		}
	}
}

// doctor asks the shop's site for .env and the database: served files
// fail the check.
func TestRun_EnvDownloadableFromTheSiteFails(t *testing.T) {
	in := newInstall(t)
	expectFail(t, in.run())
	in.serve["/shop/.env"] = true
	r := in.run()
	expectFail(t, r, "web.exposure")
	if d := text(r); !strings.Contains(d, "/shop/.env (HTTP 200)") || !strings.Contains(d, "public_html") {
		t.Fatalf("report:\n%s", d)
	}
}

// Files owned by another user than the one running doctor (CGI without
// suEXEC) get the explanation of the group access both users need.
func TestRun_FilesOfAnotherUserExplainGroupAccess(t *testing.T) {
	in := newInstall(t)
	expectFail(t, in.run())
	old := isOthers
	defer func() { isOthers = old }()
	isOthers = func(fi fs.FileInfo) bool { return fi.Name() == "kaspi_amocrm.sqlite" }
	r := in.run()
	expectFail(t, r)
	if d := text(r); !strings.Contains(d, "storage/kaspi_amocrm.sqlite") || !strings.Contains(d, "suEXEC") || !strings.Contains(d, "группе") {
		t.Fatalf("report:\n%s", d)
	}
}

// A non-admin authorised the integration: /users answers a JSON 403. The
// responsible-user check is skipped with the reason, nothing fails, and
// the token check does not ask for a new authorisation.
func TestRun_NonAdminSkipsTheUserCheckWithAReason(t *testing.T) {
	in := newInstall(t)
	in.set("AMO_RESPONSIBLE_USER_ID", fmt.Sprint(amofake.UserID))
	in.amo.SetNonAdmin(true)
	r := in.run()
	expectFail(t, r)
	c, ok := r.Find("amo.user")
	if !ok || c.Mark != Skip || !strings.Contains(c.Detail, "только администратору") {
		t.Fatalf("amo.user = %+v\n%s", c, text(r))
	}
	if tok, _ := r.Find("amo.token"); tok.Mark != OK {
		t.Fatalf("amo.token = %+v", tok)
	}
}

func TestAmoErrorFix_ForbiddenExplainsRightsNotTokens(t *testing.T) {
	detail, fix := amoErrorFix(fmt.Errorf("amocrm: users: %w", domain.ErrForbidden))
	if !strings.Contains(detail, "не хватает прав") || !strings.Contains(fix, "администратора") || strings.Contains(fix, "oauth_callback") {
		t.Fatalf("detail %q fix %q", detail, fix)
	}
}

// Kaspi's HTML 403 (a firewall or an IP block) is reported as blocked,
// never as a bad token.
func TestRun_KaspiHTML403IsBlockedNotABadToken(t *testing.T) {
	in := newInstall(t)
	in.kaspi.Fail(kaspifake.EndpointAny, kaspifake.Fault{Status: http.StatusForbidden, HTML: true}, 100)
	r := in.run()
	c, _ := r.Find("kaspi.token")
	if c.Mark != Fail || !strings.Contains(c.Detail, "отказывает в доступе с этого сервера") || strings.Contains(c.Detail, "не принимает токен") {
		t.Fatalf("kaspi.token = %+v", c)
	}
}

// After the sync followed a renamed subdomain, doctor asks the owner to
// update AMO_SUBDOMAIN.
func TestRun_RenamedSubdomainAsksToUpdateEnv(t *testing.T) {
	in := newInstall(t)
	db := in.openDB()
	in.must(db.SetSetting(context.Background(), "amocrm_base_url", "https://newshop.amocrm.ru"))
	r := in.run()
	c, ok := r.Find("amo.subdomain")
	if !ok || c.Mark != Warn || !strings.Contains(c.Fix, "AMO_SUBDOMAIN=newshop.amocrm.ru") {
		t.Fatalf("amo.subdomain = %+v\n%s", c, text(r))
	}
}

func TestRun_ChecksTheStageActions(t *testing.T) {
	in := newInstall(t)
	code := in.amo.AddField("leads", "Код покупателя", "", "text")
	reason := in.amo.AddField("leads", "Причина отмены", "", "select")
	in.set("KASPI_ACTIONS", fmt.Sprintf("accept:%d,assemble:%d,complete:142,cancel:143", amofake.StatusConfirmed, amofake.StatusInDelivery),
		"AMO_LEAD_KASPI_CODE_FIELD_ID", fmt.Sprint(code), "AMO_LEAD_CANCEL_REASON_FIELD_ID", fmt.Sprint(reason))
	r := in.run()
	expectFail(t, r)
	c, _ := r.Find("amo.actions")
	// The healthy install maps KASPI_DELIVERY into the assemble stage: warned.
	if c.Mark != Warn || !strings.Contains(c.Detail, fmt.Sprintf("KASPI_DELIVERY:%d", amofake.StatusInDelivery)) {
		t.Fatalf("actions check: %v %s", c.Mark, c.Detail)
	}
	out := text(r)
	for _, want := range []string{"«Нет в наличии» (MERCHANT_OUT_OF_STOCK)", "Код покупателя", "complete — «Успешно реализовано»"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	in.set("AMO_STATUS_MAP", "COMPLETED:142,CANCELLED:143")
	if c, _ := in.run().Find("amo.actions"); c.Mark != OK {
		t.Fatalf("without the conflict: %v %s", c.Mark, c.Detail)
	}
	in.set("KASPI_ACTIONS", fmt.Sprintf("accept:%d", amofake.StatusUnsorted))
	r = in.run()
	expectFail(t, r, "amo.actions")
	in.set("KASPI_ACTIONS", "accept:99999")
	expectFail(t, in.run(), "amo.actions")
	in.set("KASPI_ACTIONS", fmt.Sprintf("accept:%d", amofake.StatusConfirmed), "AMO_LEAD_KASPI_CODE_FIELD_ID", fmt.Sprint(reason))
	expectFail(t, in.run(), "amo.field.lead_kaspi_code")
}
