package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/app/apptest"
)

func rootEnv(root string, extra map[string]string) func(string) string {
	return func(k string) string {
		if k == "APP_ROOT" {
			return root
		}
		return extra[k]
	}
}

func TestRun_HelpWorksWithoutEnv(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--help"}, rootEnv(t.TempDir(), nil), &out, &errb); code != 0 || !strings.Contains(out.String(), "cron_paths") {
		t.Errorf("exit %d, out %q, err %q", code, out.String(), errb.String())
	}
}

// Without any .env the paths are still printed, and the secret is not.
func TestRun_PrintsAbsolutePathsWithoutEnv(t *testing.T) {
	root := t.TempDir()
	var out, errb bytes.Buffer
	if code := run(nil, rootEnv(root, nil), &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), filepath.Join(root, "bin", "scheduler")) {
		t.Errorf("scheduler path missing:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(root, "logs")); err != nil {
		t.Error("logs/ not created")
	}
}

func TestRun_ShowsSecretOnlyWhenAsked(t *testing.T) {
	root := t.TempDir()
	env := rootEnv(root, map[string]string{"CRON_SECRET": "s3cret-value-42", "AMO_REDIRECT_URI": "https://shop.kz/app/cgi-bin/oauth_callback.cgi"})
	var out, errb bytes.Buffer
	run(nil, env, &out, &errb)
	if strings.Contains(out.String(), "s3cret-value-42") {
		t.Error("secret printed without --show-secret")
	}
	if !strings.Contains(out.String(), "https://shop.kz/app/cgi-bin/cron.cgi") {
		t.Errorf("cgi base not derived from AMO_REDIRECT_URI:\n%s", out.String())
	}
	out.Reset()
	run([]string{"--show-secret"}, env, &out, &errb)
	if !strings.Contains(out.String(), "s3cret-value-42") {
		t.Error("--show-secret did not print the secret")
	}
}

func TestRun_UnknownArgumentIsExit2(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"--bogus"}, rootEnv(t.TempDir(), nil), &out, &errb); code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
}

func TestRun_VersionWorksWithoutEnv(t *testing.T) { apptest.CheckVersion(t, run, "cron_paths") }
