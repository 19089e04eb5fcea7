package store

import (
	"context"
	"database/sql"
	"fmt"
)

// ContactIDs implements domain.ContactCache.
func (s *DB) ContactIDs(ctx context.Context, phones []string) (map[string]int64, error) {
	out := make(map[string]int64, len(phones))
	for _, part := range chunks(phones, inBatch) {
		if err := s.scanPairs(ctx, out, "SELECT phone, contact_id FROM contact_cache WHERE phone IN ("+
			placeholders(len(part))+")", anySlice(part)...); err != nil {
			return nil, fmt.Errorf("store: contact ids: %w", err)
		}
	}
	return out, nil
}

// PutContact implements domain.ContactCache.
func (s *DB) PutContact(ctx context.Context, phone string, contactID int64) error {
	return s.inTxRetry(ctx, "put contact", func(tx *sql.Tx) error {
		return s.upsert(ctx, tx,
			"UPDATE contact_cache SET contact_id = ? WHERE phone = ?", []any{contactID, phone},
			"INSERT INTO contact_cache (phone, contact_id) VALUES (?, ?)", []any{phone, contactID})
	})
}

// ForgetContact implements domain.ContactCache.
func (s *DB) ForgetContact(ctx context.Context, contactID int64) error {
	return s.inTx(ctx, "forget contact", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.q("DELETE FROM contact_cache WHERE contact_id = ?"), contactID); err != nil {
			return err
		}
		// The phone index forgets it too: amoCRM no longer knows the id.
		_, err := tx.ExecContext(ctx, s.d.q("DELETE FROM contact_index WHERE contact_id = ?"), contactID)
		return err
	})
}

// ElementIDs implements domain.ElementCache.
func (s *DB) ElementIDs(ctx context.Context, catalogID int64, skus []string) (map[string]int64, error) {
	out := make(map[string]int64, len(skus))
	for _, part := range chunks(skus, inBatch) {
		args := append([]any{catalogID}, anySlice(part)...)
		if err := s.scanPairs(ctx, out, "SELECT sku, element_id FROM element_cache WHERE catalog_id = ? AND sku IN ("+
			placeholders(len(part))+")", args...); err != nil {
			return nil, fmt.Errorf("store: element ids: %w", err)
		}
	}
	return out, nil
}

// PutElement implements domain.ElementCache.
func (s *DB) PutElement(ctx context.Context, catalogID int64, sku string, elementID int64) error {
	return s.inTxRetry(ctx, "put element", func(tx *sql.Tx) error {
		return s.upsert(ctx, tx,
			"UPDATE element_cache SET element_id = ? WHERE catalog_id = ? AND sku = ?", []any{elementID, catalogID, sku},
			"INSERT INTO element_cache (catalog_id, sku, element_id) VALUES (?, ?, ?)", []any{catalogID, sku, elementID})
	})
}

// ForgetElement implements domain.ElementCache.
func (s *DB) ForgetElement(ctx context.Context, catalogID, elementID int64) error {
	return s.inTx(ctx, "forget element", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.d.q("DELETE FROM element_cache WHERE catalog_id = ? AND element_id = ?"), catalogID, elementID)
		return err
	})
}

func (s *DB) scanPairs(ctx context.Context, out map[string]int64, query string, args ...any) error {
	rows, err := s.db.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		out[k] = v
	}
	return rows.Err()
}
