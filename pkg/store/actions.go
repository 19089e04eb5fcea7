package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kaspi-amocrm/pkg/domain"
)

var _ domain.KaspiActions = (*DB)(nil)

// BeginAction implements domain.KaspiActions: insert, and a unique
// violation means another run (or an earlier one) holds the action.
func (s *DB) BeginAction(ctx context.Context, code, action string, now time.Time) (bool, error) {
	var inserted bool
	err := s.inTxRetry(ctx, "begin kaspi action", func(tx *sql.Tx) error {
		var err error
		inserted, err = s.d.insertIfAbsent(ctx, tx, `INSERT INTO kaspi_actions
			(order_code, action, state, tries, detail, created_at, updated_at) VALUES (?, ?, ?, 1, '', ?, ?)`,
			code, action, string(domain.ActionIntent), dbTime(now), dbTime(now))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: begin %s of %s: %w", action, code, err)
	}
	return inserted, nil
}

// KaspiAction implements domain.KaspiActions.
func (s *DB) KaspiAction(ctx context.Context, code, action string) (domain.KaspiAction, error) {
	a := domain.KaspiAction{Code: code, Action: action}
	var state string
	var detail sql.NullString
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT state, tries, detail, created_at, updated_at
		FROM kaspi_actions WHERE order_code = ? AND action = ?`), code, action).
		Scan(&state, &a.Tries, &detail, scanTime{&a.CreatedAt}, scanTime{&a.UpdatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("store: %s of %s: %w", action, code, domain.ErrNotFound)
	}
	if err != nil {
		return a, fmt.Errorf("store: %s of %s: %w", action, code, err)
	}
	a.State, a.Detail = domain.ActionState(state), detail.String
	return a, nil
}

// SetActionState implements domain.KaspiActions.
func (s *DB) SetActionState(ctx context.Context, code, action string, state domain.ActionState, detail string, retry bool, now time.Time) error {
	set := "state = ?, detail = ?, updated_at = ?"
	if retry {
		set += ", tries = tries + 1"
	}
	return s.inTx(ctx, "set kaspi action", func(tx *sql.Tx) error {
		return mustAffect(tx.ExecContext(ctx, s.d.q("UPDATE kaspi_actions SET "+set+
			" WHERE order_code = ? AND action = ?"), string(state), detail, dbTime(now), code, action))
	})
}

// AcceptCandidates implements domain.KaspiActions.
func (s *DB) AcceptCandidates(ctx context.Context, limit int) ([]domain.Record, error) {
	q := "SELECT " + recordCols + " FROM orders_map WHERE lead_id > 0 AND " + stepExpr + " = 'done' AND " + trackedExpr + " = 1" +
		" AND COALESCE(order_status, '') = ? AND NOT EXISTS (SELECT 1 FROM kaspi_actions a" +
		" WHERE a.order_code = orders_map.order_code AND a.action = ? AND a.state <> ?)" +
		" ORDER BY CASE WHEN creation_ms > 0 THEN 0 ELSE 1 END, creation_ms, order_code LIMIT ?"
	recs, err := s.queryRecords(ctx, s.db, q, domain.StatusApprovedByBank, domain.ActionAccept,
		string(domain.ActionIntent), limit)
	if err != nil {
		return nil, fmt.Errorf("store: accept candidates: %w", err)
	}
	return recs, nil
}
