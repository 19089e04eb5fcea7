package app

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestWantsVersion(t *testing.T) {
	if !WantsVersion([]string{"--limit", "3", "--version"}) || WantsVersion([]string{"--help"}) {
		t.Fatal("WantsVersion")
	}
	var b bytes.Buffer
	if !PrintVersion("fetch_new", []string{"-version"}, &b) || !strings.HasPrefix(b.String(), "fetch_new kaspi-amocrm "+Version+" (") {
		t.Fatalf("%q", b.String())
	}
}

// make's VERSION (the binaries' version and the ZIP names of make dist)
// is the tag when HEAD is tagged, and starts with the tag after it.
func TestMakefile_VersionIsTheTag(t *testing.T) {
	dir := t.TempDir()
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Makefile"), mk, 0o644); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	version := func() string {
		t.Helper()
		cmd := exec.Command("make", "-s", "version")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("make version: %v", err)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "Makefile")
	git("commit", "-q", "-m", "one")
	git("tag", "v1.4.0")
	if v := version(); v != "v1.4.0" {
		t.Fatalf("on the tag: %q", v)
	}
	if err := os.WriteFile(filepath.Join(dir, "x"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "x")
	git("commit", "-q", "-m", "two")
	if v := version(); !strings.HasPrefix(v, "v1.4.0-1-g") {
		t.Fatalf("after the tag: %q", v)
	}
}

// make test without the DSN variables says in one line which database
// tests are skipped and how to run them; with both set it says nothing.
func TestMakefile_TestNotesSkippedDatabases(t *testing.T) {
	run := func(env ...string) string {
		t.Helper()
		cmd := exec.Command("make", "-s", "-C", filepath.Join("..", ".."), "test-note")
		cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("make test-note: %v %s", err, out)
		}
		return string(out)
	}
	out := run()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "MariaDB (KA_TEST_MYSQL_DSN) and PostgreSQL (KA_TEST_PGSQL_DSN) store tests are skipped") ||
		!strings.Contains(out, "export KA_TEST_MYSQL_DSN=") {
		t.Errorf("no DSN: %q", out)
	}
	if out := run("KA_TEST_MYSQL_DSN=x"); !strings.Contains(out, "the PostgreSQL (KA_TEST_PGSQL_DSN) store tests are skipped") {
		t.Errorf("MySQL only: %q", out)
	}
	if out := run("KA_TEST_MYSQL_DSN=x", "KA_TEST_PGSQL_DSN=y"); out != "" {
		t.Errorf("both set: %q", out)
	}
}
