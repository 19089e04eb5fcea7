package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// AdoptLeads implements domain.Orders. Codes are written in sorted order
// so that two processes never deadlock.
func (s *DB) AdoptLeads(ctx context.Context, leads []domain.AdoptedLead, now time.Time) (int, error) {
	byCode := map[string]domain.AdoptedLead{}
	for _, l := range leads {
		if l.Code == "" || l.LeadID <= 0 {
			continue
		}
		if cur, ok := byCode[l.Code]; !ok || l.LeadID < cur.LeadID {
			byCode[l.Code] = l
		}
	}
	codes := make([]string, 0, len(byCode))
	for c := range byCode {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var changed int
	err := s.inTxRetry(ctx, "adopt leads", func(tx *sql.Tx) error {
		changed = 0
		for _, code := range codes {
			l := byCode[code]
			res, err := tx.ExecContext(ctx, s.d.q(`UPDATE orders_map SET lead_id = ?, amo_status_id = ?, step = ?,
				tracked = 1, attempts = 0, next_attempt_at = NULL, last_error = NULL, quarantined = 0, updated_at = ?
				WHERE order_code = ? AND ((lead_id = 0 AND `+stepExpr+` = ?) OR (lead_id > ? AND `+stepExpr+` = ?))`),
				l.LeadID, l.AmoStatusID, string(domain.StepDone), dbTime(now), code, string(domain.StepNew), l.LeadID, string(domain.StepDone))
			if err != nil {
				return fmt.Errorf("order %s: %w", code, err)
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 {
				changed++
				continue
			}
			ok, err := s.d.insertIfAbsent(ctx, tx, `INSERT INTO orders_map (order_code, kaspi_order_id, kaspi_status,
				lead_id, total_price, created_at, order_state, order_status, creation_ms, phone, contact_id,
				step, attempts, quarantined, amo_status_id, tracked, checked_at, updated_at, store_no)
				VALUES (?, '', '', ?, 0, ?, '', '', 0, '', 0, ?, 0, 0, ?, 1, ?, ?, ?)`,
				code, l.LeadID, dbTime(now), string(domain.StepDone), l.AmoStatusID, dbTime(now), dbTime(now), storeNo(l.StoreNo))
			if err != nil {
				return fmt.Errorf("order %s: %w", code, err)
			}
			if ok {
				changed++
			}
		}
		return nil
	})
	return changed, err
}

// FirstOrderMs implements domain.Orders.
func (s *DB) FirstOrderMs(ctx context.Context) (int64, bool, error) {
	var ms sql.NullInt64
	err := s.db.QueryRowContext(ctx, "SELECT MIN(creation_ms) FROM orders_map WHERE creation_ms > 0").Scan(&ms)
	if err != nil {
		return 0, false, fmt.Errorf("store: first order: %w", err)
	}
	if ms.Valid && ms.Int64 > 0 {
		return ms.Int64, true, nil
	}
	var first time.Time
	if err := s.db.QueryRowContext(ctx, "SELECT MIN(created_at) FROM orders_map").Scan(scanTime{&first}); err != nil {
		return 0, false, fmt.Errorf("store: first order: %w", err)
	}
	if first.IsZero() {
		return 0, false, nil
	}
	return first.UnixMilli(), true, nil
}

// MissedBySweep implements domain.Orders.
func (s *DB) MissedBySweep(ctx context.Context, fromMs, toMs int64, checkedBefore time.Time, limit int) ([]domain.Record, error) {
	q := "SELECT " + recordCols + " FROM orders_map WHERE " + stepExpr + " = 'done' AND " + trackedExpr + " = 1" +
		" AND creation_ms >= ? AND creation_ms <= ? AND (checked_at IS NULL OR checked_at < ?)" +
		" ORDER BY creation_ms, order_code LIMIT ?"
	recs, err := s.queryRecords(ctx, s.db, q, fromMs, toMs, dbTime(checkedBefore), limit)
	if err != nil {
		return nil, fmt.Errorf("store: missed by sweep: %w", err)
	}
	return recs, nil
}
