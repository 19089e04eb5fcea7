package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// A rule is one SQL construct an old server lacks.
type rule struct {
	name string
	re   *regexp.Regexp
	why  string
	// skip, when set, excuses a match by the text before it.
	skip func(before string) bool
}

func re(s string) *regexp.Regexp { return regexp.MustCompile(`(?is)` + s) }

var createTableBefore = regexp.MustCompile(`(?is)\bCREATE\s+(TEMP(ORARY)?\s+)?TABLE\s*$`)

var (
	ruleOnConflict   = rule{"ON CONFLICT", re(`\bON\s+CONFLICT\b`), "PostgreSQL 9.5+; insert, then catch the unique violation", nil}
	ruleJSONB        = rule{"jsonb", re(`\bJSONB\w*`), "PostgreSQL 9.4+; store JSON as TEXT", nil}
	ruleIfNotExists  = rule{"IF NOT EXISTS", re(`\bIF\s+NOT\s+EXISTS\b`), "only CREATE TABLE IF NOT EXISTS works on PostgreSQL 9.2 and MySQL 5.7 (indexes, columns, schemas, sequences: 9.5+)", func(before string) bool { return createTableBefore.MatchString(before) }}
	ruleSchemaINE    = rule{"CREATE SCHEMA IF NOT EXISTS", re(`\bCREATE\s+SCHEMA\s+IF\s+NOT\s+EXISTS\b`), "PostgreSQL 9.3+", nil}
	ruleLateral      = rule{"LATERAL", re(`\bLATERAL\b`), "PostgreSQL 9.3+, MySQL 8.0.14+", nil}
	ruleIdentity     = rule{"GENERATED AS IDENTITY", re(`\bGENERATED\b[^;]*?\bAS\s+IDENTITY\b`), "PostgreSQL 10+; use BIGSERIAL", nil}
	ruleConcat       = rule{"|| concatenation", re(`\|\|`), "MySQL reads || as OR; concatenate in Go", nil}
	ruleOrdinality   = rule{"WITH ORDINALITY", re(`\bWITH\s+ORDINALITY\b`), "PostgreSQL 9.4+", nil}
	ruleFilter       = rule{"FILTER (WHERE ...)", re(`\bFILTER\s*\(\s*WHERE\b`), "PostgreSQL 9.4+; use SUM(CASE ...)", nil}
	ruleJSONFuncs    = rule{"JSON functions", re(`\b(JSON_BUILD_\w+|JSON_AGG|JSON_OBJECT_AGG|TO_JSON|ROW_TO_JSON|JSON_EXTRACT_PATH\w*)\s*\(`), "PostgreSQL 9.3/9.4+; build JSON in Go", nil}
	ruleJSONOps      = rule{"JSON operators", re(`(->>?|#>>?)\s*'`), "PostgreSQL 9.3+ and MySQL 5.7.13+; read JSON in Go", nil}
	ruleExecFunction = rule{"EXECUTE FUNCTION", re(`\bEXECUTE\s+FUNCTION\b`), "PostgreSQL 11+; triggers use EXECUTE PROCEDURE", nil}
	ruleOrReplaceTrg = rule{"CREATE OR REPLACE TRIGGER", re(`\bCREATE\s+OR\s+REPLACE\s+TRIGGER\b`), "PostgreSQL 14+", nil}
	ruleInsertIgnore = rule{"INSERT IGNORE", re(`\bINSERT\s+IGNORE\b`), "hides every error, not only duplicates", nil}
	ruleOnDuplicate  = rule{"ON DUPLICATE KEY UPDATE", re(`\bON\s+DUPLICATE\s+KEY\b`), "MySQL only; insert, then catch the unique violation", nil}
	ruleCTE          = rule{"WITH ... AS (common table expression)", re(`(^|[^\w])WITH\s+(RECURSIVE\s+)?\w+\s*(\([^)]*\))?\s*AS\s*\(`), "MySQL 8.0+", nil}
	ruleWindow       = rule{"window function OVER (...)", re(`\bOVER\s*\(`), "MySQL 8.0+", nil}
	ruleReturning    = rule{"RETURNING", re(`\bRETURNING\b`), "MySQL has none (MariaDB 10.5+ only)", nil}
	ruleDropIndexIE  = rule{"DROP INDEX IF EXISTS", re(`\bDROP\s+INDEX\s+IF\s+EXISTS\b`), "MySQL 5.7 has none", nil}
)

// Rule sets per target. Go code in pkg/store runs on every dialect, so it
// gets everything that either old server lacks, except RETURNING, which
// the PostgreSQL branch of dialect_sql.go appends on purpose.
var (
	pgRules = []rule{ruleOnConflict, ruleJSONB, ruleIfNotExists, ruleSchemaINE, ruleLateral, ruleIdentity, ruleConcat,
		ruleOrdinality, ruleFilter, ruleJSONFuncs, ruleJSONOps, ruleExecFunction, ruleOrReplaceTrg}
	mysqlRules = []rule{ruleOnConflict, ruleJSONB, ruleIfNotExists, ruleLateral, ruleIdentity, ruleConcat, ruleJSONOps,
		ruleInsertIgnore, ruleCTE, ruleWindow, ruleReturning, ruleDropIndexIE}
	goRules = []rule{ruleOnConflict, ruleJSONB, ruleIfNotExists, ruleSchemaINE, ruleLateral, ruleIdentity, ruleConcat,
		ruleOrdinality, ruleFilter, ruleJSONFuncs, ruleJSONOps, ruleExecFunction, ruleOrReplaceTrg, ruleInsertIgnore,
		ruleOnDuplicate, ruleCTE, ruleWindow, ruleDropIndexIE}
)

// Finding is one offending construct.
type Finding struct {
	File string
	Line int
	Rule string
	Why  string
}

func (f Finding) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", f.File, f.Line, f.Rule, f.Why)
}

// stripSQLComments blanks out -- and /* */ comments, keeping offsets and
// newlines, so that prose in comments is not checked.
func stripSQLComments(s string) string {
	b := []byte(s)
	inStr := false
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\'':
			inStr = !inStr
		case inStr:
		case b[i] == '-' && i+1 < len(b) && b[i+1] == '-':
			for ; i < len(b) && b[i] != '\n'; i++ {
				b[i] = ' '
			}
		case b[i] == '/' && i+1 < len(b) && b[i+1] == '*':
			for ; i < len(b) && !(b[i] == '*' && i+1 < len(b) && b[i+1] == '/'); i++ {
				if b[i] != '\n' {
					b[i] = ' '
				}
			}
			if i+1 < len(b) {
				b[i], b[i+1] = ' ', ' '
				i++
			}
		}
	}
	return string(b)
}

// checkSQL reports every rule match in one SQL text. line0 is the line the
// text starts on in its file.
func checkSQL(file string, line0 int, sql string, rules []rule) []Finding {
	sql = stripSQLComments(sql)
	var out []Finding
	for _, r := range rules {
		for _, m := range r.re.FindAllStringIndex(sql, -1) {
			if r.skip != nil && r.skip(sql[:m[0]]) {
				continue
			}
			out = append(out, Finding{File: file, Line: line0 + strings.Count(sql[:m[0]], "\n"), Rule: r.name, Why: r.why})
		}
	}
	return out
}

// checkGo checks every string literal of a Go file (comments are prose).
func checkGo(file string, src []byte, rules []rule) ([]Finding, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []Finding
	ast.Inspect(f, func(n ast.Node) bool {
		lit, ok := n.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return true
		}
		out = append(out, checkSQL(file, fset.Position(lit.Pos()).Line, s, rules)...)
		return true
	})
	return out, nil
}

// CheckTree checks a repository: migrations/pgsql and migrations/mysql SQL
// files, and the non-test Go files of pkg/store.
func CheckTree(root string) ([]Finding, error) {
	var out []Finding
	for dir, rules := range map[string][]rule{"pgsql": pgRules, "mysql": mysqlRules} {
		files, err := filepath.Glob(filepath.Join(root, "migrations", dir, "*.sql"))
		if err != nil {
			return nil, err
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("no SQL files in %s", filepath.Join(root, "migrations", dir))
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			out = append(out, checkSQL(f, 1, string(b), rules)...)
		}
	}
	gofiles, err := filepath.Glob(filepath.Join(root, "pkg", "store", "*.go"))
	if err != nil {
		return nil, err
	}
	if len(gofiles) == 0 {
		return nil, fmt.Errorf("no Go files in %s", filepath.Join(root, "pkg", "store"))
	}
	for _, f := range gofiles {
		if strings.HasSuffix(f, "_test.go") {
			continue // tests build PHP-era fixtures on purpose
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		fs, err := checkGo(f, b, goRules)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].File != out[j].File {
			return out[i].File < out[j].File
		}
		return out[i].Line < out[j].Line
	})
	return out, nil
}
