package domain

import "strings"

// OneLine flattens a message (an error, a run's summary, an API's reason)
// for one line of a report, a log or a note: runs of white space, new
// lines included, become one space, and a text longer than max runes is
// cut with "…". Every package that prints such a line uses this one, each
// with the length its output can hold.
func OneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); max > 0 && len(r) > max {
		s = strings.TrimSpace(string(r[:max])) + "…"
	}
	return s
}
