package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/app/apptest"
	"kaspi-amocrm/pkg/app/endpoints"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

// The repro of a typo in AMO_PIPELINE_ID. No program may say ok, and no
// order may be set aside for it: the account's pipelines are checked
// before any create, bin/fetch_new exits 2 naming the key and value,
// cron.cgi answers 200 "ERROR new: AMO_PIPELINE_ID=…", the status report
// shows the task as error, never «успешно», and once the value is fixed
// the next run creates every deal.
func TestPipelineTypo_IsAConfigurationErrorEverywhere(t *testing.T) {
	s := apptest.New(t, true, "AMO_PIPELINE_ID=7009999")
	s.Migrate()
	s.AddOrders(3)
	h := CronHandler(opts(s))
	w := s.Do(h, "GET", "/?task=new&token="+secret, nil)
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.HasPrefix(body, "ERROR new: AMO_PIPELINE_ID=7009999: такой воронки в amoCRM нет; есть: ") {
		t.Fatalf("cron.cgi: %d %q", w.Code, body)
	}
	t.Logf("cron.cgi answers: %s", body)
	var out, errb bytes.Buffer
	code := TaskMain(context.Background(), "fetch_new", nil, opts(s), &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "fetch_new: ОШИБКА: AMO_PIPELINE_ID=7009999: такой воронки в amoCRM нет") {
		t.Fatalf("bin/fetch_new: exit %d out %q err %q", code, out.String(), errb.String())
	}
	w = s.Do(h, "GET", "/?task=status&token="+secret, nil)
	txt := w.Body.String()
	if !strings.Contains(txt, "Новые заказы (fetch_new): ✗ ОШИБКА — AMO_PIPELINE_ID=7009999") || strings.Contains(txt, "успешно") {
		t.Fatalf("status text:\n%s", txt)
	}
	w = s.Do(h, "GET", "/?task=status&format=json&token="+secret, nil)
	var rep struct {
		Tasks []struct {
			Task, Result, Reason string
		}
		SetAside []struct{ Code string } `json:"set_aside"`
		Version  string
	}
	if err := json.Unmarshal(w.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Tasks[0].Task != "fetch_new" || rep.Tasks[0].Result != "error" || !strings.Contains(rep.Tasks[0].Reason, "AMO_PIPELINE_ID=7009999") ||
		len(rep.SetAside) != 0 || rep.Version == "" {
		t.Fatalf("status json: %+v", rep)
	}
	// Fixed in .env: the next run creates all three, none was held back.
	s.Extra = []string{"AMO_PIPELINE_ID=" + strconv.FormatInt(amofake.PipelineID, 10)}
	s.WriteEnv()
	out.Reset()
	errb.Reset()
	if code := TaskMain(context.Background(), "fetch_new", nil, opts(s), &out, &errb); code != 0 || len(s.Amo.Leads()) != 3 {
		t.Fatalf("after the fix: exit %d, %d deals; out %q err %q", code, len(s.Amo.Leads()), out.String(), errb.String())
	}
}

// A clean run exits 0 and prints no warning.
func TestTaskMain_CleanRunExitsZeroWithoutWarning(t *testing.T) {
	s := apptest.New(t, true)
	s.Migrate()
	s.AddOrders(1)
	var out, errb bytes.Buffer
	if code := TaskMain(context.Background(), "fetch_new", nil, opts(s), &out, &errb); code != 0 || strings.Contains(errb.String(), "ВНИМАНИЕ") {
		t.Fatalf("exit %d err %q", code, errb.String())
	}
}

// A run stopped by missing amoCRM tokens prints one line that says what
// happened and what to do, without the doubled Go prefixes, and exits 1.
func TestTaskMain_NoTokensIsOneRussianLine(t *testing.T) {
	s := apptest.New(t, false)
	s.Migrate()
	s.AddOrders(1)
	var out, errb bytes.Buffer
	code := TaskMain(context.Background(), "fetch_new", nil, opts(s), &out, &errb)
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(errb.String()), "\n") {
		if !strings.HasPrefix(l, "time=") { // log lines go to stderr too
			lines = append(lines, l)
		}
	}
	want := "fetch_new: ОШИБКА: amoCRM: токенов ещё нет — пройдите авторизацию: откройте cgi-bin/oauth_callback.cgi?start=1 и разрешите доступ."
	if code != 1 || len(lines) != 1 || lines[0] != want {
		t.Fatalf("exit %d, lines %q", code, lines)
	}
}

// bin/scheduler --once exits with the worst result of the tasks it ran:
// 1 for a warn (here a CRON_SECRET under 16 characters), 2 for a
// configuration error (a pipeline the account lacks).
func TestSchedulerOnce_ExitsWithTheWorstResult(t *testing.T) {
	s := apptest.New(t, true, "CRON_SECRET=short-secret1")
	s.Migrate()
	s.AddOrders(1)
	var out, errb bytes.Buffer
	if code := SchedulerMain(context.Background(), []string{"--once"}, opts(s), &out, &errb); code != 1 || !strings.Contains(errb.String(), "ВНИМАНИЕ: CRON_SECRET короче 16 символов") {
		t.Fatalf("warn: exit %d out %q err %q", code, out.String(), errb.String())
	}
	s = apptest.New(t, true, "AMO_PIPELINE_ID=7009999")
	s.Migrate()
	s.AddOrders(1)
	out.Reset()
	errb.Reset()
	if code := SchedulerMain(context.Background(), []string{"--once"}, opts(s), &out, &errb); code != 2 || !strings.Contains(errb.String(), "ОШИБКА: AMO_PIPELINE_ID=7009999") {
		t.Fatalf("configuration error: exit %d out %q err %q", code, out.String(), errb.String())
	}
}

// The daily log of a run starts with the version, and records each deal
// created (order code and lead id).
func TestRun_DailyLogNamesVersionAndEachDeal(t *testing.T) {
	s := apptest.New(t, true)
	s.Migrate()
	orders := s.AddOrders(2)
	var out, errb bytes.Buffer
	if code := TaskMain(context.Background(), "fetch_new", nil, opts(s), &out, &errb); code != 0 {
		t.Fatalf("exit %d %q", code, errb.String())
	}
	files, _ := filepath.Glob(filepath.Join(s.Root, "logs", "*.log"))
	if len(files) != 1 {
		t.Fatalf("log files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	log := string(b)
	start := strings.Index(log, "fetch_new started")
	if start < 0 || !strings.Contains(log[start:strings.Index(log[start:], "\n")+start], "version=") {
		t.Fatalf("no start line with the version:\n%s", log)
	}
	if strings.Index(log, "amocrm: tokens imported") < start {
		t.Errorf("the start line is not the run's first:\n%s", log)
	}
	for _, o := range orders {
		if !regexp.MustCompile(`deal created" .*order=` + o.Code + ` lead=\d+`).MatchString(log) {
			t.Errorf("no deal line for %s:\n%s", o.Code, log)
		}
	}
}

// With no .env at all, cron.cgi and migrate.cgi say the file is missing
// and where it belongs — not that CRON_SECRET is empty; from a shell the
// program exits 2 like any configuration error.
func TestNoEnvFile_SaysTheFileIsMissing(t *testing.T) {
	s := apptest.New(t, true)
	if err := os.Remove(filepath.Join(s.Root, ".env")); err != nil {
		t.Fatal(err)
	}
	for _, h := range []http.Handler{CronHandler(opts(s)), endpoints.MigrateHandler(opts(s))} {
		w := s.Do(h, "GET", "/?task=new&token=x", nil)
		body := w.Body.String()
		if w.Code != http.StatusInternalServerError || !strings.Contains(body, "Файл .env не найден") ||
			!strings.Contains(body, "над cgi-bin/") || strings.Contains(body, "CRON_SECRET") || strings.Contains(body, s.Root) {
			t.Errorf("got %d %q", w.Code, body)
		}
	}
}

// Bad flags are answered in Russian and exit 2.
func TestTaskMain_BadFlagsInRussian(t *testing.T) {
	s := apptest.New(t, true)
	for args, want := range map[string]string{"--since=01.05.2024": "нужна дата вида 2024-05-01", "--limit=-1": "--limit должен быть 0 или больше", "extra": "лишний аргумент"} {
		var out, errb bytes.Buffer
		if code := TaskMain(context.Background(), "fetch_new", []string{args}, opts(s), &out, &errb); code != 2 || !strings.Contains(errb.String(), want) {
			t.Errorf("%s: exit %d, %q", args, code, errb.String())
		}
	}
}
