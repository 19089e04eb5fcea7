package store

// Every difference between MySQL/MariaDB, PostgreSQL and SQLite lives in
// this file: connecting, placeholders, identifier quoting, telling a unique
// violation or a deadlock by its driver code, insert-if-absent, row locks,
// advisory locks, catalog inspection and the DDL of the PHP baseline.

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/gofrs/flock"
	"github.com/golang-migrate/migrate/v4/database"
	migratemysql "github.com/golang-migrate/migrate/v4/database/mysql"
	migratepg "github.com/golang-migrate/migrate/v4/database/postgres"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/lib/pq"
	"modernc.org/sqlite"
)

type dialect struct{ kind string }

func dialectFor(driver string) dialect { return dialect{kind: driver} }

func (d dialect) name() string { return d.kind }

// ---- connecting ----

func (d dialect) open(ctx context.Context, cfg Config) (*sql.DB, error) {
	switch d.kind {
	case DriverMySQL:
		return openMySQL(ctx, cfg, false)
	case DriverPgSQL:
		return openPg(ctx, cfg)
	default:
		return openSQLite(ctx, cfg)
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

// ---- SQL text ----

// q rewrites ? placeholders to $1, $2, ... for PostgreSQL. Our queries
// never carry a literal question mark.
func (d dialect) q(query string) string {
	if d.kind != DriverPgSQL {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ident quotes a column name that is a reserved word somewhere (key, value).
func (d dialect) ident(name string) string {
	if d.kind == DriverMySQL {
		return "`" + name + "`"
	}
	return `"` + name + `"`
}

// forUpdate is the row-lock suffix of a SELECT. SQLite has no row locks:
// its transactions begin IMMEDIATE (see sqliteDSN), which locks the file.
func (d dialect) forUpdate() string {
	if d.kind == DriverSQLite {
		return ""
	}
	return " FOR UPDATE"
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// ---- error codes ----

func (d dialect) isUnique(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == 2067 || se.Code() == 1555 // SQLITE_CONSTRAINT_UNIQUE, _PRIMARYKEY
	}
	return false
}

// isRetryable: deadlock, lock wait timeout, serialisation failure, busy.
func (d dialect) isRetryable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1213 || me.Number == 1205
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "40P01" || pe.Code == "40001"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == 5 || se.Code()&0xff == 6 // SQLITE_BUSY, SQLITE_LOCKED
	}
	return false
}

// isAlreadyApplied tells a migration that failed because its object
// already exists (it had been applied before a crash kept the version
// dirty). Only codes that name exactly that are accepted.
func (d dialect) isAlreadyApplied(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		// duplicate column, table exists, duplicate key name
		return me.Number == 1060 || me.Number == 1050 || me.Number == 1061
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		// duplicate_column, duplicate_table, duplicate_object
		return pe.Code == "42701" || pe.Code == "42P07" || pe.Code == "42710"
	}
	// SQLite reports these as the generic SQLITE_ERROR; never guessed.
	return false
}

// ---- insert if absent, insert returning id ----

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// insertIfAbsent runs an INSERT and reports false when it hit a unique
// violation (the row exists), leaving the transaction usable. PostgreSQL
// aborts the whole transaction on any error, hence the SAVEPOINT.
func (d dialect) insertIfAbsent(ctx context.Context, tx *sql.Tx, query string, args ...any) (bool, error) {
	if d.kind == DriverPgSQL {
		if _, err := tx.ExecContext(ctx, "SAVEPOINT ka_insert"); err != nil {
			return false, err
		}
	}
	_, err := tx.ExecContext(ctx, d.q(query), args...)
	if err != nil {
		if !d.isUnique(err) {
			return false, err
		}
		if d.kind == DriverPgSQL {
			if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT ka_insert"); rerr != nil {
				return false, rerr
			}
		}
		return false, nil
	}
	if d.kind == DriverPgSQL {
		if _, err := tx.ExecContext(ctx, "RELEASE SAVEPOINT ka_insert"); err != nil {
			return false, err
		}
	}
	return true, nil
}

// insertID runs an INSERT into a table with an auto id and returns the id.
func (d dialect) insertID(ctx context.Context, ex execer, query string, args ...any) (int64, error) {
	if d.kind == DriverPgSQL {
		var id int64
		err := ex.QueryRowContext(ctx, d.q(query)+" RETURNING id", args...).Scan(&id)
		return id, err
	}
	res, err := ex.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// ---- advisory lock ----

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
		return nil, false, fmt.Errorf("store: lock %s: unknown driver", name)
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

// ---- catalog ----

func (d dialect) tableNames(ctx context.Context, ex execer) (map[string]bool, error) {
	var query string
	switch d.kind {
	case DriverMySQL:
		query = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
	case DriverPgSQL:
		query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	default:
		query = "SELECT name FROM sqlite_master WHERE type = 'table'"
	}
	rows, err := ex.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[strings.ToLower(n)] = true
	}
	return out, rows.Err()
}

func (d dialect) columnNames(ctx context.Context, ex execer, table string) (map[string]bool, error) {
	var rows *sql.Rows
	var err error
	switch d.kind {
	case DriverMySQL:
		rows, err = ex.QueryContext(ctx, "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?", table)
	case DriverPgSQL:
		rows, err = ex.QueryContext(ctx, "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1", table)
	default:
		rows, err = ex.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", table)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out[strings.ToLower(n)] = true
	}
	return out, rows.Err()
}

// uniqueIndex is a unique index (not the primary key) with its columns
// sorted by name.
type uniqueIndex struct {
	name string
	cols []string
}

func (d dialect) uniqueIndexes(ctx context.Context, ex execer, table string) ([]uniqueIndex, error) {
	var query string
	switch d.kind {
	case DriverMySQL:
		query = "SELECT index_name, column_name FROM information_schema.statistics WHERE table_schema = DATABASE() AND table_name = ? AND non_unique = 0 AND index_name <> 'PRIMARY'"
	case DriverPgSQL:
		// pg_index.indkey is an int2vector; = ANY works on 9.2.
		query = `SELECT c.relname, a.attname FROM pg_index ix
			JOIN pg_class c ON c.oid = ix.indexrelid
			JOIN pg_class t ON t.oid = ix.indrelid
			JOIN pg_namespace n ON n.oid = t.relnamespace
			JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(ix.indkey)
			WHERE n.nspname = current_schema() AND t.relname = $1 AND ix.indisunique AND NOT ix.indisprimary`
	default:
		query = "SELECT il.name, ii.name FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii WHERE il.\"unique\" = 1 AND il.origin <> 'pk'"
	}
	rows, err := ex.QueryContext(ctx, query, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byName := map[string][]string{}
	var order []string
	for rows.Next() {
		var idx, col string
		if err := rows.Scan(&idx, &col); err != nil {
			return nil, err
		}
		if _, ok := byName[idx]; !ok {
			order = append(order, idx)
		}
		byName[idx] = append(byName[idx], strings.ToLower(col))
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]uniqueIndex, 0, len(order))
	for _, n := range order {
		cols := byName[n]
		sortStrings(cols)
		out = append(out, uniqueIndex{name: n, cols: cols})
	}
	return out, nil
}

// dropIndex drops an index of a table.
func (d dialect) dropIndex(table, index string) string {
	if d.kind == DriverMySQL {
		return "ALTER TABLE " + table + " DROP INDEX " + index
	}
	return "DROP INDEX " + index
}

// ---- PHP baseline DDL (the PHP version's latest shapes) ----

type baselineDDL struct {
	settings, ordersMap, oauthTokens, statusMapping string
	statusMappingExtra                              []string // after CREATE TABLE status_mapping
	pairIndex                                       string   // unique (kaspi_status, amo_pipeline_id)
	// columns of orders_map that old PHP installs lack, and of status_mapping
	ordersMapColumns     map[string]string
	statusMappingColumns map[string]string
}

func (d dialect) baseline() baselineDDL {
	pairIndex := "CREATE UNIQUE INDEX status_mapping_kaspi_pipeline_unique ON status_mapping (kaspi_status, amo_pipeline_id)"
	switch d.kind {
	case DriverMySQL:
		return baselineDDL{
			settings: "CREATE TABLE settings (`key` VARCHAR(64) PRIMARY KEY, `value` TEXT) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
			ordersMap: `CREATE TABLE orders_map (
  order_code VARCHAR(64) PRIMARY KEY,
  kaspi_order_id VARCHAR(64) NOT NULL,
  kaspi_status VARCHAR(64) DEFAULT NULL,
  lead_id BIGINT NOT NULL,
  total_price BIGINT,
  processing_token VARCHAR(64),
  processing_at DATETIME NULL,
  created_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
			oauthTokens: `CREATE TABLE oauth_tokens (
  service VARCHAR(32) PRIMARY KEY,
  access_token TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  expires_at BIGINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
			statusMapping: `CREATE TABLE status_mapping (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  kaspi_status VARCHAR(64) NOT NULL,
  amo_pipeline_id BIGINT NOT NULL,
  amo_status_id BIGINT NOT NULL,
  sort_order INT NOT NULL DEFAULT 0,
  amo_responsible_user_id BIGINT DEFAULT NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
  PRIMARY KEY (id),
  UNIQUE KEY status_mapping_kaspi_pipeline_unique (kaspi_status, amo_pipeline_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`,
			pairIndex: pairIndex,
			ordersMapColumns: map[string]string{
				"kaspi_status":     "ALTER TABLE orders_map ADD COLUMN kaspi_status VARCHAR(64) NULL DEFAULT NULL",
				"total_price":      "ALTER TABLE orders_map ADD COLUMN total_price BIGINT",
				"processing_token": "ALTER TABLE orders_map ADD COLUMN processing_token VARCHAR(64)",
				"processing_at":    "ALTER TABLE orders_map ADD COLUMN processing_at DATETIME NULL",
				"created_at":       "ALTER TABLE orders_map ADD COLUMN created_at DATETIME NULL DEFAULT CURRENT_TIMESTAMP",
			},
			statusMappingColumns: map[string]string{
				"sort_order": "ALTER TABLE status_mapping ADD COLUMN sort_order INT NOT NULL DEFAULT 0",
				"is_active":  "ALTER TABLE status_mapping ADD COLUMN is_active TINYINT(1) NOT NULL DEFAULT 1",
			},
		}
	case DriverPgSQL:
		return baselineDDL{
			settings: "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)",
			ordersMap: `CREATE TABLE orders_map (
  order_code TEXT PRIMARY KEY,
  kaspi_order_id TEXT NOT NULL,
  kaspi_status TEXT,
  lead_id BIGINT NOT NULL,
  total_price NUMERIC(20,0),
  processing_token TEXT,
  processing_at TIMESTAMP NULL,
  created_at TIMESTAMP NOT NULL DEFAULT NOW()
)`,
			oauthTokens: `CREATE TABLE oauth_tokens (
  service TEXT PRIMARY KEY,
  access_token TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  expires_at BIGINT NOT NULL
)`,
			statusMapping: `CREATE TABLE status_mapping (
  id BIGSERIAL PRIMARY KEY,
  kaspi_status TEXT NOT NULL,
  amo_pipeline_id BIGINT NOT NULL,
  amo_status_id BIGINT NOT NULL,
  sort_order INTEGER NOT NULL DEFAULT 0,
  amo_responsible_user_id BIGINT,
  is_active BOOLEAN NOT NULL DEFAULT TRUE,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL DEFAULT NOW()
)`,
			// The PHP version keeps updated_at with a trigger; we keep it
			// too so that the PHP version behaves the same on our database.
			statusMappingExtra: []string{
				pairIndex,
				`CREATE OR REPLACE FUNCTION set_status_mapping_updated_at() RETURNS TRIGGER AS $$
BEGIN
  NEW.updated_at := NOW();
  RETURN NEW;
END;
$$ LANGUAGE plpgsql`,
				`CREATE TRIGGER status_mapping_set_updated_at BEFORE UPDATE ON status_mapping FOR EACH ROW EXECUTE PROCEDURE set_status_mapping_updated_at()`,
			},
			pairIndex: pairIndex,
			ordersMapColumns: map[string]string{
				"kaspi_status":     "ALTER TABLE orders_map ADD COLUMN kaspi_status TEXT",
				"total_price":      "ALTER TABLE orders_map ADD COLUMN total_price NUMERIC(20,0)",
				"processing_token": "ALTER TABLE orders_map ADD COLUMN processing_token TEXT",
				"processing_at":    "ALTER TABLE orders_map ADD COLUMN processing_at TIMESTAMP NULL",
				"created_at":       "ALTER TABLE orders_map ADD COLUMN created_at TIMESTAMP NULL DEFAULT NOW()",
			},
			statusMappingColumns: map[string]string{
				"sort_order": "ALTER TABLE status_mapping ADD COLUMN sort_order INTEGER NOT NULL DEFAULT 0",
				"is_active":  "ALTER TABLE status_mapping ADD COLUMN is_active BOOLEAN NOT NULL DEFAULT TRUE",
			},
		}
	default:
		// The PHP version had no SQLite; this is the same shape in SQLite
		// types, so that a database built like the PHP one is adopted too.
		return baselineDDL{
			settings: "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT)",
			ordersMap: `CREATE TABLE orders_map (
  order_code TEXT PRIMARY KEY,
  kaspi_order_id TEXT NOT NULL,
  kaspi_status TEXT,
  lead_id INTEGER NOT NULL,
  total_price INTEGER,
  processing_token TEXT,
  processing_at DATETIME NULL,
  created_at DATETIME NOT NULL
)`,
			oauthTokens: `CREATE TABLE oauth_tokens (
  service TEXT PRIMARY KEY,
  access_token TEXT NOT NULL,
  refresh_token TEXT NOT NULL,
  expires_at INTEGER NOT NULL
)`,
			statusMapping: `CREATE TABLE status_mapping (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kaspi_status TEXT NOT NULL,
  amo_pipeline_id INTEGER NOT NULL,
  amo_status_id INTEGER NOT NULL,
  sort_order INTEGER NOT NULL DEFAULT 0,
  amo_responsible_user_id INTEGER,
  is_active INTEGER NOT NULL DEFAULT 1,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  updated_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
)`,
			statusMappingExtra: []string{pairIndex},
			pairIndex:          pairIndex,
			ordersMapColumns: map[string]string{
				"kaspi_status":     "ALTER TABLE orders_map ADD COLUMN kaspi_status TEXT",
				"total_price":      "ALTER TABLE orders_map ADD COLUMN total_price INTEGER",
				"processing_token": "ALTER TABLE orders_map ADD COLUMN processing_token TEXT",
				"processing_at":    "ALTER TABLE orders_map ADD COLUMN processing_at DATETIME NULL",
				"created_at":       "ALTER TABLE orders_map ADD COLUMN created_at DATETIME NULL",
			},
			statusMappingColumns: map[string]string{
				"sort_order": "ALTER TABLE status_mapping ADD COLUMN sort_order INTEGER NOT NULL DEFAULT 0",
				"is_active":  "ALTER TABLE status_mapping ADD COLUMN is_active INTEGER NOT NULL DEFAULT 1",
			},
		}
	}
}

// ---- golang-migrate ----

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
	default:
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
// directly so SchemaStatus costs two small queries.
const migrationsTable = "schema_migrations"

func sortStrings(s []string) { slices.Sort(s) }
