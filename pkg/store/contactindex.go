package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// contactIndexKey is the settings row holding the phone index's state.
const contactIndexKey = domain.ContactIndexKey

// indexChunk bounds the contacts written by one statement (two
// placeholders per phone stay far under every driver's limit).
const indexChunk = 200

// IndexedContactIDs implements domain.ContactIndex.
func (s *DB) IndexedContactIDs(ctx context.Context, phones []string) (map[string]int64, error) {
	out := make(map[string]int64, len(phones))
	for _, part := range chunks(phones, inBatch) {
		if err := s.scanPairs(ctx, out, "SELECT phone, MIN(contact_id) FROM contact_index WHERE phone IN ("+
			placeholders(len(part))+") GROUP BY phone", anySlice(part)...); err != nil {
			return nil, fmt.Errorf("store: indexed contact ids: %w", err)
		}
	}
	return out, nil
}

// IndexContacts implements domain.ContactIndex.
func (s *DB) IndexContacts(ctx context.Context, contacts []domain.IndexedContact, st domain.ContactIndexState) error {
	state, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("store: index contacts: %w", err)
	}
	return s.inTxRetry(ctx, "index contacts", func(tx *sql.Tx) error {
		for start := 0; start < len(contacts); start += indexChunk {
			part := contacts[start:min(start+indexChunk, len(contacts))]
			ids := make([]any, 0, len(part))
			keep := map[int64][]string{}
			var rows []string
			var args []any
			for _, c := range part {
				ids = append(ids, c.ID)
				phones := slices.Compact(slices.Sorted(slices.Values(c.Phones)))
				keep[c.ID] = phones
				for _, p := range phones {
					rows = append(rows, "(?, ?)")
					args = append(args, c.ID, p)
				}
			}
			if _, err := tx.ExecContext(ctx, s.d.q("DELETE FROM contact_index WHERE contact_id IN ("+placeholders(len(ids))+")"), ids...); err != nil {
				return err
			}
			if len(rows) > 0 {
				if _, err := tx.ExecContext(ctx, s.d.q("INSERT INTO contact_index (contact_id, phone) VALUES "+strings.Join(rows, ", ")), args...); err != nil {
					return err
				}
			}
			// A cached phone the contact no longer has is no longer its.
			stale, err := s.staleCached(ctx, tx, ids, keep)
			if err != nil {
				return err
			}
			for _, p := range stale {
				if _, err := tx.ExecContext(ctx, s.d.q("DELETE FROM contact_cache WHERE phone = ?"), p); err != nil {
					return err
				}
			}
		}
		return s.setIndexState(ctx, tx, string(state))
	})
}

// staleCached returns the cached phones of these contacts that keep does
// not list for them.
func (s *DB) staleCached(ctx context.Context, tx *sql.Tx, ids []any, keep map[int64][]string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, s.d.q("SELECT phone, contact_id FROM contact_cache WHERE contact_id IN ("+placeholders(len(ids))+")"), ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var stale []string
	for rows.Next() {
		var p string
		var id int64
		if err := rows.Scan(&p, &id); err != nil {
			return nil, err
		}
		if !slices.Contains(keep[id], p) {
			stale = append(stale, p)
		}
	}
	return stale, rows.Err()
}

// ClearContactIndex implements domain.ContactIndex.
func (s *DB) ClearContactIndex(ctx context.Context, st domain.ContactIndexState) error {
	state, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("store: clear contact index: %w", err)
	}
	return s.inTxRetry(ctx, "clear contact index", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, "DELETE FROM contact_index"); err != nil {
			return err
		}
		return s.setIndexState(ctx, tx, string(state))
	})
}

// ContactIndexState implements domain.ContactIndex. A value that does not
// decode reads as the zero state: the index is built again.
func (s *DB) ContactIndexState(ctx context.Context) (domain.ContactIndexState, error) {
	var st domain.ContactIndexState
	v, ok, err := s.Setting(ctx, contactIndexKey)
	if err != nil || !ok {
		return st, err
	}
	if json.Unmarshal([]byte(v), &st) != nil {
		return domain.ContactIndexState{}, nil
	}
	return st, nil
}

// SetContactIndexState implements domain.ContactIndex.
func (s *DB) SetContactIndexState(ctx context.Context, st domain.ContactIndexState) error {
	state, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("store: contact index state: %w", err)
	}
	return s.SetSetting(ctx, contactIndexKey, string(state))
}

func (s *DB) setIndexState(ctx context.Context, tx *sql.Tx, value string) error {
	return s.upsert(ctx, tx,
		"UPDATE settings SET "+s.d.ident("value")+" = ? WHERE "+s.d.ident("key")+" = ?", []any{value, contactIndexKey},
		"INSERT INTO settings ("+s.d.ident("key")+", "+s.d.ident("value")+") VALUES (?, ?)", []any{contactIndexKey, value})
}
