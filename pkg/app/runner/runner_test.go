package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/apptest"
	"kaspi-amocrm/pkg/app/wiring"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/runlock"
	"kaspi-amocrm/pkg/store/storetest"
	"kaspi-amocrm/pkg/web"
)

const secret = apptest.Secret

func opts(s *apptest.Site) app.Options {
	return app.Options{Paths: app.At(s.Root), Getenv: apptest.Getenv}
}

func sqliteFile(s *apptest.Site) bool {
	_, err := os.Stat(s.DBConfig.SQLitePath)
	return err == nil
}

// Before migrate.cgi ran, cron.cgi refuses with the fix in Russian.
func TestCronHandler_SchemaBehindSaysOpenMigrate(t *testing.T) {
	s := apptest.New(t, true)
	w := s.Do(CronHandler(opts(s)), "GET", "/?task=new&token="+secret, nil)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), "ERROR new: ") || !strings.Contains(w.Body.String(), "migrate.cgi") {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

// task=new turns new orders into deals and answers "OK new: created N";
// reconcile and the status report follow.
func TestCronHandler_NewCreatesDeals(t *testing.T) {
	for _, drv := range storetest.Drivers(t) {
		t.Run(drv, func(t *testing.T) {
			s := apptest.NewOn(t, drv, true)
			s.Migrate()
			s.AddOrders(3)
			h := CronHandler(opts(s))
			w := s.Do(h, "GET", "/?task=new", nil, "X-Cron-Token", secret)
			if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "OK new: новых заказов в Kaspi 3, создано сделок 3, ждут обработки 0") {
				t.Fatalf("got %d %q", w.Code, w.Body.String())
			}
			if n := len(s.Amo.Leads()); n != 3 {
				t.Fatalf("amoCRM holds %d leads, want 3", n)
			}
			w = s.Do(h, "GET", "/?task=reconcile&token="+secret, nil)
			if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "OK reconcile: новых заказов в Kaspi 0, создано сделок 0") {
				t.Fatalf("reconcile: %d %q", w.Code, w.Body.String())
			}
			w = s.Do(h, "GET", "/?task=status&token="+secret, nil)
			if w.Code != 200 || w.Body.Len() == 0 {
				t.Fatalf("status: %d %q", w.Code, w.Body.String())
			}
			w = s.Do(h, "GET", "/?task=status&format=json&token="+secret, nil)
			if w.Code != 200 || !json.Valid(w.Body.Bytes()) {
				t.Fatalf("status json: %d %q", w.Code, w.Body.String())
			}
			s.AssertNoSecretInLogs()
		})
	}
}

// While another run holds the run lock, cron.cgi answers BUSY and makes
// no request to either API.
func TestCronHandler_BusyWhileAnotherRunHoldsTheLock(t *testing.T) {
	s := apptest.New(t, true)
	s.Migrate()
	s.AddOrders(2)
	release, ok, err := runlock.TryAcquire(context.Background(), s.Storage(), nil)
	if err != nil || !ok {
		t.Fatalf("hold lock: %v %v", ok, err)
	}
	before := s.Kaspi.RequestCount()
	w := s.Do(CronHandler(opts(s)), "GET", "/?task=new&token="+secret, nil)
	release()
	if w.Code != 200 || strings.TrimSpace(w.Body.String()) != "BUSY" {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
	if s.Kaspi.RequestCount() != before || len(s.Amo.Leads()) != 0 {
		t.Fatal("a busy run did work")
	}
}

// A wrong token is 403 before the database is even opened.
func TestCronHandler_WrongTokenDoesNothing(t *testing.T) {
	s := apptest.New(t, true)
	w := s.Do(CronHandler(opts(s)), "GET", "/?task=new&token=guess", nil)
	if w.Code != 403 || sqliteFile(s) {
		t.Fatalf("got %d, database opened: %v", w.Code, sqliteFile(s))
	}
}

// The example CRON_SECRET of .env.example refuses everything and says what to set.
func TestCronHandler_ExampleSecretRefusesAll(t *testing.T) {
	s := apptest.New(t, true, "CRON_SECRET=change_this_strong_random")
	w := s.Do(CronHandler(opts(s)), "GET", "/?task=new&token=change_this_strong_random", nil)
	if w.Code != 403 || !strings.Contains(w.Body.String(), "CRON_SECRET") {
		t.Fatalf("got %d %q", w.Code, w.Body.String())
	}
}

// fetch_new from a shell: one summary line, deals made, exit 0.
func TestTaskMain_FetchNewRunsAndSummarises(t *testing.T) {
	s := apptest.New(t, true)
	s.Migrate()
	s.AddOrders(2)
	var out, errb bytes.Buffer
	code := TaskMain(context.Background(), "fetch_new", nil, opts(s), &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "создано сделок 2") {
		t.Fatalf("exit %d out %q err %q", code, out.String(), errb.String())
	}
	if len(s.Amo.Leads()) != 2 {
		t.Fatalf("%d leads", len(s.Amo.Leads()))
	}
	for _, sec := range []string{secret, apptest.KaspiToken, s.Access, s.Refresh} {
		if strings.Contains(out.String()+errb.String(), sec) {
			t.Fatal("a secret was printed")
		}
	}
}

// --dry-run reads everything and creates nothing in amoCRM.
func TestTaskMain_DryRunCreatesNothing(t *testing.T) {
	s := apptest.New(t, true)
	s.Migrate()
	s.AddOrders(2)
	var out, errb bytes.Buffer
	if code := TaskMain(context.Background(), "fetch_new", []string{"--dry-run"}, opts(s), &out, &errb); code != 0 {
		t.Fatalf("exit %d err %q", code, errb.String())
	}
	if len(s.Amo.Leads()) != 0 {
		t.Fatalf("dry run created %d leads", len(s.Amo.Leads()))
	}
}

// A held run lock: say so and exit 0 at once, nothing done.
func TestTaskMain_LockHeldExitsZero(t *testing.T) {
	s := apptest.New(t, true)
	s.Migrate()
	s.AddOrders(1)
	release, ok, err := runlock.TryAcquire(context.Background(), s.Storage(), nil)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	defer release()
	var out, errb bytes.Buffer
	code := TaskMain(context.Background(), "reconcile", nil, opts(s), &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "Другой запуск") || len(s.Amo.Leads()) != 0 {
		t.Fatalf("exit %d out %q err %q", code, out.String(), errb.String())
	}
}

// A bad .env exits 2 naming the key; a schema behind exits 1 with the fix;
// bad flags exit 2.
func TestTaskMain_ExitCodes(t *testing.T) {
	s := apptest.New(t, true, "AMO_MAX_RPS=fast")
	var out, errb bytes.Buffer
	if code := TaskMain(context.Background(), "fetch_new", nil, opts(s), &out, &errb); code != 2 || !strings.Contains(errb.String(), "AMO_MAX_RPS") {
		t.Fatalf("bad env: exit %d err %q", code, errb.String())
	}
	s = apptest.New(t, true)
	errb.Reset()
	if code := TaskMain(context.Background(), "fetch_new", nil, opts(s), &out, &errb); code != 1 || !strings.Contains(errb.String(), "migrate.cgi") {
		t.Fatalf("schema behind: exit %d err %q", code, errb.String())
	}
	for _, args := range [][]string{{"--since", "yesterday"}, {"--limit", "-1"}, {"extra"}} {
		if code := TaskMain(context.Background(), "fetch_new", args, opts(s), &out, &errb); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

// scheduler --once runs the due tasks in-process under the lock it holds
// and records the PHP keys; a second scheduler exits 0 at once.
func TestSchedulerMain_OnceAndLockHeld(t *testing.T) {
	s := apptest.New(t, true)
	s.Migrate()
	s.AddOrders(2)
	var out, errb bytes.Buffer
	if code := SchedulerMain(context.Background(), []string{"--once"}, opts(s), &out, &errb); code != 0 {
		t.Fatalf("once: exit %d out %q err %q", code, out.String(), errb.String())
	}
	if len(s.Amo.Leads()) != 2 {
		t.Fatalf("%d leads", len(s.Amo.Leads()))
	}
	for _, k := range []string{"scheduler_last_run_fetch_new", "scheduler_last_run_reconcile"} {
		if v, ok, _ := s.DB().Setting(context.Background(), k); !ok || v == "" {
			t.Errorf("%s not written", k)
		}
	}
	release, ok, err := runlock.TryAcquire(context.Background(), s.Storage(), nil)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	defer release()
	errb.Reset()
	if code := SchedulerMain(context.Background(), []string{"--loop"}, opts(s), &out, &errb); code != 0 || !strings.Contains(errb.String(), "Другой запуск") {
		t.Fatalf("held: exit %d err %q", code, errb.String())
	}
	if code := SchedulerMain(context.Background(), nil, opts(s), &out, &errb); code != 2 {
		t.Fatalf("no mode: exit %d", code)
	}
}

func TestSyncConfig_CarriesContactIndexMax(t *testing.T) {
	for env, want := range map[string]int{"": config.DefaultAmoContactIndexMax, "0": 0, "1200": 1200} {
		var c config.Config
		var err error
		if env == "" {
			c, err = config.Load(t.TempDir(), apptest.Getenv, 0)
		} else {
			c, err = config.Load(t.TempDir(), func(k string) string {
				if k == "AMO_CONTACT_INDEX_MAX" {
					return env
				}
				return ""
			}, 0)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := SyncConfig(&wiring.Env{Config: c}).ContactIndexMax; got != want {
			t.Errorf("AMO_CONTACT_INDEX_MAX=%q: %d, want %d", env, got, want)
		}
	}
}

// An anonymous request to an install whose .env is broken (CR-only line
// endings glue the next keys into a value) learns which key is wrong and
// what is expected, never a value; a shell run sees the value.
func TestCronHandler_BadEnvAnswerHoldsNoValue(t *testing.T) {
	s := apptest.New(t, false)
	env, err := os.ReadFile(filepath.Join(s.Root, ".env"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.ReplaceAll(string(env), "\n", "\r") + "DB_PORT=65536 KASPI_API_TOKEN=glued-secret\r"
	if err := os.WriteFile(filepath.Join(s.Root, ".env"), []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	h := CronHandler(app.Options{Paths: app.At(s.Root), Getenv: apptest.Getenv})
	w := s.Do(h, "GET", "/?task=new", nil)
	if w.Code != 500 || !strings.Contains(w.Body.String(), "DB_PORT: ожидается") || strings.Contains(w.Body.String(), "glued-secret") || strings.Contains(w.Body.String(), "65536") {
		t.Fatalf("anonymous: %d %q", w.Code, w.Body.String())
	}
	var out, errOut bytes.Buffer
	if code := web.ServeCLI(context.Background(), h, []string{"task=new"}, nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "65536") {
		t.Fatalf("shell: exit %d %q", code, errOut.String())
	}
}

// A CRON_SECRET under 16 characters keeps the command-line runs working
// but makes each one warn, naming it, so the status report and the alert
// carry it (the web endpoints refuse such a secret outright).
func TestTaskMain_ShortCronSecretWarns(t *testing.T) {
	s := apptest.New(t, true)
	s.Extra = []string{"CRON_SECRET=short-secret1"}
	s.WriteEnv()
	s.Migrate()
	s.AddOrders(1)
	var out, errb bytes.Buffer
	code := TaskMain(context.Background(), "fetch_new", nil, opts(s), &out, &errb)
	if code != 1 || len(s.Amo.Leads()) != 1 {
		t.Fatalf("exit %d, %d leads; want the deal made and exit 1\nout %q err %q", code, len(s.Amo.Leads()), out.String(), errb.String())
	}
	if all := out.String() + errb.String(); !strings.Contains(all, "CRON_SECRET короче 16 символов") || strings.Contains(all, "short-secret1") {
		t.Fatalf("the warning must name the key, never the value: out %q err %q", out.String(), errb.String())
	}
	runs, err := s.DB().LastRuns(context.Background(), "fetch_new", 1)
	if err != nil || len(runs) != 1 || runs[0].Result != domain.ResultWarn || !strings.Contains(runs[0].Reason, "CRON_SECRET короче 16 символов") {
		t.Fatalf("run log %+v %v: want warn with the reason", runs, err)
	}
}
