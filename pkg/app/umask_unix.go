//go:build unix

package app

import "syscall"

// Every program creates its files owner-only (0600, folders 0700): the
// SQLite file and its -wal/-shm, logs, locks and state in storage/ hold
// tokens and buyers' data, and a shared host has other users.
func init() { syscall.Umask(0o077) }
