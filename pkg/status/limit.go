package status

import (
	"context"
	"strconv"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
)

func limitState(ctx context.Context, src Source, now time.Time) (LimitState, error) {
	var ls LimitState
	v, ok, err := src.Setting(ctx, domain.SettingAmoBannedUntil)
	if err != nil || !ok {
		return ls, err
	}
	if until := parseUnix(v); !until.IsZero() && until.After(now) {
		ls.Banned, ls.BannedUntil = true, &until
	}
	return ls, nil
}

// parseUnix reads unix seconds; empty or unreadable values are the zero time.
func parseUnix(v string) time.Time {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}
	}
	return time.Unix(n, 0)
}
