package main

import (
	"strings"
	"testing"

	"kaspi-amocrm/pkg/app/apptest"
)

func TestRun_HelpWorksWithoutEnv(t *testing.T) { apptest.CheckHelp(t, run, "fetch_new") }

func TestRun_CreatesStorageAndLogs(t *testing.T) { apptest.CheckCreatesFolders(t, run) }

// A bad .env exits 2 with one line naming the key, and prints no secret.
func TestRun_BadEnvExitsTwoNamingTheKey(t *testing.T) {
	code, _, errOut := apptest.RunWithEnv(t, run, apptest.BadEnv)
	if code != 2 || !strings.Contains(errOut, "AMO_MAX_RPS: ") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestRun_VersionWorksWithoutEnv(t *testing.T) { apptest.CheckVersion(t, run, "fetch_new") }
