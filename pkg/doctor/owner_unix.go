//go:build unix

package doctor

import (
	"io/fs"
	"os"
	"syscall"
)

// ownedByOther reports whether info belongs to another user than the one
// running doctor.
func ownedByOther(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) != os.Getuid()
}
