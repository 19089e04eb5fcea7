package status

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Settings keys pkg/amocrm writes about its rate-limit state. They are
// read here, never written.
const (
	// BanUntilKey holds the unix time (seconds) until which the circuit
	// breaker stays open after a 403 ban.
	BanUntilKey = "amocrm_ban_until"
	// Last429Key holds the unix time (seconds) of the last 429 answer.
	Last429Key = "amocrm_last_429"
)

func limitState(ctx context.Context, src Source, now time.Time) (LimitState, error) {
	var ls LimitState
	until, err := unixSetting(ctx, src, BanUntilKey)
	if err != nil {
		return ls, err
	}
	if !until.IsZero() && until.After(now) {
		ls.Banned, ls.BannedUntil = true, &until
	}
	last, err := unixSetting(ctx, src, Last429Key)
	if err != nil {
		return ls, err
	}
	if !last.IsZero() {
		ls.Last429At = &last
	}
	return ls, nil
}

// unixSetting reads a unix-time setting: seconds, milliseconds or RFC 3339.
// Absent, empty or unreadable values are the zero time.
func unixSetting(ctx context.Context, src Source, key string) (time.Time, error) {
	v, ok, err := src.Setting(ctx, key)
	if err != nil || !ok {
		return time.Time{}, err
	}
	return parseTime(v), nil
}

func parseTime(v string) time.Time {
	v = strings.TrimSpace(v)
	if v == "" || v == "0" {
		return time.Time{}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n > 1e12 { // milliseconds
			return time.UnixMilli(n)
		}
		return time.Unix(n, 0)
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t
	}
	return time.Time{}
}
