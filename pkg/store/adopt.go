package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// adopt brings the PHP version's tables, at whatever level a shop's
// install left them, to the PHP version's latest shape, and creates those
// that are missing (an empty database gets all four). It only adds tables,
// columns and indexes, and drops one index the PHP version dropped itself
// (the unique index on kaspi_status alone); rows are never touched, except
// that a created_at column it had to add is filled with the adoption time.
// Every step looks at the catalog first, so it can run any number of times
// and resume after a failure halfway (MySQL DDL is not transactional; on
// PostgreSQL and SQLite the whole step is one transaction).
func (s *DB) adopt(ctx context.Context) error {
	if s.d.kind == DriverMySQL {
		return s.adoptWith(ctx, s.db)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := s.adoptWith(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (s *DB) adoptWith(ctx context.Context, ex execer) error {
	b := s.d.baseline()
	run := func(stmts ...string) error {
		for _, q := range stmts {
			if _, err := ex.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%.60s...: %w", q, err)
			}
		}
		return nil
	}
	tables, err := s.d.tableNames(ctx, ex)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}

	if !tables["settings"] {
		if err := run(b.settings); err != nil {
			return err
		}
	}
	if !tables["oauth_tokens"] {
		if err := run(b.oauthTokens); err != nil {
			return err
		}
	}

	if !tables["orders_map"] {
		if err := run(b.ordersMap); err != nil {
			return err
		}
	} else {
		cols, err := s.d.columnNames(ctx, ex, "orders_map")
		if err != nil {
			return fmt.Errorf("orders_map columns: %w", err)
		}
		for _, c := range []string{"kaspi_status", "total_price", "processing_token", "processing_at", "created_at"} {
			if cols[c] {
				continue
			}
			if err := run(b.ordersMapColumns[c]); err != nil {
				return err
			}
			if c == "created_at" {
				if err := run("UPDATE orders_map SET created_at = CURRENT_TIMESTAMP WHERE created_at IS NULL"); err != nil {
					return err
				}
			}
		}
	}

	if !tables["status_mapping"] {
		if err := run(b.statusMapping); err != nil {
			return err
		}
		return run(b.statusMappingExtra...)
	}
	cols, err := s.d.columnNames(ctx, ex, "status_mapping")
	if err != nil {
		return fmt.Errorf("status_mapping columns: %w", err)
	}
	for _, c := range []string{"sort_order", "is_active"} {
		if !cols[c] {
			if err := run(b.statusMappingColumns[c]); err != nil {
				return err
			}
		}
	}
	return s.adoptStatusMappingIndexes(ctx, ex, b)
}

// adoptStatusMappingIndexes leaves status_mapping with a unique index on
// (kaspi_status, amo_pipeline_id), as the PHP version's latest migration
// does. Old installs carry a unique index on kaspi_status alone (one
// pipeline per Kaspi value; the PHP version dropped it) and some a unique
// index on (kaspi_status, amo_pipeline_id, amo_status_id), which is kept.
// Where the "allow multiple" level already holds two rows for one pair, the
// pair index cannot be built without deleting rows, so it is not built:
// the store's upsert then updates the pair's first row.
func (s *DB) adoptStatusMappingIndexes(ctx context.Context, ex execer, b baselineDDL) error {
	idx, err := s.d.uniqueIndexes(ctx, ex, "status_mapping")
	if err != nil {
		return fmt.Errorf("status_mapping indexes: %w", err)
	}
	pair := []string{"amo_pipeline_id", "kaspi_status"}
	hasPair := false
	for _, ix := range idx {
		switch {
		case slices.Equal(ix.cols, []string{"kaspi_status"}):
			if _, err := ex.ExecContext(ctx, s.d.dropIndex("status_mapping", ix.name)); err != nil {
				return fmt.Errorf("drop index %s: %w", ix.name, err)
			}
		case slices.Equal(ix.cols, pair):
			hasPair = true
		}
	}
	if hasPair {
		return nil
	}
	var dups int
	err = ex.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT kaspi_status, amo_pipeline_id FROM status_mapping
		GROUP BY kaspi_status, amo_pipeline_id HAVING COUNT(*) > 1) d`).Scan(&dups)
	if err != nil {
		return fmt.Errorf("status_mapping duplicates: %w", err)
	}
	if dups > 0 {
		return nil
	}
	for _, ix := range idx {
		// The name is taken by an index over other columns: free it.
		if ix.name == "status_mapping_kaspi_pipeline_unique" {
			if _, err := ex.ExecContext(ctx, s.d.dropIndex("status_mapping", ix.name)); err != nil {
				return fmt.Errorf("drop index %s: %w", ix.name, err)
			}
		}
	}
	if _, err := ex.ExecContext(ctx, b.pairIndex); err != nil {
		return fmt.Errorf("create pair index: %w", err)
	}
	return nil
}

var _ execer = (*sql.DB)(nil)
var _ execer = (*sql.Tx)(nil)
