// Package app finds where the application lives and prepares its runtime
// folders. Every binary of the hosting tree sits one folder below the app
// root (bin/fetch_new, cgi-bin/cron.cgi), so the root is the parent of the
// binary's own folder; APP_ROOT overrides it (tests, development, unusual
// layouts).
//
// It also reads the .env, opens the log, names the exit codes and builds
// the API clients (clients.go) — everything the programs share that needs
// no database. Opening the database is pkg/app/wiring's job, so a program
// that never opens one (cron_paths) links no database driver.
package app

import (
	"fmt"
	"os"
	"path/filepath"
)

// Version is stamped at build time (-ldflags -X kaspi-amocrm/pkg/app.Version=...).
var Version = "dev"

// Paths are the places the application reads and writes.
type Paths struct {
	Root    string // the app root
	Storage string // Root/storage: locks, the SQLite file, rate state
	Logs    string // Root/logs: YYYY-MM-DD.log
	Env     string // Root/.env
}

// At returns the Paths under root.
func At(root string) Paths {
	return Paths{
		Root:    root,
		Storage: filepath.Join(root, "storage"),
		Logs:    filepath.Join(root, "logs"),
		Env:     filepath.Join(root, ".env"),
	}
}

// Locate finds the app root: APP_ROOT when set (made absolute), else the
// parent of the folder holding the running binary, symlinks resolved.
func Locate(getenv func(string) string) (Paths, error) {
	if getenv != nil {
		if root := getenv("APP_ROOT"); root != "" {
			abs, err := filepath.Abs(root)
			if err != nil {
				return Paths{}, fmt.Errorf("app root from APP_ROOT: %w", err)
			}
			return At(abs), nil
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return Paths{}, fmt.Errorf("app root: find own binary: %w", err)
	}
	return At(RootOf(exe)), nil
}

// RootOf returns the app root for a binary at exe: the parent of its folder,
// after resolving symlinks (a binary linked from elsewhere belongs to the
// tree it really lives in).
func RootOf(exe string) string {
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	if abs, err := filepath.Abs(exe); err == nil {
		exe = abs
	}
	return filepath.Dir(filepath.Dir(exe))
}

// Ensure creates storage/ and logs/ when missing. They are not world
// readable: logs and the SQLite file hold order data.
func (p Paths) Ensure() error {
	for _, dir := range []string{p.Storage, p.Logs} {
		// Owner-only: the database, tokens and logs of a shop. Where the
		// web server runs CGI as another user, doctor explains the group
		// access needed.
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", filepath.Base(dir), err)
		}
	}
	return nil
}
