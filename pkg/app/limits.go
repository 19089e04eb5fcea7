package app

// Soft limits for shared hosting, applied in one place (LoadConfig, which
// every program and every web request goes through): hosts count the
// processes and CPU a site uses and cap its memory, while the Go runtime
// by default sizes itself for the whole machine.

import (
	"os"
	"runtime"
	"runtime/debug"
)

// DefaultMaxProcs is GOMAXPROCS unless the environment sets it: the work
// is waiting on two HTTP APIs and a database, and a hosting panel counts
// every busy thread against the account.
const DefaultMaxProcs = 2

// Limits are the runtime limits in force after ApplyLimits.
type Limits struct {
	MaxProcs int
	// MemoryLimit is the Go runtime's soft memory limit in bytes
	// (math.MaxInt64: none).
	MemoryLimit int64
	// AddressSpace is the soft ulimit -v in bytes; 0: unlimited or unknown.
	AddressSpace uint64
}

// ApplyLimits sets GOMAXPROCS (DefaultMaxProcs unless the GOMAXPROCS
// variable is set) and the runtime's soft memory limit: MEMORY_LIMIT_MB
// when set; else GOMEMLIMIT when set (the runtime read it already); else,
// under a virtual-memory limit (ulimit -v, RLimitMEM, CloudLinux LVE),
// half of it, so the garbage collector works harder before the host's
// limit kills the program. It is cheap to call again (FastCGI calls it
// per request): nothing changes when nothing differs.
func ApplyLimits(memoryLimitMB int) Limits {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) > DefaultMaxProcs {
		runtime.GOMAXPROCS(DefaultMaxProcs)
	}
	as := addressSpaceLimit()
	var want int64
	switch {
	case memoryLimitMB > 0:
		want = int64(memoryLimitMB) << 20
	case os.Getenv("GOMEMLIMIT") != "":
		// The runtime applied it at start.
	case as > 0 && as/2 < uint64(1<<62):
		want = int64(as / 2)
	}
	if want > 0 && debug.SetMemoryLimit(-1) != want {
		debug.SetMemoryLimit(want)
	}
	return Limits{MaxProcs: runtime.GOMAXPROCS(0), MemoryLimit: debug.SetMemoryLimit(-1), AddressSpace: as}
}
