package store

import "fmt"

// Every difference between MySQL/MariaDB, PostgreSQL and SQLite lives in
// the dialect*.go files, each by what it holds:
//   - dialect_connect.go: connecting, and golang-migrate's driver;
//   - dialect_sql.go: placeholders, identifier quoting, row locks,
//     insert-if-absent, and telling a unique violation or a deadlock by its
//     driver code;
//   - dialect_catalog.go: catalog inspection (tables, columns, indexes);
//   - dialect_lock.go: the named advisory lock;
//   - dialect_baseline.go: the DDL of the PHP baseline.

// dialect is one of the three databases; kind is DriverMySQL, DriverPgSQL
// or DriverSQLite.
//
// Every switch on kind names all three and panics on any other value
// instead of treating it as one of them. kind comes only from dialectFor,
// which Open calls after normalizeDriver has turned a wrong DB_DRIVER
// into an error for the owner; another value is a bug in this package, and
// guessing a database for it would run the wrong SQL quietly.
type dialect struct{ kind string }

func dialectFor(driver string) dialect {
	d := dialect{kind: driver}
	switch driver {
	case DriverMySQL, DriverPgSQL, DriverSQLite:
		return d
	default:
		panic(d.unknown())
	}
}

func (d dialect) name() string { return d.kind }

// unknown is the panic value of a switch on a kind that is none of the
// three (see dialect).
func (d dialect) unknown() string {
	return fmt.Sprintf("store: unknown database kind %q", d.kind)
}
