package syncer

import (
	"context"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// dryLedger is the ledger of a dry run (--dry-run): reads go to the real
// ledger, writes are dropped. The use cases record their progress without
// asking whether the run is dry; a dry run reads what a real one would and
// leaves the database as it found it. (What a dry run prints instead of
// writing to amoCRM or Kaspi stays with the steps that know the words.)
type dryLedger struct{ domain.Ledger }

func (dryLedger) SetSetting(context.Context, string, string) error { return nil }
func (dryLedger) UpdateOrder(context.Context, domain.Order, time.Time) error {
	return nil
}
func (dryLedger) SetStep(context.Context, []string, domain.Step, time.Time) error { return nil }
func (dryLedger) SetLead(context.Context, string, int64, time.Time) error         { return nil }
func (dryLedger) SetContact(context.Context, string, string, int64, time.Time) error {
	return nil
}
func (dryLedger) SetAside(context.Context, string, string, time.Time, bool, time.Time) error {
	return nil
}
func (dryLedger) SetSynced(context.Context, string, string, string, int64, bool, time.Time) error {
	return nil
}
func (dryLedger) DropSnapshots(context.Context, time.Time) (int, error) { return 0, nil }
func (dryLedger) AdoptLeads(context.Context, []domain.AdoptedLead, time.Time) (int, error) {
	return 0, nil
}
func (dryLedger) PutContact(context.Context, string, int64) error            { return nil }
func (dryLedger) ForgetContact(context.Context, int64) error                 { return nil }
func (dryLedger) PutElement(context.Context, int64, string, int64) error     { return nil }
func (dryLedger) ForgetElement(context.Context, int64, int64) error          { return nil }
func (dryLedger) StartRun(context.Context, string, time.Time) (int64, error) { return 0, nil }
func (dryLedger) FinishRun(context.Context, int64, bool, string, time.Time) error {
	return nil
}
func (dryLedger) FinishRunResult(context.Context, int64, domain.RunEnd, time.Time) error {
	return nil
}
