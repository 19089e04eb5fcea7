// Package doctor checks an installation the way a support engineer would,
// and tells the shop owner in Russian what is wrong and how to fix it:
// the .env file, folders, database, amoCRM token and ids, Kaspi token, the
// last runs, and the host (kernel, architecture, memory limit). It only
// reads: every API call it makes is a GET.
package doctor

import (
	"fmt"
	"io"
	"strings"
)

// Mark is the outcome of one check.
type Mark int

const (
	// OK: the check passed.
	OK Mark = iota
	// Warn: worth knowing, not an error (the exit code stays 0).
	Warn
	// Fail: the integration cannot work correctly until this is fixed.
	Fail
	// Skip: not checked, because something it needs failed first.
	Skip
)

func (m Mark) symbol() string {
	switch m {
	case OK:
		return "✓"
	case Warn:
		return "⚠"
	case Fail:
		return "✗"
	}
	return "–"
}

func (m Mark) String() string {
	switch m {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	case Fail:
		return "fail"
	}
	return "skip"
}

// Check is one line of the checklist.
type Check struct {
	// ID names the check for tests and JSON ("env.keys", "amo.pipeline").
	ID     string `json:"id"`
	Title  string `json:"title"`
	Mark   Mark   `json:"-"`
	Result string `json:"result"`
	// Detail says what was found; Fix what to do (set for Fail and Warn).
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

// Report is the whole checklist, in the order checked.
type Report struct {
	Checks []Check `json:"checks"`
}

func (r *Report) add(c Check) {
	c.Result = c.Mark.String()
	r.Checks = append(r.Checks, c)
}

// Failed reports whether any check failed.
func (r Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Mark == Fail {
			return true
		}
	}
	return false
}

// Find returns the check with this id.
func (r Report) Find(id string) (Check, bool) {
	for _, c := range r.Checks {
		if c.ID == id {
			return c, true
		}
	}
	return Check{}, false
}

// Failures lists the ids of failed checks.
func (r Report) Failures() []string {
	var ids []string
	for _, c := range r.Checks {
		if c.Mark == Fail {
			ids = append(ids, c.ID)
		}
	}
	return ids
}

// WriteText prints the checklist in Russian, one check per line, with the
// fix under each ✗ and ⚠, and a closing verdict.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fails, warns := 0, 0
	for _, c := range r.Checks {
		fmt.Fprintf(&b, "%s %s", c.Mark.symbol(), c.Title)
		if c.Detail != "" {
			fmt.Fprintf(&b, ": %s", c.Detail)
		}
		b.WriteString("\n")
		if c.Fix != "" && (c.Mark == Fail || c.Mark == Warn) {
			for _, line := range strings.Split(c.Fix, "\n") {
				fmt.Fprintf(&b, "    → %s\n", line)
			}
		}
		switch c.Mark {
		case Fail:
			fails++
		case Warn:
			warns++
		}
	}
	b.WriteString("\n")
	switch {
	case fails > 0:
		fmt.Fprintf(&b, "Найдено проблем: %d (предупреждений: %d). Исправьте отмеченное ✗ и запустите проверку снова.\n", fails, warns)
	case warns > 0:
		fmt.Fprintf(&b, "Ошибок нет, предупреждений: %d.\n", warns)
	default:
		b.WriteString("Всё в порядке.\n")
	}
	_, err := io.WriteString(w, b.String())
	if err != nil {
		return fmt.Errorf("doctor: write report: %w", err)
	}
	return nil
}
