package store

// Every difference between MySQL/MariaDB, PostgreSQL and SQLite lives in
// the dialect*.go files, each by what it holds:
//   - dialect_connect.go: connecting, and golang-migrate's driver;
//   - dialect_sql.go: placeholders, identifier quoting, row locks,
//     insert-if-absent, and telling a unique violation or a deadlock by its
//     driver code;
//   - dialect_catalog.go: catalog inspection (tables, columns, indexes);
//   - dialect_lock.go: the named advisory lock;
//   - dialect_baseline.go: the DDL of the PHP baseline.

type dialect struct{ kind string }

func dialectFor(driver string) dialect { return dialect{kind: driver} }

func (d dialect) name() string { return d.kind }
