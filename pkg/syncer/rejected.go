package syncer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"

	"kaspi-amocrm/pkg/domain"
)

// rejectedKey is the settings key of the Kaspi orders set aside for a bad
// shape: a JSON list of hashes of their id and code, newest last, so that
// each is reported once and not in every run.
const rejectedKey = "kaspi_rejected_orders"

// maxRejectedKept bounds the list; the oldest fall off (an order that
// old is out of every listing window anyway).
const maxRejectedKept = 500

func rejectedHash(o domain.Order) string {
	sum := sha256.Sum256([]byte(o.ID + "\x00" + o.Code))
	return hex.EncodeToString(sum[:12])
}

// rejectedLabel is a printable name for a rejected order: the safe characters of
// its code, cut, and its length. The raw code is never stored or logged
// (it may hold a NUL byte or kilobytes of junk).
func rejectedLabel(code string) string {
	b := make([]byte, 0, 24)
	for i := 0; i < len(code) && len(b) < 24; i++ {
		c := code[i]
		if c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' {
			b = append(b, c)
		}
	}
	if len(b) == len(code) {
		return string(b)
	}
	return fmt.Sprintf("%s… (%d bytes)", b, len(code))
}

// setAsideRejected reports the rejected orders not reported before: a
// warning in the log and the run output, and the summary's count. The
// rest of the listing goes on; nothing of a rejected order is stored.
func (r *run) setAsideRejected(ctx context.Context, rejected []domain.Order) error {
	return r.reportSetAside(ctx, rejected, func(o domain.Order) string {
		return fmt.Sprintf("заказ Kaspi %s отложен: в нём испорченные данные, загрузить его нельзя («%s»)", rejectedLabel(o.Code), o.Rejected)
	})
}

// reportSetAside reports the set-aside orders not reported before, each
// with its line msg(o).
func (r *run) reportSetAside(ctx context.Context, rejected []domain.Order, msg func(domain.Order) string) error {
	if len(rejected) == 0 {
		return nil
	}
	var known []string
	raw, ok, err := r.ledger.Setting(ctx, rejectedKey)
	if err != nil {
		return lerr("read rejected orders", err)
	}
	if ok && raw != "" {
		_ = json.Unmarshal([]byte(raw), &known) // a damaged list only repeats a report
	}
	changed := false
	for _, o := range rejected {
		h := rejectedHash(o)
		if slices.Contains(known, h) {
			continue
		}
		known = append(known, h)
		changed = true
		r.sum.Rejected++
		r.log.Warn("Kaspi order set aside: it cannot be imported", "order", rejectedLabel(o.Code), "reason", o.Rejected)
		line := msg(o)
		r.printf("%s", line)
		r.sum.AddWarning(line)
	}
	if !changed || r.cfg.DryRun {
		return nil
	}
	if len(known) > maxRejectedKept {
		known = known[len(known)-maxRejectedKept:]
	}
	b, _ := json.Marshal(known)
	return lerr("save rejected orders", r.ledger.SetSetting(ctx, rejectedKey, string(b)))
}
