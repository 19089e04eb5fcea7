package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// StatusMappingFilter narrows ListStatusMappings. KaspiStatus and
// PipelineID filter only together (as the PHP API did); OnlyActive always.
type StatusMappingFilter struct {
	KaspiStatus string
	PipelineID  int64
	OnlyActive  bool
}

// StatusMappingStats counts the status_mapping rows.
type StatusMappingStats struct {
	Total, Active, Inactive int
}

const mappingCols = "id, kaspi_status, amo_pipeline_id, amo_status_id, sort_order, COALESCE(amo_responsible_user_id, 0), " +
	"is_active, created_at, updated_at"

func scanMapping(sc rowScanner) (domain.StatusMapping, error) {
	var m domain.StatusMapping
	err := sc.Scan(&m.ID, &m.KaspiStatus, &m.AmoPipelineID, &m.AmoStatusID, &m.SortOrder, &m.AmoResponsibleUserID,
		&m.IsActive, scanTime{&m.CreatedAt}, scanTime{&m.UpdatedAt})
	return m, err
}

// ListStatusMappings returns the status_mapping rows, by Kaspi value,
// pipeline, sort order and id.
func (s *DB) ListStatusMappings(ctx context.Context, f StatusMappingFilter) ([]domain.StatusMapping, error) {
	q := "SELECT " + mappingCols + " FROM status_mapping WHERE 1 = 1"
	var args []any
	if f.KaspiStatus != "" && f.PipelineID != 0 {
		q += " AND kaspi_status = ? AND amo_pipeline_id = ?"
		args = append(args, f.KaspiStatus, f.PipelineID)
	}
	if f.OnlyActive {
		q += " AND is_active = ?"
		args = append(args, true)
	}
	q += " ORDER BY kaspi_status, amo_pipeline_id, sort_order, id"
	rows, err := s.db.QueryContext(ctx, s.d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list status mappings: %w", err)
	}
	defer rows.Close()
	var out []domain.StatusMapping
	for rows.Next() {
		m, err := scanMapping(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list status mappings: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// UpsertStatusMapping writes the mapping of (KaspiStatus, AmoPipelineID):
// it updates the existing row (amo status, sort order, responsible user,
// active flag, updated_at=now) or inserts one (created_at=now) and returns
// its id. Databases at the PHP "allow multiple" level may hold several rows
// for one pair; then the row already pointing at the same amoCRM status is
// updated, else the oldest.
func (s *DB) UpsertStatusMapping(ctx context.Context, m domain.StatusMapping, now time.Time) (int64, error) {
	if m.KaspiStatus == "" || m.AmoPipelineID == 0 || m.AmoStatusID == 0 {
		return 0, errors.New("store: upsert status mapping: kaspi_status, amo_pipeline_id and amo_status_id are required")
	}
	var resp any
	if m.AmoResponsibleUserID != 0 {
		resp = m.AmoResponsibleUserID
	}
	var id int64
	err := s.inTxRetry(ctx, "upsert status mapping", func(tx *sql.Tx) error {
		find := func() (int64, error) {
			var id int64
			err := tx.QueryRowContext(ctx, s.d.q(`SELECT id FROM status_mapping WHERE kaspi_status = ? AND amo_pipeline_id = ?
				ORDER BY CASE WHEN amo_status_id = ? THEN 0 ELSE 1 END, id LIMIT 1`+s.d.forUpdate()),
				m.KaspiStatus, m.AmoPipelineID, m.AmoStatusID).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				return 0, nil
			}
			return id, err
		}
		var err error
		if id, err = find(); err != nil {
			return err
		}
		if id == 0 {
			ok, err := s.d.insertIfAbsent(ctx, tx, `INSERT INTO status_mapping (kaspi_status, amo_pipeline_id, amo_status_id,
				sort_order, amo_responsible_user_id, is_active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
				m.KaspiStatus, m.AmoPipelineID, m.AmoStatusID, m.SortOrder, resp, m.IsActive, dbTime(now), dbTime(now))
			if err != nil {
				return err
			}
			if id, err = find(); err != nil {
				return err
			}
			if ok {
				return nil
			}
			if id == 0 {
				return errors.New("row vanished")
			}
		}
		_, err = tx.ExecContext(ctx, s.d.q(`UPDATE status_mapping SET amo_status_id = ?, sort_order = ?,
			amo_responsible_user_id = ?, is_active = ?, updated_at = ? WHERE id = ?`),
			m.AmoStatusID, m.SortOrder, resp, m.IsActive, dbTime(now), id)
		return err
	})
	return id, err
}

// DeleteStatusMapping deletes a row; false when there was none.
func (s *DB) DeleteStatusMapping(ctx context.Context, id int64) (bool, error) {
	var found bool
	err := s.inTx(ctx, "delete status mapping", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q("DELETE FROM status_mapping WHERE id = ?"), id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		found = n > 0
		return err
	})
	return found, err
}

// SetStatusMappingActive switches a row on or off; false when there is no
// such row.
func (s *DB) SetStatusMappingActive(ctx context.Context, id int64, active bool, now time.Time) (bool, error) {
	var found bool
	err := s.inTx(ctx, "set status mapping active", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q("UPDATE status_mapping SET is_active = ?, updated_at = ? WHERE id = ?"),
			active, dbTime(now), id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		found = n > 0
		return err
	})
	return found, err
}

// StatusMappingCounts counts all, active and inactive rows.
func (s *DB) StatusMappingCounts(ctx context.Context) (StatusMappingStats, error) {
	var st StatusMappingStats
	err := s.db.QueryRowContext(ctx, s.d.q("SELECT COUNT(*), COALESCE(SUM(CASE WHEN is_active = ? THEN 1 ELSE 0 END), 0) FROM status_mapping"), true).
		Scan(&st.Total, &st.Active)
	if err != nil {
		return st, fmt.Errorf("store: status mapping stats: %w", err)
	}
	st.Inactive = st.Total - st.Active
	return st, nil
}

// ActiveStatusMappings implements domain.StatusMaps. When a pipeline maps one
// Kaspi value twice, the lowest sort order (then id) wins.
func (s *DB) ActiveStatusMappings(ctx context.Context, pipelineID int64) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT kaspi_status, amo_status_id FROM status_mapping
		WHERE amo_pipeline_id = ? AND is_active = ? ORDER BY sort_order, id`), pipelineID, true)
	if err != nil {
		return nil, fmt.Errorf("store: active status mappings: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("store: active status mappings: %w", err)
		}
		if _, seen := out[k]; !seen {
			out[k] = v
		}
	}
	return out, rows.Err()
}
