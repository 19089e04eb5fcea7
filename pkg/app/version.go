package app

import (
	"fmt"
	"runtime"
)

// WantsVersion reports whether the arguments ask for the version
// (--version, -version, version).
func WantsVersion(args []string) bool {
	for _, a := range args {
		switch a {
		case "--version", "-version", "version":
			return true
		}
	}
	return false
}

// VersionLine is what --version prints: the program, the version and the
// build's platform, e.g. "fetch_new kaspi-amocrm v1.2.0 (linux/amd64, go1.26.0)".
func VersionLine(program string) string {
	return fmt.Sprintf("%s kaspi-amocrm %s (%s/%s, %s)", program, Version, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// PrintVersion prints VersionLine when the arguments ask for it and
// reports whether they did.
func PrintVersion(program string, args []string, stdout interface{ Write([]byte) (int, error) }) bool {
	if !WantsVersion(args) {
		return false
	}
	fmt.Fprintln(stdout, VersionLine(program))
	return true
}
