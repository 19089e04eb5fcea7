package syncer

import (
	"reflect"
	"testing"

	"kaspi-amocrm/pkg/domain"
)

// The ledger methods a dry run may pass through to the database: reads,
// plus Ingest and the token calls, which a dry run never makes through the
// sync's ledger (fetch_new lists new orders without ingesting them; the
// amoCRM client keeps its tokens through its own store).
var dryPassThrough = map[string]bool{
	"Setting": true, "Token": true, "Record": true, "Records": true, "Due": true, "Stale": true,
	"ContactIDs": true, "ElementIDs": true, "ActiveStatusMappings": true, "StepCounts": true,
	"FirstOrderMs": true, "SetAsideCount": true, "MissedBySweep": true,
	"Ingest": true, "SaveToken": true, "UpdateToken": true,
}

// Every other method of domain.Ledger is a write, and dryLedger must drop
// it: called on a dryLedger over no ledger at all, it returns without
// reaching one. A write added to domain.Ledger without a dry override
// fails here (the call reaches the nil ledger and panics).
func TestDryLedger_DropsEveryWrite(t *testing.T) {
	var dry domain.Ledger = dryLedger{}
	v := reflect.ValueOf(dry)
	lt := reflect.TypeFor[domain.Ledger]()
	writes := 0
	for i := range lt.NumMethod() {
		m := lt.Method(i)
		if dryPassThrough[m.Name] {
			continue
		}
		writes++
		fn := v.MethodByName(m.Name)
		args := make([]reflect.Value, fn.Type().NumIn())
		for j := range args {
			args[j] = reflect.Zero(fn.Type().In(j))
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s reaches the real ledger in a dry run", m.Name)
				}
			}()
			for _, out := range fn.Call(args) {
				if err, ok := out.Interface().(error); ok && err != nil {
					t.Errorf("%s: %v", m.Name, err)
				}
			}
		}()
	}
	if writes < 15 {
		t.Fatalf("only %d writes checked; the read list swallowed some", writes)
	}
}
