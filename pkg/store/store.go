// Package store keeps the order ledger, settings, OAuth tokens, the status
// map, the caches and the run log in MySQL/MariaDB, PostgreSQL (9.2 and
// later) or SQLite over database/sql. The schema is the PHP version's,
// adopted and extended by additive migrations, so the PHP version still runs
// on a database this package has migrated.
//
// Every exported method is one transaction. Times are passed in by the
// caller and stored in UTC with second precision. All SQL that differs
// between the three databases lives in the dialect*.go files.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"kaspi-amocrm/pkg/domain"
	"net"
	"strings"
)

// Drivers accepted in Config.Driver.
const (
	DriverMySQL  = "mysql"
	DriverPgSQL  = "pgsql"
	DriverSQLite = "sqlite"
)

var (
	// ErrMigrationBusy: another process is running the migrations right now.
	// It wraps domain.ErrBusy.
	ErrMigrationBusy = fmt.Errorf("store: migrations are being run by another process: %w", domain.ErrBusy)
	// ErrSchemaBehind: the database schema is older than this program
	// (migrations are pending) or newer than it knows.
	ErrSchemaBehind = errors.New("store: database schema is not up to date")
)

// Config says which database to open. For SQLite only SQLitePath is used.
// Port may be empty (3306 for MySQL, 5432 for PostgreSQL).
type Config struct {
	Driver     string // mysql, pgsql (or postgres), sqlite
	Host       string // host name, IP, or a unix socket path starting with "/"
	Port       string
	Name       string
	User       string
	Pass       string
	SQLitePath string
}

// DB is an open store. It is safe for concurrent use.
type DB struct {
	db  *sql.DB
	d   dialect
	cfg Config
}

// Open connects to the database and checks that it answers. It does not
// migrate. Connection errors name the server and the database, never the
// password.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	drv, err := normalizeDriver(cfg.Driver)
	if err != nil {
		return nil, err
	}
	cfg.Driver = drv
	d := dialectFor(drv)
	db, err := d.open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &DB{db: db, d: d, cfg: cfg}, nil
}

func normalizeDriver(s string) (string, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "mysql", "mariadb":
		return DriverMySQL, nil
	case "pgsql", "postgres", "postgresql":
		return DriverPgSQL, nil
	case "sqlite", "sqlite3":
		return DriverSQLite, nil
	case "":
		return "", errors.New("store: database driver is not set (mysql, pgsql or sqlite)")
	}
	return "", fmt.Errorf("store: unknown database driver %q (want mysql, pgsql or sqlite)", s)
}

// Driver returns the normalised driver name: mysql, pgsql or sqlite.
func (s *DB) Driver() string { return s.d.name() }

// Config returns the configuration the store was opened with; tests use it
// to open a second handle on the same database.
func (s *DB) Config() Config { return s.cfg }

// SQL exposes the connection pool for diagnostics and tests.
func (s *DB) SQL() *sql.DB { return s.db }

// Close closes the pool.
func (s *DB) Close() error { return s.db.Close() }

// where names the server for error messages (never the password).
func (c Config) where() string {
	if c.Driver == DriverSQLite {
		return fmt.Sprintf("sqlite file %s", c.SQLitePath)
	}
	host := c.Host
	if host == "" {
		host = "127.0.0.1"
	}
	addr := host
	if !strings.HasPrefix(host, "/") {
		addr = net.JoinHostPort(host, c.port())
	}
	return fmt.Sprintf("%s at %s (database %q, user %q)", c.Driver, addr, c.Name, c.User)
}

func (c Config) port() string {
	if c.Port != "" {
		return c.Port
	}
	if c.Driver == DriverPgSQL {
		return "5432"
	}
	return "3306"
}

// inTx runs fn in one transaction and commits it; any error rolls back.
func (s *DB) inTx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s: begin: %w", op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s: commit: %w", op, err)
	}
	return nil
}

// inTxRetry is inTx for transactions without side effects outside the
// database: a deadlock or serialisation failure reruns it a few times.
func (s *DB) inTxRetry(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	var err error
	for attempt := 0; attempt < 4; attempt++ {
		err = s.inTx(ctx, op, fn)
		if err == nil || !s.d.isRetryable(err) || ctx.Err() != nil {
			return err
		}
	}
	return err
}
