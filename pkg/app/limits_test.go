package app

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"testing"
)

// restoreLimits puts the test process's runtime limits back.
func restoreLimits(t *testing.T) {
	t.Helper()
	procs, mem := runtime.GOMAXPROCS(0), debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		runtime.GOMAXPROCS(procs)
		debug.SetMemoryLimit(mem)
	})
}

func TestLoadConfig_AppliesMemoryLimitFromEnvFile(t *testing.T) {
	restoreLimits(t)
	t.Setenv("GOMEMLIMIT", "")
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, ".env"), []byte("DB_DRIVER=sqlite\nMEMORY_LIMIT_MB=48\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadConfig(0, Options{Paths: At(root), Getenv: func(string) string { return "" }}); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 48<<20 {
		t.Errorf("memory limit %d, want %d (MEMORY_LIMIT_MB=48)", got, 48<<20)
	}
}

func TestApplyLimits_KeepsFewThreadsUnlessGOMAXPROCSIsSet(t *testing.T) {
	restoreLimits(t)
	t.Setenv("GOMAXPROCS", "")
	runtime.GOMAXPROCS(DefaultMaxProcs + 6)
	if got := ApplyLimits(0).MaxProcs; got != DefaultMaxProcs {
		t.Errorf("GOMAXPROCS %d, want %d", got, DefaultMaxProcs)
	}

	t.Setenv("GOMAXPROCS", "8")
	runtime.GOMAXPROCS(8)
	if got := ApplyLimits(0).MaxProcs; got != 8 {
		t.Errorf("GOMAXPROCS=8 in the environment: got %d, want it kept", got)
	}
}

func TestApplyLimits_ZeroKeepsTheRuntimeLimit(t *testing.T) {
	restoreLimits(t)
	if addressSpaceLimit() != 0 {
		t.Skip("this process runs under ulimit -v: a limit is derived from it")
	}
	t.Setenv("GOMEMLIMIT", "")
	debug.SetMemoryLimit(300 << 20)
	if got := ApplyLimits(0).MemoryLimit; got != 300<<20 {
		t.Errorf("memory limit %d, want the one in force (%d)", got, 300<<20)
	}
}
