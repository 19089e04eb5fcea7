package app

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/runlock"
)

// fetch_new from a shell: one summary line, deals made, exit 0.
func TestTaskMain_FetchNewRunsAndSummarises(t *testing.T) {
	s := newSite(t, true)
	s.migrate()
	s.addOrders(2)
	var out, errb bytes.Buffer
	code := TaskMain(context.Background(), "fetch_new", nil, s.opts(), &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "created 2") {
		t.Fatalf("exit %d out %q err %q", code, out.String(), errb.String())
	}
	if len(s.amo.Leads()) != 2 {
		t.Fatalf("%d leads", len(s.amo.Leads()))
	}
	for _, secret := range []string{testSecret, testKaspiToken, s.access, s.refresh} {
		if strings.Contains(out.String()+errb.String(), secret) {
			t.Fatal("a secret was printed")
		}
	}
}

// A held run lock: say so and exit 0 at once, nothing done.
func TestTaskMain_LockHeldExitsZero(t *testing.T) {
	s := newSite(t, true)
	s.migrate()
	s.addOrders(1)
	release, ok, err := runlock.TryAcquire(context.Background(), filepath.Join(s.root, "storage"), nil)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	defer release()
	var out, errb bytes.Buffer
	code := TaskMain(context.Background(), "reconcile", nil, s.opts(), &out, &errb)
	if code != 0 || !strings.Contains(out.String(), "Другой запуск") || len(s.amo.Leads()) != 0 {
		t.Fatalf("exit %d out %q err %q", code, out.String(), errb.String())
	}
}

// A bad .env exits 2 naming the key; a schema behind exits 1 with the fix;
// bad flags exit 2.
func TestTaskMain_ExitCodes(t *testing.T) {
	s := newSite(t, true, "AMO_MAX_RPS=fast")
	var out, errb bytes.Buffer
	if code := TaskMain(context.Background(), "fetch_new", nil, s.opts(), &out, &errb); code != 2 || !strings.Contains(errb.String(), "AMO_MAX_RPS") {
		t.Fatalf("bad env: exit %d err %q", code, errb.String())
	}
	s = newSite(t, true)
	errb.Reset()
	if code := TaskMain(context.Background(), "fetch_new", nil, s.opts(), &out, &errb); code != 1 || !strings.Contains(errb.String(), "migrate.cgi") {
		t.Fatalf("schema behind: exit %d err %q", code, errb.String())
	}
	for _, args := range [][]string{{"--since", "yesterday"}, {"--limit", "-1"}, {"extra"}} {
		if code := TaskMain(context.Background(), "fetch_new", args, s.opts(), &out, &errb); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

// scheduler --once runs the due tasks in-process under the lock it holds
// and records the PHP keys; a second scheduler exits 0 at once.
func TestSchedulerMain_OnceAndLockHeld(t *testing.T) {
	s := newSite(t, true)
	s.migrate()
	s.addOrders(2)
	var out, errb bytes.Buffer
	if code := SchedulerMain(context.Background(), []string{"--once"}, s.opts(), &out, &errb); code != 0 {
		t.Fatalf("once: exit %d out %q err %q", code, out.String(), errb.String())
	}
	if len(s.amo.Leads()) != 2 {
		t.Fatalf("%d leads", len(s.amo.Leads()))
	}
	for _, k := range []string{"scheduler_last_run_fetch_new", "scheduler_last_run_reconcile"} {
		if v, ok, _ := s.db().Setting(context.Background(), k); !ok || v == "" {
			t.Errorf("%s not written", k)
		}
	}
	release, ok, err := runlock.TryAcquire(context.Background(), filepath.Join(s.root, "storage"), nil)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	defer release()
	errb.Reset()
	if code := SchedulerMain(context.Background(), []string{"--loop"}, s.opts(), &out, &errb); code != 0 || !strings.Contains(errb.String(), "Другой запуск") {
		t.Fatalf("held: exit %d err %q", code, errb.String())
	}
	if code := SchedulerMain(context.Background(), nil, s.opts(), &out, &errb); code != 2 {
		t.Fatalf("no mode: exit %d", code)
	}
}

// cron_paths works without any .env.
func TestCronPathsMain_WithoutEnv(t *testing.T) {
	root := t.TempDir()
	var out, errb bytes.Buffer
	code := CronPathsMain(nil, Options{Paths: At(root), Getenv: func(string) string { return "" }}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), filepath.Join(root, "bin", "scheduler")+" --once") {
		t.Fatalf("exit %d out %q err %q", code, out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(root, "logs")); err != nil {
		t.Fatal("logs/ not created")
	}
}
