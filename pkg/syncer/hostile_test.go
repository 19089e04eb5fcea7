package syncer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/syncer"
)

// Poisoned orders (a NUL byte in the code, a 5,000-character code, an id
// of the wrong shape) are set aside with a reason, reported once, and do
// not stop the good orders around them, on every database; an id of 128
// characters is stored. Control
// characters in a buyer's name never reach the ledger or amoCRM.
func TestFetchNew_PoisonedOrdersAreSetAsideOnce(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		good1 := e.order("910000001", time.Hour, "7011234567")
		good1.Customer.FirstName = "Ай\x00гер\x1bим"
		nul := e.order("91000\x000002", time.Hour, "7011234568")
		long := e.order(strings.Repeat("9", 5000), time.Hour, "7011234569")
		badID := e.order("910000004", time.Hour, "7011234570")
		badID.ID = "id with spaces"
		good2 := e.order("910000005", time.Hour, "7011234571")
		good2.ID = strings.Repeat("Qk", 64) // the longest id allowed (MariaDB's column was 64)
		e.add(good1, nul, long, badID, good2)

		s := e.fetch()
		if s.Created != 2 || s.Rejected != 3 || !strings.Contains(s.String(), "отклонено как испорченные 3") || s.Result != domain.ResultWarn {
			t.Fatalf("first run: %s", s)
		}
		if out := e.out.String(); strings.Contains(out, "\x00") || strings.Contains(out, strings.Repeat("9", 100)) {
			t.Fatalf("the output carries the raw code: %q", out)
		}
		s = e.fetch()
		if s.Rejected != 0 || s.Created != 0 || s.Result != domain.ResultOK {
			t.Fatalf("second run reported them again: %s (%s: %q)", s, s.Result, s.Reason())
		}
		if _, err := syncer.Reconcile(context.Background(), e.cfg, e.deps()); err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		recs, err := e.db.Records(context.Background(), []string{"910000001", "910000004", "910000005"})
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs["910000004"].Code != "" {
			t.Fatalf("ledger rows %v", recs)
		}
		lead := e.lead("910000001")
		for _, c := range e.amo.Contacts() {
			if strings.ContainsAny(c.Name, "\x00\x1b") {
				t.Fatalf("control characters reached amoCRM: %q", c.Name)
			}
		}
		if lead.ID == 0 {
			t.Fatal("no deal for the good order")
		}
		if r := e.record("910000001"); r.Step != domain.StepDone {
			t.Fatalf("good order: %+v", r)
		}
	})
}
