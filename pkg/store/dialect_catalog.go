package store

// Catalog inspection: which tables, columns and unique indexes exist.

import (
	"context"
	"database/sql"
	"slices"
	"strings"
)

func (d dialect) tableNames(ctx context.Context, ex execer) (map[string]bool, error) {
	var query string
	switch d.kind {
	case DriverMySQL:
		query = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
	case DriverPgSQL:
		query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
	case DriverSQLite:
		query = "SELECT name FROM sqlite_master WHERE type = 'table'"
	default:
		panic(d.unknown())
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
	case DriverSQLite:
		rows, err = ex.QueryContext(ctx, "SELECT name FROM pragma_table_info(?)", table)
	default:
		panic(d.unknown())
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
	case DriverSQLite:
		query = "SELECT il.name, ii.name FROM pragma_index_list(?) AS il, pragma_index_info(il.name) AS ii WHERE il.\"unique\" = 1 AND il.origin <> 'pk'"
	default:
		panic(d.unknown())
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
	switch d.kind {
	case DriverMySQL:
		return "ALTER TABLE " + table + " DROP INDEX " + index
	case DriverPgSQL, DriverSQLite:
		return "DROP INDEX " + index
	default:
		panic(d.unknown())
	}
}

// directly so SchemaStatus costs two small queries.
const migrationsTable = "schema_migrations"

func sortStrings(s []string) { slices.Sort(s) }
