// Package applog writes the application log: logs/YYYY-MM-DD.log like the
// PHP version (the date in Asia/Almaty), one line per event via log/slog,
// old files removed after the retention period. Every record passes a
// redaction layer first (see Redact), so tokens, the client secret,
// CRON_SECRET and Authorization headers never reach a file.
//
// Only mains build a logger; packages receive a *slog.Logger.
package applog

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"log/slog"

	"kaspi-amocrm/pkg/domain"
)

// Almaty is the shop's time zone: log file dates and log times use it.
var Almaty = domain.Almaty()

// Options configures OpenWith.
type Options struct {
	Dir           string           // the logs folder
	Now           func() time.Time // picks the file's date; nil = time.Now
	RetentionDays int              // files older than this are removed; 0 = keep all
	Level         slog.Leveler     // nil = Info
	// Also receives every line too (os.Stderr for a command-line run);
	// nil = the file only.
	Also io.Writer
	// Secrets are literal values (tokens, passwords) masked wherever they
	// appear, in addition to the patterns Redact knows.
	Secrets []string
}

// Open opens today's log file in logsDir and returns a logger writing to it
// and the Closer of the file. See OpenWith.
func Open(logsDir string, now func() time.Time, retentionDays int, level slog.Level) (*slog.Logger, io.Closer, error) {
	return OpenWith(Options{Dir: logsDir, Now: now, RetentionDays: retentionDays, Level: level})
}

// OpenWith opens the daily log file (creating the folder when missing),
// removes files past retention, and returns a redacting text logger. A
// long-running process moves to the next file when the date changes.
func OpenWith(o Options) (*slog.Logger, io.Closer, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, nil, fmt.Errorf("open log: create folder: %w", err)
	}
	f := &dailyFile{dir: o.Dir, now: o.Now, retention: o.RetentionDays}
	if err := f.rotate(); err != nil {
		return nil, nil, err
	}
	var w io.Writer = f
	if o.Also != nil {
		w = io.MultiWriter(f, o.Also)
	}
	return slog.New(NewHandler(w, o.Level, o.Secrets...)), f, nil
}

// NewHandler returns the redacting text handler the log file uses, writing
// to w: times in Asia/Almaty, one line per record. Tests and tools that
// log elsewhere use it to get the same redaction.
func NewHandler(w io.Writer, level slog.Leveler, secrets ...string) slog.Handler {
	text := slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey && a.Value.Kind() == slog.KindTime {
				a.Value = slog.StringValue(a.Value.Time().In(Almaty).Format(time.RFC3339))
			}
			return a
		},
	})
	return NewRedactor(text, secrets...)
}

// fileName matches the daily files this package writes (and only them:
// scheduler.log and anything else in logs/ is left alone).
var fileName = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})\.log$`)

// dailyFile is an io.Writer appending to logs/<Almaty date>.log and
// switching files when the date changes.
type dailyFile struct {
	mu        sync.Mutex
	dir       string
	now       func() time.Time
	retention int
	day       string
	f         *os.File
	closed    bool
}

func (d *dailyFile) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return 0, os.ErrClosed
	}
	if d.now().In(Almaty).Format(time.DateOnly) != d.day {
		if err := d.rotateLocked(); err != nil {
			return 0, err
		}
	}
	return d.f.Write(p)
}

func (d *dailyFile) rotate() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rotateLocked()
}

func (d *dailyFile) rotateLocked() error {
	now := d.now().In(Almaty)
	day := now.Format(time.DateOnly)
	// O_APPEND: cron runs, CGI calls and the scheduler share the file; each
	// line is one write, so lines do not interleave.
	f, err := os.OpenFile(filepath.Join(d.dir, day+".log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o640)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	if d.f != nil {
		d.f.Close()
	}
	d.f, d.day = f, day
	d.prune(now)
	return nil
}

// prune removes daily files dated more than retention days before now.
// Failures are ignored: a file we cannot remove costs only disk space.
func (d *dailyFile) prune(now time.Time) {
	if d.retention <= 0 {
		return
	}
	entries, err := os.ReadDir(d.dir)
	if err != nil {
		return
	}
	cutoff := now.AddDate(0, 0, -d.retention).Format(time.DateOnly)
	today := now.Format(time.DateOnly)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !e.Type().IsRegular() {
			continue // .htaccess and folders stay
		}
		if m := fileName.FindStringSubmatch(name); m != nil {
			if m[1] < cutoff {
				os.Remove(filepath.Join(d.dir, name))
			}
			continue
		}
		if m := rotatedName.FindStringSubmatch(name); m != nil {
			if m[2] < cutoff {
				os.Remove(filepath.Join(d.dir, name))
			}
			continue
		}
		d.pruneOther(entries, name, today, now.AddDate(0, 0, -d.retention))
	}
}

// rotatedName is a file pruneOther renamed: base.YYYY-MM-DD.log, dated
// by the day it was set aside.
var rotatedName = regexp.MustCompile(`^(.+)\.(\d{4}-\d{2}-\d{2})\.log$`)

// pruneOther handles a file of logs/ that is not ours: one not written
// for retention days is removed; a .log that something keeps appending to
// (a cron line's ">> logs/scheduler.log") is renamed base.<today>.log once
// every retention days, and the renamed copies go after retention days:
// no line stays much longer than the retention.
func (d *dailyFile) pruneOther(entries []os.DirEntry, name, today string, cutoff time.Time) {
	path := filepath.Join(d.dir, name)
	info, err := os.Stat(path)
	if err != nil {
		return
	}
	if info.ModTime().Before(cutoff) {
		os.Remove(path)
		return
	}
	base, ok := strings.CutSuffix(name, ".log")
	if !ok || base == "" {
		return
	}
	cut := cutoff.Format(time.DateOnly)
	for _, e := range entries {
		if m := rotatedName.FindStringSubmatch(e.Name()); m != nil && m[1] == base && m[2] >= cut {
			return // set aside less than retention days ago
		}
	}
	target := filepath.Join(d.dir, base+"."+today+".log")
	if _, err := os.Lstat(target); err == nil {
		return
	}
	os.Rename(path, target)
}

// Close closes the current file; later writes fail.
func (d *dailyFile) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return d.f.Close()
}
