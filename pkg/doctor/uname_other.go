//go:build !linux

package doctor

// uname is unknown outside Linux (the product runs on Linux hosting only).
func uname() (release, machine string) { return "", "" }
