package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		if !strings.Contains(out.String(), "oauth_callback") || !strings.Contains(out.String(), "Usage:") {
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

// A bad .env exits 2 with one line naming the key, and prints no secret.
func TestRun_BadEnvExitsTwoNamingTheKey(t *testing.T) {
	code, _, errOut := runBadEnv(t, badEnv)
	if code != 2 || !strings.Contains(errOut, "AMO_MAX_RPS: ") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// badEnv is a .env with one malformed key among secrets that must never
// be printed.
const badEnv = "DB_DRIVER=sqlite\nAMO_MAX_RPS=fast\nKASPI_API_BASE=http://127.0.0.1:1\n" +
	"KASPI_API_TOKEN=kaspi-secret-value-123\nAMO_CLIENT_SECRET=amo-secret-value-456\n" +
	"CRON_SECRET=cron-secret-value-789abcdef0123\n"

var badEnvSecrets = []string{"kaspi-secret-value-123", "amo-secret-value-456", "cron-secret-value-789abcdef0123"}

// runBadEnv runs the program from a shell on an install whose .env is env.
func runBadEnv(t *testing.T, env string, args ...string) (code int, out, errOut string) {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "APP_ROOT" {
			return root
		}
		return ""
	}
	var o, e bytes.Buffer
	code = run(args, getenv, &o, &e)
	for _, s := range badEnvSecrets {
		if strings.Contains(o.String()+e.String(), s) {
			t.Fatalf("a secret value was printed: %q %q", o.String(), e.String())
		}
	}
	return code, o.String(), e.String()
}
