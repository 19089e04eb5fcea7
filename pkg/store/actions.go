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

var _ domain.StageLedger = (*DB)(nil)

// RecordsByLead implements domain.StageLedger.
func (s *DB) RecordsByLead(ctx context.Context, leadIDs []int64) (map[int64]domain.Record, error) {
	out := make(map[int64]domain.Record, len(leadIDs))
	var ids []any
	for _, id := range leadIDs {
		if id > 0 {
			ids = append(ids, id)
		}
	}
	for start := 0; start < len(ids); start += inBatch {
		part := ids[start:min(start+inBatch, len(ids))]
		recs, err := s.queryRecords(ctx, s.db, "SELECT "+recordCols+" FROM orders_map WHERE lead_id IN ("+
			placeholders(len(part))+")", part...)
		if err != nil {
			return nil, fmt.Errorf("store: records by lead: %w", err)
		}
		for _, r := range recs {
			out[r.LeadID] = r
		}
	}
	return out, nil
}

// ActionsInState implements domain.StageLedger.
func (s *DB) ActionsInState(ctx context.Context, action string, state domain.ActionState, limit int) ([]domain.KaspiAction, error) {
	q := `SELECT order_code, action, state, tries, detail, created_at, updated_at FROM kaspi_actions WHERE state = ?`
	args := []any{string(state)}
	if action != "" {
		q += " AND action = ?"
		args = append(args, action)
	}
	q += " ORDER BY updated_at, order_code LIMIT ?"
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: kaspi actions %s: %w", state, err)
	}
	defer rows.Close()
	var out []domain.KaspiAction
	for rows.Next() {
		var a domain.KaspiAction
		var st string
		var detail sql.NullString
		if err := rows.Scan(&a.Code, &a.Action, &st, &a.Tries, &detail, scanTime{&a.CreatedAt}, scanTime{&a.UpdatedAt}); err != nil {
			return nil, fmt.Errorf("store: kaspi actions %s: %w", state, err)
		}
		a.State, a.Detail = domain.ActionState(st), detail.String
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: kaspi actions %s: %w", state, err)
	}
	return out, nil
}

// RestartAction implements domain.StageLedger.
func (s *DB) RestartAction(ctx context.Context, code, action string, now time.Time) error {
	return s.inTx(ctx, "restart kaspi action", func(tx *sql.Tx) error {
		return mustAffect(tx.ExecContext(ctx, s.d.q(`UPDATE kaspi_actions SET state = ?, tries = 1, detail = '', updated_at = ?
			WHERE order_code = ? AND action = ?`), string(domain.ActionIntent), dbTime(now), code, action))
	})
}
