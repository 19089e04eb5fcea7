package store

// The SQL text and the driver error codes that differ between databases.

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/lib/pq"
	"modernc.org/sqlite"
)

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
	switch d.kind {
	case DriverMySQL:
		return "`" + name + "`"
	case DriverPgSQL, DriverSQLite:
		return `"` + name + `"`
	default:
		panic(d.unknown())
	}
}

// forUpdate is the row-lock suffix of a SELECT. SQLite has no row locks:
// its transactions begin IMMEDIATE (see sqliteDSN), which locks the file.
func (d dialect) forUpdate() string {
	switch d.kind {
	case DriverMySQL, DriverPgSQL:
		return " FOR UPDATE"
	case DriverSQLite:
		return ""
	default:
		panic(d.unknown())
	}
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

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
