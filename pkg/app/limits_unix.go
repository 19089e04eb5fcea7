//go:build unix

package app

import "syscall"

// addressSpaceLimit is the soft RLIMIT_AS (ulimit -v) in bytes; 0 when
// unlimited or unknown. RLIM_INFINITY differs between systems (all ones
// on Linux, 1<<63-1 on the BSDs); anything that large means no limit.
func addressSpaceLimit() uint64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &r); err != nil || uint64(r.Cur) >= 1<<62 {
		return 0
	}
	return uint64(r.Cur)
}
