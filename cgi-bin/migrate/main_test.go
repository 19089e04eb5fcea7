package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/app/apptest"
)

func TestRun_HelpWorksWithoutEnv(t *testing.T) { apptest.CheckHelp(t, run, "migrate") }

func TestRun_CreatesStorageAndLogs(t *testing.T) { apptest.CheckCreatesFolders(t, run) }

// A bad .env exits 2 with one line naming the key, and prints no secret.
func TestRun_BadEnvExitsTwoNamingTheKey(t *testing.T) {
	code, _, errOut := apptest.RunWithEnv(t, run, apptest.BadEnv)
	if code != 2 || !strings.Contains(errOut, "AMO_MAX_RPS: ") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// A key only migrate needs (DB_DRIVER), found missing once the request
// opens the database, still exits 2.
func TestRun_MissingDBDriverExitsTwo(t *testing.T) {
	code, _, errOut := apptest.RunWithEnv(t, run, "CRON_SECRET=cron-secret-value-789abcdef0123\n")
	if code != 2 || !strings.Contains(errOut, "DB_DRIVER: ") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

// Under a web server the same bad .env answers Status 500 with the same
// line (the process itself exits 0: it served the request). The program
// runs as a child with a CGI environment.
func TestRun_BadEnvUnderCGIAnswers500(t *testing.T) {
	if os.Getenv("KA_TEST_CGI_CHILD") == "1" {
		os.Exit(run(nil, os.Getenv, os.Stdout, os.Stderr))
	}
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, ".env"), []byte(apptest.BadEnv), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRun_BadEnvUnderCGIAnswers500$")
	cmd.Env = []string{"KA_TEST_CGI_CHILD=1", "APP_ROOT=" + root, "GATEWAY_INTERFACE=CGI/1.1",
		"REQUEST_METHOD=GET", "SERVER_PROTOCOL=HTTP/1.1", "QUERY_STRING=token=x"}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v, output %q", err, out)
	}
	if !strings.HasPrefix(string(out), "Status: 500") || !strings.Contains(string(out), "\r\n\r\nAMO_MAX_RPS: ") {
		t.Fatalf("answer %q", out)
	}
	for _, s := range apptest.BadEnvSecrets {
		if strings.Contains(string(out), s) {
			t.Fatal("a secret value was answered")
		}
	}
}

// Any one CGI variable marks a web start, so the secret is required:
// fcgiwrap set-ups that omit GATEWAY_INTERFACE must not run the migration
// as if from a shell.
func TestRun_AnyCGIVariableMeansWebAndNeedsTheSecret(t *testing.T) {
	if os.Getenv("KA_TEST_CGI_CHILD") == "2" {
		os.Exit(run(nil, os.Getenv, os.Stdout, os.Stderr))
	}
	for _, v := range []string{"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET", "SERVER_SOFTWARE=nginx", "SCRIPT_NAME=/cgi-bin/migrate.cgi"} {
		root := t.TempDir()
		env := "DB_DRIVER=sqlite\nCRON_SECRET=d2b7c9e1f4a6083b5c7d9e1f2a4b6c8d\n"
		if err := os.WriteFile(filepath.Join(root, ".env"), []byte(env), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestRun_AnyCGIVariableMeansWebAndNeedsTheSecret$")
		cmd.Env = []string{"KA_TEST_CGI_CHILD=2", "APP_ROOT=" + root, v, "QUERY_STRING=token=wrong", "SERVER_PROTOCOL=HTTP/1.1"}
		out, _ := cmd.CombinedOutput()
		if strings.Contains(string(out), "Migration OK") {
			t.Errorf("%s: migrated without the secret: %q", v, out)
		}
		if _, err := os.Stat(filepath.Join(root, "storage", "kaspi_amocrm.sqlite")); err == nil {
			t.Errorf("%s: the database was opened", v)
		}
	}
}

func TestRun_VersionWorksWithoutEnv(t *testing.T) { apptest.CheckVersion(t, run, "migrate") }
