package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/app/apptest"
)

func TestRun_HelpWorksWithoutEnv(t *testing.T) {
	root := t.TempDir()
	getenv := func(k string) string {
		if k == "APP_ROOT" {
			return root
		}
		return ""
	}
	for _, arg := range []string{"--help", "-h"} {
		var out, errb bytes.Buffer
		if code := run([]string{arg}, getenv, &out, &errb); code != 0 {
			t.Errorf("%s: exit %d, stderr %q", arg, code, errb.String())
		}
		if !strings.Contains(out.String(), "doctor") || !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%s: usage does not name the program: %q", arg, out.String())
		}
	}
}

func TestRun_CreatesStorageAndLogs(t *testing.T) {
	root := t.TempDir()
	getenv := func(k string) string {
		if k == "APP_ROOT" {
			return root
		}
		return ""
	}
	var out, errb bytes.Buffer
	run(nil, getenv, &out, &errb)
	for _, d := range []string{"storage", "logs"} {
		if _, err := os.Stat(filepath.Join(root, d)); err != nil {
			t.Errorf("%s not created: %v", d, err)
		}
	}
}

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
