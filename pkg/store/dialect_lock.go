package store

// The named advisory lock, held across processes and hosts.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// TryLock takes a named lock held until release is called, across
// processes and hosts sharing the database: MySQL GET_LOCK and PostgreSQL
// pg_try_advisory_lock on a connection of their own; on SQLite a lock file
// next to the database (flock). ok is false when another holder has it.
// release is safe to call more than once.
func (s *DB) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	switch s.d.kind {
	case DriverSQLite:
		fl := flock.New(s.cfg.SQLitePath + ".lock-" + name)
		got, err := fl.TryLock()
		if err != nil {
			return nil, false, fmt.Errorf("store: lock %s: %w", name, err)
		}
		if !got {
			return nil, false, nil
		}
		return sync.OnceFunc(func() { _ = fl.Unlock() }), true, nil
	case DriverMySQL, DriverPgSQL:
	default:
		panic(s.d.unknown())
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("store: lock %s: %w", name, err)
	}
	var got sql.NullBool
	var unlock string
	var key any
	if s.d.kind == DriverMySQL {
		// GET_LOCK is server-wide: the database name keeps two shops on one
		// server apart. Names are limited to 64 characters.
		k := "ka:" + s.cfg.Name + ":" + name
		if len(k) > 64 {
			k = fmt.Sprintf("ka:%x", fnvHash(k))
		}
		key = k
		err = conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 0)", k).Scan(&got)
		unlock = "SELECT RELEASE_LOCK(?)"
	} else {
		// Advisory locks are per database already.
		key = int64(fnvHash("ka:" + name))
		err = conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&got)
		unlock = "SELECT pg_advisory_unlock($1)"
	}
	if err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("store: lock %s: %w", name, err)
	}
	if !got.Valid || !got.Bool {
		conn.Close()
		return nil, false, nil
	}
	return sync.OnceFunc(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := conn.ExecContext(ctx, unlock, key); err != nil {
			// The lock belongs to the session: a connection we cannot
			// unlock on is thrown away, never returned to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}), true, nil
}

func fnvHash(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}
