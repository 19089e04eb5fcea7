package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// setAsideWhere selects the orders a failure set aside: not done, at least
// one attempt recorded. Quarantined ones are among them.
const setAsideWhere = stepExpr + " <> 'done' AND attempts > 0"

// SetAsideCount implements domain.Orders.
func (s *DB) SetAsideCount(ctx context.Context) (int, string, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.d.q("SELECT COUNT(*) FROM orders_map WHERE "+setAsideWhere+" AND quarantined = 0")).Scan(&n); err != nil {
		return 0, "", fmt.Errorf("store: count set-aside orders: %w", err)
	}
	if n == 0 {
		return 0, "", nil
	}
	var reason string
	err := s.db.QueryRowContext(ctx, s.d.q("SELECT COALESCE(last_error, '') FROM orders_map WHERE "+setAsideWhere+
		" AND quarantined = 0 ORDER BY COALESCE(updated_at, created_at) DESC, order_code LIMIT 1")).Scan(&reason)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, "", fmt.Errorf("store: set-aside reason: %w", err)
	}
	return n, reason, nil
}

// SetAsideRecords lists the orders set aside now (waiting for a retry or
// quarantined), most recently touched first, at most limit.
func (s *DB) SetAsideRecords(ctx context.Context, limit int) ([]domain.Record, error) {
	q := "SELECT " + recordCols + " FROM orders_map WHERE " + setAsideWhere +
		" ORDER BY COALESCE(updated_at, created_at) DESC, order_code LIMIT ?"
	recs, err := s.queryRecords(ctx, s.db, q, limit)
	if err != nil {
		return nil, fmt.Errorf("store: set-aside records: %w", err)
	}
	return recs, nil
}

// DealTimes returns when each deal created since the given time was
// created, oldest first (the status page counts them per day).
func (s *DB) DealTimes(ctx context.Context, since time.Time) ([]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q("SELECT lead_created_at FROM orders_map WHERE lead_created_at >= ? ORDER BY lead_created_at"), dbTime(since))
	if err != nil {
		return nil, fmt.Errorf("store: deal times: %w", err)
	}
	defer rows.Close()
	var out []time.Time
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(scanTime{&t}); err != nil {
			return nil, fmt.Errorf("store: deal times: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// LastDeal returns the most recently created deal; ok false when none is
// known (deals adopted from the PHP version have no creation time).
func (s *DB) LastDeal(ctx context.Context) (domain.Deal, bool, error) {
	var d domain.Deal
	err := s.db.QueryRowContext(ctx, s.d.q("SELECT order_code, lead_id, lead_created_at FROM orders_map WHERE lead_created_at IS NOT NULL AND lead_id > 0 ORDER BY lead_created_at DESC, order_code LIMIT 1")).
		Scan(&d.Code, &d.LeadID, scanTime{&d.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return d, false, nil
	}
	if err != nil {
		return d, false, fmt.Errorf("store: last deal: %w", err)
	}
	return d, true, nil
}
