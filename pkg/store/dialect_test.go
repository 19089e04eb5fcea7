package store

import (
	"context"
	"testing"
)

// A kind that is none of the three databases is a bug in this package; no
// switch may quietly run another database's SQL for it.
func TestDialect_UnknownKindPanicsEverywhere(t *testing.T) {
	d := dialect{kind: "oracle"}
	ctx := context.Background()
	cases := map[string]func(){
		"dialectFor":      func() { dialectFor("oracle") },
		"open":            func() { _, _ = d.open(ctx, Config{SQLitePath: t.TempDir() + "/x.db"}) },
		"migrationDriver": func() { _, _, _ = d.migrationDriver(ctx, Config{SQLitePath: t.TempDir() + "/x.db"}) },
		"ident":           func() { d.ident("key") },
		"forUpdate":       func() { d.forUpdate() },
		"dropIndex":       func() { d.dropIndex("t", "i") },
		"baseline":        func() { d.baseline() },
		"falseLiteral":    func() { d.falseLiteral() },
		"tableNames":      func() { _, _ = d.tableNames(ctx, nil) },
		"columnNames":     func() { _, _ = d.columnNames(ctx, nil, "t") },
		"uniqueIndexes":   func() { _, _ = d.uniqueIndexes(ctx, nil, "t") },
		"TryLock":         func() { _, _, _ = (&DB{d: d}).TryLock(ctx, "x") },
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatalf("%s did not panic on an unknown database kind", name)
				}
			}()
			fn()
		})
	}
	for _, kind := range []string{DriverMySQL, DriverPgSQL, DriverSQLite} {
		if got := dialectFor(kind); got.kind != kind {
			t.Fatalf("dialectFor(%q) = %q", kind, got.kind)
		}
	}
}
