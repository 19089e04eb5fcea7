// Package probe386 holds can-exec-386, the probe scripts/e2e-apache and
// scripts/e2e-limits share to learn whether this kernel runs linux-386
// binaries natively. Its tests drive the script with stub programs and a
// stub binfmt_misc folder, since a machine shows only one of the branches.
package probe386

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// qemu-binfmt-conf.sh registers i386 with this magic; /proc shows it in hex.
const (
	i386Magic = "7f454c4601010100000000000000000002000300"
	i386Mask  = "fffffffffffefefcfffffffffffffffffeffffff"
	armMagic  = "7f454c4601010100000000000000000002002800"
)

// probe runs can-exec-386 on bin with BINFMT_MISC_DIR set to binfmt.
func probe(t *testing.T, bin, binfmt string) (int, string) {
	t.Helper()
	cmd := exec.Command("bash", "can-exec-386", bin)
	cmd.Env = append(os.Environ(), "BINFMT_MISC_DIR="+binfmt)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, strings.TrimSpace(string(out))
	case errors.As(err, &ee):
		return ee.ExitCode(), strings.TrimSpace(string(out))
	}
	t.Fatalf("run can-exec-386: %v", err)
	return 0, ""
}

func writeExec(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// stubs: a program that answers --help (as a kernel with IA32 runs a 386
// build), one the kernel refuses with ENOEXEC (an ELF header it cannot
// load, as a kernel without IA32 treats a 386 build), and one that runs but
// fails.
func stubs(t *testing.T) (runs, refused, fails string) {
	dir := t.TempDir()
	runs = writeExec(t, dir, "runs", "#!/bin/sh\necho 'Usage: fetch_new [flags]'\nexit 0\n")
	refused = writeExec(t, dir, "refused", "\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00")
	fails = writeExec(t, dir, "fails", "#!/bin/sh\necho 'fatal error: morestack on g0' >&2\nexit 2\n")
	return runs, refused, fails
}

func binfmtDir(t *testing.T, status string, entries map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if status != "" {
		if err := os.WriteFile(filepath.Join(dir, "status"), []byte(status+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "register"), nil, 0o200); err != nil {
		t.Fatal(err)
	}
	for name, body := range entries {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func entry(state, interp, magic string) string {
	return state + "\ninterpreter " + interp + "\nflags: F\noffset 0\nmagic " + magic + "\nmask " + i386Mask + "\n"
}

func TestProbe(t *testing.T) {
	runs, refused, fails := stubs(t)
	none := binfmtDir(t, "enabled", nil)
	qemu := map[string]string{"qemu-i386": entry("enabled", "/usr/libexec/qemu-binfmt/i386-binfmt-P", i386Magic)}
	cases := []struct {
		name     string
		bin      string
		binfmt   string
		wantCode int
		wantWord string
	}{
		{"a kernel that runs it natively", runs, none, 0, "native"},
		{"no binfmt_misc mounted at all", runs, filepath.Join(t.TempDir(), "absent"), 0, "native"},
		{"a kernel without IA32 refuses it", refused, none, 1, "enoexec:"},
		{"an enabled qemu-i386 entry means emulated, even where it would run", runs, binfmtDir(t, "enabled", qemu), 3, "emulated:"},
		{"an enabled qemu-i386 entry with a refused binary is still emulated", refused, binfmtDir(t, "enabled", qemu), 3, "emulated:"},
		{"an entry named otherwise but with the i386 ELF magic", runs,
			binfmtDir(t, "enabled", map[string]string{"x86": entry("enabled", "/usr/bin/box86", i386Magic)}), 3, "emulated:"},
		{"an interpreter named qemu-i686 with any magic", runs,
			binfmtDir(t, "enabled", map[string]string{"i686": entry("enabled", "/usr/bin/qemu-i686-static", armMagic)}), 3, "emulated:"},
		{"a disabled qemu-i386 entry is not used", refused,
			binfmtDir(t, "enabled", map[string]string{"qemu-i386": entry("disabled", "/usr/bin/qemu-i386", i386Magic)}), 1, "enoexec:"},
		{"binfmt_misc switched off as a whole", refused, binfmtDir(t, "disabled", qemu), 1, "enoexec:"},
		{"an emulator for another architecture is not one for i386", refused,
			binfmtDir(t, "enabled", map[string]string{"qemu-arm": entry("enabled", "/usr/bin/qemu-arm", armMagic)}), 1, "enoexec:"},
		{"a program that runs and fails cannot be decided", fails, none, 2, "undecided:"},
		{"no program", filepath.Join(t.TempDir(), "missing"), none, 2, "undecided:"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := probe(t, c.bin, c.binfmt)
			if code != c.wantCode || !strings.HasPrefix(out, c.wantWord) {
				t.Fatalf("can-exec-386 = exit %d %q, want exit %d and a line starting %q", code, out, c.wantCode, c.wantWord)
			}
			if strings.Count(out, "\n") != 0 {
				t.Errorf("the probe prints one line, got %q", out)
			}
		})
	}
}

// TestProbeAgreesWithThisKernel builds a real linux-386 program and holds
// the probe's verdict (with this machine's own binfmt_misc) against what
// executing it directly does: native means it ran, enoexec means the
// kernel refused it, emulated means an emulator would have taken it.
func TestProbeAgreesWithThisKernel(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"usage\") }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "hello386")
	build := exec.Command("go", "build", "-o", bin, src)
	build.Env = append(os.Environ(), "GOOS=linux", "GOARCH=386", "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build a linux-386 program: %v\n%s", err, out)
	}
	code, out := probe(t, bin, "/proc/sys/fs/binfmt_misc")
	runErr := exec.Command(bin).Run()
	switch code {
	case 0:
		if runErr != nil {
			t.Fatalf("probe says native (%q) but the program failed: %v", out, runErr)
		}
	case 1:
		if runErr == nil || !strings.Contains(runErr.Error(), "exec format error") {
			t.Fatalf("probe says enoexec (%q) but running it gave %v", out, runErr)
		}
	case 3:
		t.Logf("this kernel hands 386 binaries to an emulator: %s", out)
	default:
		t.Fatalf("the probe could not decide on a real linux-386 program: exit %d %q", code, out)
	}
	t.Logf("this kernel: %s", out)
}
