package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// timeLayout is how every time is written: UTC, whole seconds, the format
// the PHP version used ("Y-m-d H:i:s"). It sorts as text on SQLite and is
// read as DATETIME/TIMESTAMP by MySQL and PostgreSQL.
const timeLayout = "2006-01-02 15:04:05"

// dbTime is the argument for a time column; the zero time is NULL.
func dbTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

// dbBoolInt is the argument for our SMALLINT flags (portable booleans).
func dbBoolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scanTime reads a time column whatever the driver hands over: time.Time
// (MySQL parseTime, PostgreSQL, SQLite DATETIME columns), text (SQLite
// expressions, PHP-written values), or NULL (zero time).
type scanTime struct{ t *time.Time }

var timeLayouts = []string{
	timeLayout,
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999Z07:00",
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02",
}

func (s scanTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*s.t = time.Time{}
	case time.Time:
		*s.t = x.UTC()
	case []byte:
		return s.parse(string(x))
	case string:
		return s.parse(x)
	case int64:
		*s.t = time.Unix(x, 0).UTC()
	default:
		return fmt.Errorf("store: cannot read %T as a time", v)
	}
	return nil
}

func (s scanTime) parse(str string) error {
	str = strings.TrimSpace(str)
	if str == "" || strings.HasPrefix(str, "0000-00-00") {
		*s.t = time.Time{}
		return nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, str); err == nil {
			*s.t = t.UTC()
			return nil
		}
	}
	if n, err := strconv.ParseInt(str, 10, 64); err == nil {
		*s.t = time.Unix(n, 0).UTC()
		return nil
	}
	return fmt.Errorf("store: cannot read %q as a time", str)
}

// chunks splits keys for IN (...) lists of bounded length.
func chunks(keys []string, n int) [][]string {
	var out [][]string
	for len(keys) > n {
		out = append(out, keys[:n])
		keys = keys[n:]
	}
	if len(keys) > 0 {
		out = append(out, keys)
	}
	return out
}

func anySlice[T any](xs []T) []any {
	out := make([]any, len(xs))
	for i, x := range xs {
		out[i] = x
	}
	return out
}
