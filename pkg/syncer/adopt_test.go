package syncer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/store/storetest"
)

// leadListings counts the GET /api/v4/leads listings without a query
// (the adoption's pages; searches carry query, lookups filter[id]).
func (e *env) leadListings() int {
	n := 0
	for _, r := range e.amo.Requests() {
		if r.Method == "GET" && r.Path == "/api/v4/leads" && !strings.Contains(r.Query, "query=") && !strings.Contains(r.Query, "filter%5Bid%5D") {
			n++
		}
	}
	return n
}

// freshDatabase swaps the ledger for a new, empty database of the same
// driver against the same amoCRM and Kaspi accounts (a reinstall, a move
// from SQLite to MariaDB, a wiped storage/).
func (e *env) freshDatabase() {
	e.t.Helper()
	e.db = storetest.Open(e.t, e.db.Config().Driver)
}

// A fresh database adopts the deals amoCRM already holds instead of
// creating them again, whether or not the account honours filters.
func TestFetchNew_FreshDatabaseAdoptsExistingDeals(t *testing.T) {
	for _, filters := range []bool{true, false} {
		t.Run(fmt.Sprintf("filters=%v", filters), func(t *testing.T) {
			forEachDB(t, func(t *testing.T, e *env) {
				e.amo.SetFilters(filters)
				// An old deal of another order, outside the window.
				e.amo.AddLead(amofake.Lead{Name: "Kaspi Order 400000001", Price: 500})
				e.clock.Advance(30 * 24 * time.Hour)
				var codes []string
				for i := range 6 {
					code := fmt.Sprintf("50000030%d", i)
					codes = append(codes, code)
					e.add(e.order(code, time.Duration(i+1)*time.Hour, fmt.Sprintf("701123456%d", i)))
				}
				if s := e.fetch(); s.Created != 6 {
					t.Fatalf("first install: %s", s)
				}
				first := e.leadsByCode()
				// A manager moved one deal on; another copy of a deal was made by hand later.
				moved := first[codes[0]].ID
				if err := e.amo.MoveLead(moved, amofake.PipelineID, amofake.StatusConfirmed); err != nil {
					t.Fatal(err)
				}
				e.clock.Advance(time.Minute)
				dup := e.amo.AddLead(amofake.Lead{Name: "copy", Price: 1000,
					Fields: []amofake.Field{{ID: amofake.LeadOrderCodeFieldID, Values: []amofake.FieldItem{{Value: codes[1]}}}}})

				e.freshDatabase()
				e.amo.ResetStats()
				s := e.fetch()
				if s.Created != 0 {
					t.Fatalf("a fresh database created deals again: %s", s)
				}
				if n := len(e.amo.Leads()); n != 6+2 {
					t.Fatalf("%d leads in amoCRM; want the 8 that were there", n)
				}
				wantPages := 1
				if !filters {
					wantPages = 2 // the ignored filter, then one page newest first
				}
				if got := e.leadListings(); got != wantPages {
					t.Fatalf("%d listing requests; want %d", got, wantPages)
				}
				if got := e.amoRequests(); got != wantPages {
					t.Fatalf("%d amoCRM requests; want only the adoption's %d", got, wantPages)
				}
				for _, code := range codes {
					rec := e.record(code)
					if rec.LeadID != first[code].ID || rec.Step != domain.StepDone {
						t.Fatalf("order %s: lead %d step %s; want %d done", code, rec.LeadID, rec.Step, first[code].ID)
					}
				}
				if first[codes[1]].ID > dup {
					t.Fatal("test setup: the copy must have the higher id")
				}
				if rec := e.record(codes[0]); rec.AmoStatusID != amofake.StatusConfirmed {
					t.Fatalf("moved deal recorded at stage %d; want its current stage", rec.AmoStatusID)
				}
				if _, err := e.db.Record(context.Background(), "400000001"); err == nil {
					t.Fatal("a deal outside the window was adopted")
				}
				if !strings.Contains(e.out.String(), "сделок, которые уже были в amoCRM, найдено и взято: 6") {
					t.Fatalf("output:\n%s", e.out.String())
				}

				// The next runs cost nothing more, and reconcile does not move the deal back.
				e.amo.ResetStats()
				e.clock.Advance(10 * time.Minute)
				e.fetch()
				if n := e.amoRequests(); n != 0 {
					t.Fatalf("idle run after the adoption: %d amoCRM requests", n)
				}
				e.reconcile()
				if l, _ := e.amo.Lead(moved); l.StatusID != amofake.StatusConfirmed {
					t.Fatalf("reconcile moved the adopted deal to %d", l.StatusID)
				}
				if n := len(e.amo.Leads()); n != 8 {
					t.Fatalf("%d leads after reconcile", n)
				}
			})
		})
	}
}

// The adoption resumes where it stopped, and nothing is created before it
// has completed.
func TestFetchNew_AdoptionResumesAndCreatesNothingBeforeItCompletes(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.amo.SetFilters(true)
		for i := range 260 { // deals of orders Kaspi no longer lists: two pages
			e.amo.AddLead(amofake.Lead{Name: fmt.Sprintf("Kaspi Order 6%08d", i), Price: 100})
		}
		o := e.order("500000401", time.Hour, "7011234567")
		e.add(o)
		old := e.amo.AddLead(amofake.Lead{Name: "Kaspi Order 500000401", Price: 1000})
		// The first page is read, the second fails for this run.
		e.crmOverride = failingPage{CRM: e.crm, page: 2}
		s := e.fetch()
		if s.Created != 0 || len(e.amo.Leads()) != 261 {
			t.Fatalf("created before the adoption completed: %s", s)
		}
		if rec := e.record(o.Code); rec.LeadID != 0 || rec.Attempts != 0 {
			t.Fatalf("order touched before the adoption completed: lead %d attempts %d", rec.LeadID, rec.Attempts)
		}
		e.crmOverride = nil
		e.amo.ResetStats()
		s = e.fetch()
		if got := e.leadListings(); got != 1 {
			t.Fatalf("%d listing requests on resume; want only the missing page", got)
		}
		if s.Created != 0 || e.record(o.Code).LeadID != old {
			t.Fatalf("%s; lead %d, want %d", s, e.record(o.Code).LeadID, old)
		}
	})
}

// failingPage fails one page of the adoption's listing (a temporary error).
type failingPage struct {
	domain.CRM
	page int
}

func (f failingPage) LeadsCreatedPage(ctx context.Context, from, to int64, filter bool, page int) ([]domain.Lead, bool, error) {
	if page == f.page {
		return nil, false, fmt.Errorf("amocrm: list leads: 502: %w", domain.ErrTransient)
	}
	return f.CRM.LeadsCreatedPage(ctx, from, to, filter, page)
}
