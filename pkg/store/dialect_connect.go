package store

// Connecting to each database, for the store and for golang-migrate.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/golang-migrate/migrate/v4/database"
	migratemysql "github.com/golang-migrate/migrate/v4/database/mysql"
	migratepg "github.com/golang-migrate/migrate/v4/database/postgres"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/lib/pq"
)

func (d dialect) open(ctx context.Context, cfg Config) (*sql.DB, error) {
	switch d.kind {
	case DriverMySQL:
		return openMySQL(ctx, cfg, false)
	case DriverPgSQL:
		return openPg(ctx, cfg)
	case DriverSQLite:
		return openSQLite(ctx, cfg)
	default:
		panic(d.unknown())
	}
}

func mysqlConfig(cfg Config, multi bool) (*mysql.Config, error) {
	mc := mysql.NewConfig()
	mc.User = cfg.User
	mc.Passwd = cfg.Pass
	mc.DBName = cfg.Name
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	if strings.HasPrefix(host, "/") {
		mc.Net, mc.Addr = "unix", host
	} else {
		mc.Net, mc.Addr = "tcp", net.JoinHostPort(host, cfg.port())
	}
	mc.ParseTime = true
	mc.Loc = time.UTC
	// Matched rows, not changed rows: an UPDATE that writes the same value
	// still tells us the row exists.
	mc.ClientFoundRows = true
	mc.MultiStatements = multi
	mc.Timeout = 10 * time.Second
	mc.Params = map[string]string{"time_zone": "'+00:00'"}
	if err := mc.Apply(mysql.Charset("utf8mb4", "utf8mb4_unicode_ci")); err != nil {
		return nil, err
	}
	return mc, nil
}

func openMySQL(ctx context.Context, cfg Config, multi bool) (*sql.DB, error) {
	mc, err := mysqlConfig(cfg, multi)
	if err != nil {
		return nil, fmt.Errorf("store: connect to %s: %w", cfg.where(), err)
	}
	conn, err := mysql.NewConnector(mc)
	if err != nil {
		return nil, fmt.Errorf("store: connect to %s: %w", cfg.where(), err)
	}
	db := sql.OpenDB(conn)
	db.SetConnMaxLifetime(3 * time.Minute)
	db.SetMaxIdleConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", cfg.where(), err)
	}
	return db, nil
}

func pgDSN(cfg Config, sslmode string) string {
	host := cfg.Host
	if host == "" {
		host = "127.0.0.1"
	}
	kv := func(k, v string) string {
		v = strings.ReplaceAll(v, `\`, `\\`)
		v = strings.ReplaceAll(v, `'`, `\'`)
		return k + "='" + v + "' "
	}
	s := kv("host", host) + kv("port", cfg.port()) + kv("dbname", cfg.Name) + kv("user", cfg.User)
	if cfg.Pass != "" {
		s += kv("password", cfg.Pass)
	}
	// timezone: NOW() defaults of the PHP tables write UTC like the PHP code did.
	return s + kv("sslmode", sslmode) + kv("connect_timeout", "10") + kv("timezone", "UTC")
}

// openPg tries TLS first and falls back to a plain connection when the
// server has no TLS, like PHP's default sslmode=prefer (lib/pq has no
// "prefer"). Unix sockets never use TLS.
func openPg(ctx context.Context, cfg Config) (*sql.DB, error) {
	modes := []string{"require", "disable"}
	if strings.HasPrefix(cfg.Host, "/") {
		modes = []string{"disable"}
	}
	var last error
	for _, mode := range modes {
		conn, err := pq.NewConnector(pgDSN(cfg, mode))
		if err != nil {
			return nil, fmt.Errorf("store: connect to %s: %w", cfg.where(), err)
		}
		db := sql.OpenDB(conn)
		db.SetConnMaxLifetime(3 * time.Minute)
		db.SetMaxIdleConns(4)
		err = db.PingContext(ctx)
		if err == nil {
			return db, nil
		}
		db.Close()
		last = err
		if !errors.Is(err, pq.ErrSSLNotSupported) {
			break
		}
	}
	return nil, fmt.Errorf("store: connect to %s: %w", cfg.where(), last)
}

func sqliteDSN(path string) string {
	// WAL lets readers and one writer work at once across processes;
	// busy_timeout waits for the other process instead of failing; every
	// transaction starts IMMEDIATE (takes the write lock first), which is
	// SQLite's row lock: a read-modify-write never loses an update.
	return "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
}

func openSQLite(ctx context.Context, cfg Config) (*sql.DB, error) {
	if cfg.SQLitePath == "" {
		return nil, errors.New("store: sqlite: database file path is empty")
	}
	if dir := filepath.Dir(cfg.SQLitePath); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: connect to %s: %w", cfg.where(), err)
		}
	}
	// The file holds OAuth tokens and buyers' names and phones: create it
	// owner-only before SQLite does (with 0644 under a usual umask).
	if f, err := os.OpenFile(cfg.SQLitePath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("store: connect to %s: %w", cfg.where(), err)
	}
	db, err := sql.Open("sqlite", sqliteDSN(cfg.SQLitePath))
	if err != nil {
		return nil, fmt.Errorf("store: connect to %s: %w", cfg.where(), err)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", cfg.where(), err)
	}
	return db, nil
}

// migrationDriver opens golang-migrate's driver for this dialect on a
// connection of its own. MySQL needs multiStatements for multi-statement
// files (we keep one statement per file, but the version table code and
// future files may need it). closeFn releases what was opened here.
func (d dialect) migrationDriver(ctx context.Context, cfg Config) (drv database.Driver, closeFn func(), err error) {
	switch d.kind {
	case DriverMySQL:
		db, err := openMySQL(ctx, cfg, true)
		if err != nil {
			return nil, nil, err
		}
		return onOwnConn(ctx, db, func(conn *sql.Conn) (database.Driver, error) {
			return migratemysql.WithConnection(ctx, conn, &migratemysql.Config{DatabaseName: cfg.Name})
		})
	case DriverPgSQL:
		db, err := openPg(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		return onOwnConn(ctx, db, func(conn *sql.Conn) (database.Driver, error) {
			return migratepg.WithConnection(ctx, conn, &migratepg.Config{DatabaseName: cfg.Name})
		})
	case DriverSQLite:
		// golang-migrate's SQLite driver closes the *sql.DB it is given,
		// so it gets a pool of its own on the same file.
		db, err := openSQLite(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		m, err := migratesqlite.WithInstance(db, &migratesqlite.Config{})
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return m, func() { m.Close() }, nil
	default:
		panic(d.unknown())
	}
}

// onOwnConn hands golang-migrate a connection of db's own (its lock and
// session settings stay on it); closing the driver and db releases both.
func onOwnConn(ctx context.Context, db *sql.DB, wrap func(*sql.Conn) (database.Driver, error)) (database.Driver, func(), error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	m, err := wrap(conn)
	if err != nil {
		conn.Close()
		db.Close()
		return nil, nil, err
	}
	return m, func() { m.Close(); db.Close() }, nil
}

// migrationsTableExists and the version query read golang-migrate's table
