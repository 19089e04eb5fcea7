package runlock

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gofrs/flock"
)

// flockLocker is a second real lock standing where a database lock goes:
// the composition is tested with a lock that really excludes, not a stub.
type flockLocker struct{ path string }

func (l flockLocker) TryLock(ctx context.Context, name string) (func(), bool, error) {
	fl := flock.New(filepath.Join(l.path, name+".dblock"))
	ok, err := fl.TryLock()
	if err != nil || !ok {
		return nil, false, err
	}
	return func() { fl.Unlock() }, true, nil
}

func mustAcquire(t *testing.T, dir string, db Locker) func() {
	t.Helper()
	release, ok, err := TryAcquire(context.Background(), dir, db)
	if err != nil || !ok {
		t.Fatalf("TryAcquire: ok=%v err=%v, want the lock", ok, err)
	}
	return release
}

func assertBusy(t *testing.T, dir string, db Locker) {
	t.Helper()
	release, ok, err := TryAcquire(context.Background(), dir, db)
	if err != nil || ok || release != nil {
		t.Fatalf("TryAcquire: ok=%v err=%v, want busy", ok, err)
	}
}

func TestTryAcquire_SecondAcquirerIsTurnedAway(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "storage") // created when missing
	release := mustAcquire(t, dir, nil)
	assertBusy(t, dir, nil)
	release()
	release() // twice is harmless
	mustAcquire(t, dir, nil)()
	if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
		t.Errorf("lock file: %v", err)
	}
}

// A database lock held elsewhere (another host on the same database) turns
// the run away even though the local file lock was free, and the file lock
// is not kept.
func TestTryAcquire_HeldDatabaseLockTurnsAway(t *testing.T) {
	hostA, hostB, shared := t.TempDir(), t.TempDir(), flockLocker{t.TempDir()}
	release := mustAcquire(t, hostA, shared)
	assertBusy(t, hostB, shared)
	// hostB's file lock was given back: hostB alone can take it.
	mustAcquire(t, hostB, nil)()
	release()
	mustAcquire(t, hostB, shared)()
}

func TestTryAcquire_DatabaseLockErrorReleasesFileLock(t *testing.T) {
	dir := t.TempDir()
	broken := flockLocker{filepath.Join(t.TempDir(), "missing", "dir")}
	if _, ok, err := TryAcquire(context.Background(), dir, broken); err == nil || ok {
		t.Fatalf("ok=%v err=%v, want an error", ok, err)
	}
	mustAcquire(t, dir, nil)()
}

func TestTryAcquire_ReleaseFreesTheDatabaseLock(t *testing.T) {
	dir, db := t.TempDir(), flockLocker{t.TempDir()}
	mustAcquire(t, dir, db)()
	if rel, ok, err := db.TryLock(context.Background(), Name); err != nil || !ok {
		t.Fatalf("database lock still held after release: %v %v", ok, err)
	} else {
		rel()
	}
}

// TestMain doubles as the child of the cross-process tests: with
// RUNLOCK_CHILD_DIR set it takes the lock there, prints "locked" or "busy",
// and holds the lock until its stdin closes, instead of running the tests.
func TestMain(m *testing.M) {
	dir := os.Getenv("RUNLOCK_CHILD_DIR")
	if dir == "" {
		os.Exit(m.Run())
	}
	release, ok, err := TryAcquire(context.Background(), dir, nil)
	switch {
	case err != nil:
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(2)
	case !ok:
		os.Stdout.WriteString("busy\n")
		os.Exit(0)
	}
	os.Stdout.WriteString("locked\n")
	bufio.NewReader(os.Stdin).ReadString('\n')
	release()
	os.Exit(0)
}

func child(t *testing.T, dir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "RUNLOCK_CHILD_DIR="+dir)
	return cmd
}

func TestTryAcquire_ExcludesAnotherProcess(t *testing.T) {
	dir := t.TempDir()
	cmd := child(t, dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("child said %q", line)
	}
	assertBusy(t, dir, nil)
	stdin.Close() // the child releases and exits
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	mustAcquire(t, dir, nil)()
}

func TestTryAcquire_AnotherProcessIsTurnedAway(t *testing.T) {
	dir := t.TempDir()
	release := mustAcquire(t, dir, nil)
	defer release()
	out, err := child(t, dir).Output()
	if err != nil || strings.TrimSpace(string(out)) != "busy" {
		t.Fatalf("child: %q %v, want busy", out, err)
	}
}

// A run killed without releasing (kill -9) leaves no stale lock: the
// kernel drops a flock with its holder.
func TestTryAcquire_KilledHolderLeavesNoStaleLock(t *testing.T) {
	dir := t.TempDir()
	cmd := child(t, dir)
	cmd.StdinPipe() // kept open: the child would hold forever
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, _ := bufio.NewReader(stdout).ReadString('\n'); strings.TrimSpace(line) != "locked" {
		t.Fatalf("child said %q", line)
	}
	cmd.Process.Kill()
	cmd.Wait()
	mustAcquire(t, dir, nil)()
}
