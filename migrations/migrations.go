// Package migrations holds the schema migrations, one folder per SQL
// dialect (mysql, pgsql, sqlite), embedded into every binary and run by
// golang-migrate. They start from the PHP version's tables, which pkg/store
// adopts (or creates) before they run, and only add: nullable or defaulted
// columns and new tables, so that the PHP version still runs on a migrated
// database.
//
// MariaDB/MySQL cannot roll DDL back, so each mysql file holds exactly one
// statement: a file either took effect or it did not.
package migrations

import "embed"

// FS holds mysql/*.sql, pgsql/*.sql and sqlite/*.sql.
//
//go:embed mysql/*.sql pgsql/*.sql sqlite/*.sql
var FS embed.FS
