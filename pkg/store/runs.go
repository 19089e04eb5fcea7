package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// StartRun implements domain.RunLog.
func (s *DB) StartRun(ctx context.Context, task string, now time.Time) (int64, error) {
	var id int64
	err := s.inTx(ctx, "start run", func(tx *sql.Tx) error {
		var err error
		id, err = s.d.insertID(ctx, tx, "INSERT INTO run_log (task, started_at, ok) VALUES (?, ?, 0)", task, dbTime(now))
		return err
	})
	return id, err
}

// FinishRun implements domain.RunLog: ok is result ok, not ok is error.
func (s *DB) FinishRun(ctx context.Context, id int64, ok bool, summary string, now time.Time) error {
	res := domain.ResultOK
	if !ok {
		res = domain.ResultError
	}
	return s.FinishRunResult(ctx, id, domain.RunEnd{Result: res, Summary: summary}, now)
}

// FinishRunResult implements domain.RunLog. The ok column (read by the
// PHP-era tools and the "no run without error" checks) is set for ok and
// warn: the run did its job, with orders set aside or not.
func (s *DB) FinishRunResult(ctx context.Context, id int64, end domain.RunEnd, now time.Time) error {
	return s.inTx(ctx, "finish run", func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, s.d.q("UPDATE run_log SET finished_at = ?, ok = ?, result = ?, reason = ?, summary = ?, amo_requests = ? WHERE id = ?"),
			dbTime(now), dbBoolInt(end.Result != domain.ResultError), string(end.Result), end.Reason, end.Summary, end.AmoRequests, id)
		return mustAffect(r, err)
	})
}

// LastRuns returns the n most recent runs of a task ("" = every task),
// newest first.
func (s *DB) LastRuns(ctx context.Context, task string, n int) ([]domain.Run, error) {
	q := "SELECT id, task, started_at, finished_at, ok, COALESCE(summary, ''), COALESCE(result, ''), COALESCE(reason, ''), amo_requests FROM run_log"
	var args []any
	if task != "" {
		q += " WHERE task = ?"
		args = append(args, task)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, n)
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: last runs: %w", err)
	}
	defer rows.Close()
	var out []domain.Run
	for rows.Next() {
		var r domain.Run
		var ok int64
		var res string
		if err := rows.Scan(&r.ID, &r.Task, scanTime{&r.StartedAt}, scanTime{&r.FinishedAt}, &ok, &r.Summary, &res, &r.Reason, &r.AmoRequests); err != nil {
			return nil, fmt.Errorf("store: last runs: %w", err)
		}
		r.OK = ok != 0
		r.Result = domain.Result(res)
		if r.Result == "" && !r.FinishedAt.IsZero() {
			// A run recorded before results were kept.
			r.Result = domain.ResultError
			if r.OK {
				r.Result = domain.ResultOK
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PruneRuns deletes runs started before the given time and returns how
// many went (the log grows by one row a minute).
func (s *DB) PruneRuns(ctx context.Context, before time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, "prune runs", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q("DELETE FROM run_log WHERE started_at < ?"), dbTime(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}
