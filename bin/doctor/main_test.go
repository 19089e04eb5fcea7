package main

import (
	"strings"
	"testing"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/apptest"
)

func TestRun_HelpWorksWithoutEnv(t *testing.T) { apptest.CheckHelp(t, run, "doctor") }

func TestRun_CreatesStorageAndLogs(t *testing.T) { apptest.CheckCreatesFolders(t, run) }

// doctor runs on a broken install — that is its job — but a bad .env
// still makes it exit non-zero, its checklist names the key, and no
// secret is printed; --status, which needs a working .env, exits 2.
func TestRun_BadEnvFailsNamingTheKey(t *testing.T) {
	code, out, errOut := apptest.RunWithEnv(t, run, apptest.BadEnv)
	if code == 0 || !strings.Contains(out, "AMO_MAX_RPS") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	code, _, errOut = apptest.RunWithEnv(t, run, apptest.BadEnv, "--status")
	if code != 2 || !strings.Contains(errOut, "AMO_MAX_RPS: ") {
		t.Fatalf("--status: exit %d, stderr %q", code, errOut)
	}
}

func TestRun_VersionWorksWithoutEnv(t *testing.T) { apptest.CheckVersion(t, run, "doctor") }

// The checklist names the program's version first.
func TestRun_ChecklistNamesTheVersion(t *testing.T) {
	_, out, _ := apptest.RunWithEnv(t, run, apptest.BadEnv)
	first, _, _ := strings.Cut(out, "\n")
	if !strings.Contains(out, "Версия программы") || !strings.Contains(out, app.Version) || strings.Index(out, "Версия программы") > strings.Index(out, "AMO_MAX_RPS") {
		t.Fatalf("first line %q, output:\n%s", first, out)
	}
}
