package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"kaspi-amocrm/pkg/domain"
)

// Setting implements domain.Settings. A NULL value reads as "".
func (s *DB) Setting(ctx context.Context, key string) (string, bool, error) {
	var v sql.NullString
	err := s.db.QueryRowContext(ctx, s.d.q("SELECT "+s.d.ident("value")+" FROM settings WHERE "+s.d.ident("key")+" = ?"), key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("store: setting %s: %w", key, err)
	}
	return v.String, true, nil
}

// SetSetting implements domain.Settings.
func (s *DB) SetSetting(ctx context.Context, key, value string) error {
	return s.inTxRetry(ctx, "set setting "+key, func(tx *sql.Tx) error {
		return s.upsert(ctx, tx,
			"UPDATE settings SET "+s.d.ident("value")+" = ? WHERE "+s.d.ident("key")+" = ?", []any{value, key},
			"INSERT INTO settings ("+s.d.ident("key")+", "+s.d.ident("value")+") VALUES (?, ?)", []any{key, value})
	})
}

// upsert updates a row and inserts it when no row matched; a concurrent
// insert of the same key (unique violation) is answered by updating again.
// MySQL counts matched rows (clientFoundRows), so an update writing the
// same value still counts.
func (s *DB) upsert(ctx context.Context, tx *sql.Tx, update string, uargs []any, insert string, iargs []any) error {
	res, err := tx.ExecContext(ctx, s.d.q(update), uargs...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	ok, err := s.d.insertIfAbsent(ctx, tx, insert, iargs...)
	if err != nil || ok {
		return err
	}
	_, err = tx.ExecContext(ctx, s.d.q(update), uargs...)
	return err
}

// Token implements domain.TokenStore.
func (s *DB) Token(ctx context.Context, service string) (domain.Token, error) {
	t, found, err := s.token(ctx, s.db, service, false)
	if err != nil {
		return t, fmt.Errorf("store: token %s: %w", service, err)
	}
	if !found {
		return t, fmt.Errorf("store: token %s: %w", service, domain.ErrNotFound)
	}
	return t, nil
}

func (s *DB) token(ctx context.Context, ex execer, service string, lock bool) (domain.Token, bool, error) {
	var t domain.Token
	q := "SELECT access_token, refresh_token, expires_at FROM oauth_tokens WHERE service = ?"
	if lock {
		q += s.d.forUpdate()
	}
	var access, refresh sql.NullString
	var exp sql.NullInt64
	err := ex.QueryRowContext(ctx, s.d.q(q), service).Scan(&access, &refresh, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, err
	}
	return domain.Token{AccessToken: access.String, RefreshToken: refresh.String, ExpiresAt: exp.Int64}, true, nil
}

func (s *DB) saveToken(ctx context.Context, tx *sql.Tx, service string, t domain.Token) error {
	return s.upsert(ctx, tx,
		"UPDATE oauth_tokens SET access_token = ?, refresh_token = ?, expires_at = ? WHERE service = ?",
		[]any{t.AccessToken, t.RefreshToken, t.ExpiresAt, service},
		"INSERT INTO oauth_tokens (service, access_token, refresh_token, expires_at) VALUES (?, ?, ?, ?)",
		[]any{service, t.AccessToken, t.RefreshToken, t.ExpiresAt})
}

// SaveToken implements domain.TokenStore.
func (s *DB) SaveToken(ctx context.Context, service string, t domain.Token) error {
	return s.inTxRetry(ctx, "save token "+service, func(tx *sql.Tx) error {
		return s.saveToken(ctx, tx, service, t)
	})
}

// UpdateToken implements domain.TokenStore: the row is read with
// SELECT ... FOR UPDATE (MySQL, PostgreSQL) or inside a BEGIN IMMEDIATE
// transaction (SQLite), so a second process waits here until the first
// has saved its refreshed pair, then sees that pair. When there is no row
// yet nothing can be locked; two processes creating the first row at once
// make the later one fail on the insert rather than overwrite.
func (s *DB) UpdateToken(ctx context.Context, service string, fn func(cur domain.Token, found bool) (*domain.Token, error)) error {
	return s.inTx(ctx, "update token "+service, func(tx *sql.Tx) error {
		cur, found, err := s.token(ctx, tx, service, true)
		if err != nil {
			return err
		}
		next, err := fn(cur, found)
		if err != nil || next == nil {
			return err
		}
		if found {
			_, err = tx.ExecContext(ctx, s.d.q("UPDATE oauth_tokens SET access_token = ?, refresh_token = ?, expires_at = ? WHERE service = ?"),
				next.AccessToken, next.RefreshToken, next.ExpiresAt, service)
			return err
		}
		ok, err := s.d.insertIfAbsent(ctx, tx, "INSERT INTO oauth_tokens (service, access_token, refresh_token, expires_at) VALUES (?, ?, ?, ?)",
			service, next.AccessToken, next.RefreshToken, next.ExpiresAt)
		if err == nil && !ok {
			err = errors.New("token row was created by another process meanwhile")
		}
		return err
	})
}
