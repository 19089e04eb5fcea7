package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"kaspi-amocrm/pkg/domain"
)

var (
	_ domain.Ledger     = (*DB)(nil)
	_ domain.Settings   = (*DB)(nil)
	_ domain.TokenStore = (*DB)(nil)
)

// Rows the PHP version wrote (before adoption, or after a rollback to it
// and back) have NULL in our columns; these expressions read them the way
// the adoption migration fills them: a row with a lead is done and tracked
// unless archived; a row without one is looked up in amoCRM by order code
// before anything is created (the PHP version may have created a lead and
// crashed before saving its id).
const (
	stepExpr    = "COALESCE(step, CASE WHEN lead_id > 0 THEN 'done' ELSE 'lead_requested' END)"
	trackedExpr = "COALESCE(tracked, CASE WHEN lead_id > 0 AND COALESCE(kaspi_status, '') = 'ARCHIVE' THEN 0 ELSE 1 END)"
	stateExpr   = "COALESCE(order_state, kaspi_status, '')"
	// storeExpr: rows without a store (the PHP version's, and ours from
	// before several Kaspi stores) belong to store 1.
	storeExpr = "COALESCE(store_no, 1)"
)

const recordCols = "order_code, kaspi_order_id, " + stateExpr + ", COALESCE(order_status, ''), creation_ms, " +
	"COALESCE(total_price, 0), lead_id, " + stepExpr + ", snapshot, COALESCE(phone, ''), contact_id, attempts, " +
	"next_attempt_at, COALESCE(last_error, ''), quarantined, amo_status_id, " + trackedExpr + ", checked_at, " +
	"created_at, COALESCE(updated_at, created_at), completed_at, " + storeExpr

// inBatch bounds IN (...) lists.
const inBatch = 500

type rowScanner interface{ Scan(dest ...any) error }

func scanRecord(sc rowScanner) (domain.Record, error) {
	var r domain.Record
	var step string
	var snapshot sql.NullString
	var quarantined, tracked int64
	err := sc.Scan(&r.Code, &r.KaspiID, &r.State, &r.Status, &r.CreationMs, &r.TotalPrice, &r.LeadID, &step,
		&snapshot, &r.Phone, &r.ContactID, &r.Attempts, scanTime{&r.NextAttemptAt}, &r.LastError, &quarantined,
		&r.AmoStatusID, &tracked, scanTime{&r.CheckedAt}, scanTime{&r.CreatedAt}, scanTime{&r.UpdatedAt},
		scanTime{&r.CompletedAt}, &r.StoreNo)
	if err != nil {
		return r, err
	}
	r.Step = domain.Step(step)
	r.Quarantined = quarantined != 0
	r.Tracked = tracked != 0
	if snapshot.Valid && snapshot.String != "" {
		var o domain.Order
		if err := json.Unmarshal([]byte(snapshot.String), &o); err != nil {
			return r, fmt.Errorf("order %s: snapshot: %w", r.Code, err)
		}
		r.Order = &o
	}
	return r, nil
}

func (s *DB) queryRecords(ctx context.Context, ex execer, query string, args ...any) ([]domain.Record, error) {
	rows, err := ex.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []domain.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func price(p float64) int64 { return int64(math.Round(p)) }

// storeNo is the store number written for an order: 0 (unknown) is store 1.
func storeNo(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// Ingest implements domain.Orders. Codes are inserted in sorted order so
// that two processes ingesting overlapping batches never deadlock.
func (s *DB) Ingest(ctx context.Context, orders []domain.Order, now time.Time) ([]string, error) {
	byCode := make(map[string]domain.Order, len(orders))
	codes := make([]string, 0, len(orders))
	for _, o := range orders {
		if o.Code == "" {
			return nil, errors.New("store: ingest: order without code")
		}
		if _, dup := byCode[o.Code]; !dup {
			codes = append(codes, o.Code)
		}
		byCode[o.Code] = o
	}
	slices.Sort(codes)
	var inserted []string
	err := s.inTxRetry(ctx, "ingest", func(tx *sql.Tx) error {
		inserted = inserted[:0]
		for _, code := range codes {
			o := byCode[code]
			snap, err := json.Marshal(o)
			if err != nil {
				return fmt.Errorf("order %s: %w", code, err)
			}
			ok, err := s.d.insertIfAbsent(ctx, tx, `INSERT INTO orders_map (order_code, kaspi_order_id, kaspi_status,
				lead_id, total_price, created_at, snapshot, order_state, order_status, creation_ms, phone, contact_id,
				step, attempts, quarantined, amo_status_id, tracked, checked_at, updated_at, store_no)
				VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, '', 0, ?, 0, 0, 0, 1, ?, ?, ?)`,
				code, o.ID, o.State, price(o.TotalPrice), dbTime(now), string(snap), o.State, o.Status, o.CreationMs,
				string(domain.StepNew), dbTime(now), dbTime(now), storeNo(o.StoreNo))
			if err != nil {
				return fmt.Errorf("order %s: %w", code, err)
			}
			if ok {
				inserted = append(inserted, code)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return inserted, nil
}

// UpdateOrder implements domain.Orders. kaspi_status keeps mirroring the
// state so that the PHP version reads the same on our database.
func (s *DB) UpdateOrder(ctx context.Context, o domain.Order, now time.Time) error {
	snap, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("store: update order %s: %w", o.Code, err)
	}
	set := "snapshot = ?, kaspi_status = ?, order_state = ?, order_status = ?, total_price = ?, checked_at = ?, updated_at = ?"
	args := []any{string(snap), o.State, o.State, o.Status, price(o.TotalPrice), dbTime(now), dbTime(now)}
	// Values Kaspi left out do not erase what we know.
	if o.CreationMs > 0 {
		set += ", creation_ms = ?"
		args = append(args, o.CreationMs)
	}
	if o.ID != "" {
		set += ", kaspi_order_id = ?"
		args = append(args, o.ID)
	}
	// A row adopted from a deal's name or field learns its store when
	// that store's listing returns the order.
	if o.StoreNo > 0 {
		set += ", store_no = ?"
		args = append(args, o.StoreNo)
	}
	args = append(args, o.Code)
	return s.inTx(ctx, "update order "+o.Code, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q("UPDATE orders_map SET "+set+" WHERE order_code = ?"), args...)
		return mustAffect(res, err)
	})
}

// mustAffect turns "no row matched" into domain.ErrNotFound.
func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return domain.ErrNotFound
	}
	return nil
}

// Record implements domain.Orders.
func (s *DB) Record(ctx context.Context, code string) (domain.Record, error) {
	recs, err := s.queryRecords(ctx, s.db, "SELECT "+recordCols+" FROM orders_map WHERE order_code = ?", code)
	if err != nil {
		return domain.Record{}, fmt.Errorf("store: record %s: %w", code, err)
	}
	if len(recs) == 0 {
		return domain.Record{}, fmt.Errorf("store: record %s: %w", code, domain.ErrNotFound)
	}
	return recs[0], nil
}

// Records implements domain.Orders.
func (s *DB) Records(ctx context.Context, codes []string) (map[string]domain.Record, error) {
	out := make(map[string]domain.Record, len(codes))
	for _, part := range chunks(codes, inBatch) {
		recs, err := s.queryRecords(ctx, s.db, "SELECT "+recordCols+" FROM orders_map WHERE order_code IN ("+
			placeholders(len(part))+")", anySlice(part)...)
		if err != nil {
			return nil, fmt.Errorf("store: records: %w", err)
		}
		for _, r := range recs {
			out[r.Code] = r
		}
	}
	return out, nil
}

// Due implements domain.Orders.
func (s *DB) Due(ctx context.Context, now time.Time, limit int, withQuarantined bool) ([]domain.Record, error) {
	q := "SELECT " + recordCols + " FROM orders_map WHERE " + stepExpr + " <> 'done'" +
		" AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
	if !withQuarantined {
		q += " AND quarantined = 0"
	}
	q += " ORDER BY CASE WHEN creation_ms > 0 THEN 0 ELSE 1 END, creation_ms, created_at, order_code LIMIT ?"
	recs, err := s.queryRecords(ctx, s.db, q, dbTime(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: due: %w", err)
	}
	return recs, nil
}

// Stale implements domain.Orders. Never-checked rows come first.
func (s *DB) Stale(ctx context.Context, checkedBefore time.Time, limit int) ([]domain.Record, error) {
	q := "SELECT " + recordCols + " FROM orders_map WHERE " + stepExpr + " = 'done' AND " + trackedExpr + " = 1" +
		" AND (checked_at IS NULL OR checked_at < ?)" +
		" ORDER BY CASE WHEN checked_at IS NULL THEN 0 ELSE 1 END, checked_at, order_code LIMIT ?"
	recs, err := s.queryRecords(ctx, s.db, q, dbTime(checkedBefore), limit)
	if err != nil {
		return nil, fmt.Errorf("store: stale: %w", err)
	}
	return recs, nil
}

// QuarantinedRecords lists quarantined rows for the status page, most
// recently touched first.
func (s *DB) QuarantinedRecords(ctx context.Context, limit int) ([]domain.Record, error) {
	q := "SELECT " + recordCols + " FROM orders_map WHERE quarantined <> 0" +
		" ORDER BY COALESCE(updated_at, created_at) DESC, order_code LIMIT ?"
	recs, err := s.queryRecords(ctx, s.db, q, limit)
	if err != nil {
		return nil, fmt.Errorf("store: quarantined records: %w", err)
	}
	return recs, nil
}

// SetStep implements domain.Orders.
func (s *DB) SetStep(ctx context.Context, codes []string, step domain.Step, now time.Time) error {
	set := "step = ?, updated_at = ?"
	if step == domain.StepDone {
		set += ", last_error = NULL, attempts = 0, next_attempt_at = NULL, quarantined = 0"
	}
	return s.inTx(ctx, "set step", func(tx *sql.Tx) error {
		for _, part := range chunks(codes, inBatch) {
			args := append([]any{string(step), dbTime(now)}, anySlice(part)...)
			_, err := tx.ExecContext(ctx, s.d.q("UPDATE orders_map SET "+set+" WHERE order_code IN ("+
				placeholders(len(part))+")"), args...)
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// SetLead implements domain.Orders.
func (s *DB) SetLead(ctx context.Context, code string, leadID int64, now time.Time) error {
	return s.inTx(ctx, "set lead "+code, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q("UPDATE orders_map SET lead_id = ?, step = ?, updated_at = ?, lead_created_at = COALESCE(lead_created_at, ?) WHERE order_code = ?"),
			leadID, string(domain.StepLeadCreated), dbTime(now), dbTime(now), code)
		return mustAffect(res, err)
	})
}

// SetContact implements domain.Orders.
func (s *DB) SetContact(ctx context.Context, code, phone string, contactID int64, now time.Time) error {
	return s.inTx(ctx, "set contact "+code, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q("UPDATE orders_map SET phone = ?, contact_id = ?, updated_at = ? WHERE order_code = ?"),
			phone, contactID, dbTime(now), code)
		return mustAffect(res, err)
	})
}

// SetAside implements domain.Orders.
func (s *DB) SetAside(ctx context.Context, code, lastError string, next time.Time, quarantined bool, now time.Time) error {
	return s.inTx(ctx, "set aside "+code, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q(`UPDATE orders_map SET attempts = attempts + 1, last_error = ?,
			next_attempt_at = ?, quarantined = ?, updated_at = ? WHERE order_code = ?`),
			lastError, dbTime(next), dbBoolInt(quarantined), dbTime(now), code)
		return mustAffect(res, err)
	})
}

// SetSynced implements domain.Orders.
func (s *DB) SetSynced(ctx context.Context, code, state, status string, amoStatusID int64, tracked bool, now time.Time) error {
	set := "kaspi_status = ?, order_state = ?, order_status = ?, tracked = ?, checked_at = ?, updated_at = ?"
	args := []any{state, state, status, dbBoolInt(tracked), dbTime(now), dbTime(now)}
	if status == domain.StatusCompleted {
		set += ", completed_at = COALESCE(completed_at, ?)"
		args = append(args, dbTime(now))
	}
	if amoStatusID > 0 {
		set += ", amo_status_id = ?"
		args = append(args, amoStatusID)
	}
	args = append(args, code)
	return s.inTx(ctx, "set synced "+code, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q("UPDATE orders_map SET "+set+" WHERE order_code = ?"), args...)
		return mustAffect(res, err)
	})
}

// DropSnapshots implements domain.Orders.
func (s *DB) DropSnapshots(ctx context.Context, olderThan time.Time) (int, error) {
	var n int64
	err := s.inTx(ctx, "drop snapshots", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q("UPDATE orders_map SET snapshot = NULL, phone = NULL WHERE "+stepExpr+
			" = 'done' AND (snapshot IS NOT NULL OR phone IS NOT NULL) AND COALESCE(updated_at, created_at) < ?"),
			dbTime(olderThan))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// StepCounts implements domain.Orders.
func (s *DB) StepCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT k, COUNT(*) FROM (SELECT CASE WHEN quarantined <> 0 THEN 'quarantined' ELSE "+
		stepExpr+" END AS k FROM orders_map) t GROUP BY k")
	if err != nil {
		return nil, fmt.Errorf("store: step counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, fmt.Errorf("store: step counts: %w", err)
		}
		out[k] = n
	}
	return out, rows.Err()
}
