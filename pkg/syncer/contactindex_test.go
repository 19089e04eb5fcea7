package syncer_test

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/syncer"
)

// contactCalls counts the contact requests the fake saw since the last
// reset: searches (query=), listing pages (no query), creates.
type contactCalls struct{ searches, pages, creates int }

func (e *env) contactCalls() contactCalls {
	var c contactCalls
	for _, r := range e.amo.Requests() {
		if r.Path != "/api/v4/contacts" {
			continue
		}
		q, _ := url.ParseQuery(r.Query)
		switch {
		case r.Method == "POST":
			c.creates++
		case q.Has("query"):
			c.searches++
		default:
			c.pages++
		}
	}
	return c
}

func (e *env) indexState() domain.ContactIndexState {
	e.t.Helper()
	st, err := e.db.ContactIndexState(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

// contactsWithPhone counts the fake's contacts holding an E.164 phone
// (typed in any way).
func (e *env) contactsWithPhone(e164 string) []int64 {
	var ids []int64
	for _, c := range e.amo.Contacts() {
		for _, p := range c.Phones() {
			if digits(p)[max(0, len(digits(p))-10):] == e164[len(e164)-10:] {
				ids = append(ids, c.ID)
				break
			}
		}
	}
	return ids
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// seedContacts adds n contacts a manager typed long ago.
func (e *env) seedContacts(n int) {
	for i := range n {
		e.amo.AddContact(fmt.Sprintf("Клиент %d", i), fmt.Sprintf("+7 (705) %03d-%02d-%02d", i/10000, i/100%100, i%100))
	}
}

func TestContactIndex_BuiltThenNewPhonesCreatedWithoutSearch(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.ContactIndexMax = syncer.DefaultContactIndexMax
		e.seedContacts(300)
		// Typed with formatting, the way search finds it today.
		known := e.amo.AddContact("Айгерим", "8 (701) 123-45-67")
		e.clock.Advance(time.Hour)
		e.add(e.order("600000001", time.Hour, "+77011234567"), e.order("600000002", time.Hour, "87021112233"),
			e.order("600000003", time.Hour, "7031112233"), e.order("600000004", time.Hour, "+7 703 111 22 33"))
		e.amo.ResetStats()
		s := e.fetch()
		if s.Created != 4 || s.Pending != 0 {
			t.Fatalf("summary %s", s)
		}
		if got := e.lead("600000001").MainContactID(); got != known {
			t.Fatalf("formatted phone: contact %d, want %d", got, known)
		}
		c := e.contactCalls()
		// Build: page 1, the size check past AMO_CONTACT_INDEX_MAX, page 2;
		// then one refresh; one batch create for the two new phones.
		if c.searches != 0 || c.pages != 4 || c.creates != 1 {
			t.Fatalf("contact requests %+v", c)
		}
		if e.lead("600000003").MainContactID() != e.lead("600000004").MainContactID() {
			t.Fatal("one phone, two contacts")
		}
		st := e.indexState()
		if !st.Complete || st.Contacts != 301 || st.NextPage != 0 {
			t.Fatalf("state %+v", st)
		}

		// An idle run costs nothing; a run of known customers neither.
		e.amo.ResetStats()
		e.fetch()
		if n := e.amoRequests(); n != 0 {
			t.Fatalf("idle run: %d amoCRM requests", n)
		}
		e.add(e.order("600000005", time.Minute, "87011234567"))
		e.fetch()
		if c := e.contactCalls(); c != (contactCalls{}) {
			t.Fatalf("known customer: contact requests %+v", c)
		}
		if got := e.lead("600000005").MainContactID(); got != known {
			t.Fatalf("repeat customer: contact %d", got)
		}
	})
}

// A manager creates a customer by hand between two runs; the next run's
// refresh catches it and no second contact is made. Edits move phones.
func TestContactIndex_ManagerContactBetweenRunsAndEdits(t *testing.T) {
	for _, mode := range []amofake.ListFilters{amofake.FiltersHonoured, amofake.FiltersIgnored} {
		t.Run(mode.String(), func(t *testing.T) {
			forEachDB(t, func(t *testing.T, e *env) {
				e.cfg.ContactIndexMax = syncer.DefaultContactIndexMax
				e.amo.SetListFilters(mode)
				e.seedContacts(260)
				edited := e.amo.AddContact("Бауыржан", "+77051112233")
				e.clock.Advance(time.Hour)
				e.add(e.order("610000001", time.Hour, "+77051112233"))
				e.fetch()
				if got := e.lead("610000001").MainContactID(); got != edited {
					t.Fatalf("run 1: contact %d", got)
				}

				e.clock.Advance(10 * time.Minute)
				byHand := e.amo.AddContact("Сауле (вручную)", "+7 (777) 444-55-66")
				// The contact of run 1 is edited: its phone moves to a new number.
				if err := e.amo.EditContactPhones(edited, "8 705 999 88 77"); err != nil {
					t.Fatal(err)
				}
				e.clock.Advance(10 * time.Minute)
				e.add(e.order("610000002", time.Minute, "87774445566"),
					e.order("610000003", time.Minute, "+77059998877"),
					e.order("610000004", time.Minute, "+77051112233"))
				e.amo.ResetStats()
				e.fetch()
				if got := e.lead("610000002").MainContactID(); got != byHand {
					t.Fatalf("hand-made contact %d not reused: %d", byHand, got)
				}
				if ids := e.contactsWithPhone("+77774445566"); len(ids) != 1 {
					t.Fatalf("duplicate contacts %v", ids)
				}
				if got := e.lead("610000003").MainContactID(); got != edited {
					t.Fatalf("moved phone: contact %d, want %d", got, edited)
				}
				// The old number left the edited contact: a new one is made.
				if got := e.lead("610000004").MainContactID(); got == edited || got == 0 {
					t.Fatalf("old phone still points at %d", got)
				}
				c := e.contactCalls()
				if c.searches != 0 || c.pages != 1 || c.creates != 1 {
					t.Fatalf("run 2 contact requests %+v", c)
				}
				want := domain.IndexModeFilter
				if mode == amofake.FiltersIgnored {
					want = domain.IndexModeOrder
				}
				if st := e.indexState(); st.Mode != want {
					t.Fatalf("mode %q, want %q", st.Mode, want)
				}
			})
		})
	}
}

// An account whose listing honours neither the filter nor the order is
// searched per phone, says so, and still gets no duplicate.
func TestContactIndex_ListingIgnoresFilterAndOrder_SearchPerPhone(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.ContactIndexMax = syncer.DefaultContactIndexMax
		e.amo.SetListFilters(amofake.OrderIgnored)
		e.seedContacts(260)
		e.clock.Advance(time.Hour)
		e.add(e.order("620000001", time.Hour, "+77051112233"))
		e.fetch()
		e.clock.Advance(10 * time.Minute)
		byHand := e.amo.AddContact("Сауле (вручную)", "+7 (777) 444-55-66")
		e.clock.Advance(10 * time.Minute)
		e.add(e.order("620000002", time.Minute, "87774445566"), e.order("620000003", time.Minute, "+77061112233"))
		e.amo.ResetStats()
		e.fetch()
		if got := e.lead("620000002").MainContactID(); got != byHand {
			t.Fatalf("hand-made contact %d not reused: %d", byHand, got)
		}
		if st := e.indexState(); st.Mode != domain.IndexModeSearch {
			t.Fatalf("mode %q", st.Mode)
		}
		if !strings.Contains(e.logs.String(), "searching per phone") {
			t.Fatalf("log does not say the mode:\n%s", e.logs.String())
		}
		c := e.contactCalls()
		if c.searches != 2 || c.creates != 1 {
			t.Fatalf("contact requests %+v", c)
		}
		// The next run does not try the listing again (until a day has passed).
		e.add(e.order("620000004", time.Minute, "+77071112233"))
		e.amo.ResetStats()
		e.fetch()
		if c := e.contactCalls(); c.pages != 0 || c.searches != 1 {
			t.Fatalf("search mode run: %+v", c)
		}
	})
}

// cutList stops the run (as a kill or a timeout would) at the listing
// request after the first n.
type cutList struct {
	*amocrm.Client
	n int
}

func (c *cutList) ListContacts(ctx context.Context, q domain.ContactQuery) (domain.ContactPage, error) {
	if c.n == 0 {
		return domain.ContactPage{}, context.Canceled
	}
	c.n--
	return c.Client.ListContacts(ctx, q)
}

// A build interrupted in the middle resumes in the next run where it
// stopped (re-reading the last page saved).
func TestContactIndex_InterruptedBuildResumes(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.ContactIndexMax = syncer.DefaultContactIndexMax
		e.seedContacts(1100) // 5 pages
		late := e.amo.AddContact("Последний", "+7 708 000 00 01")
		e.clock.Advance(time.Hour)
		e.add(e.order("630000001", time.Hour, "+77080000001"))
		// Page 1, the size check, page 2, then the run dies.
		e.crmOverride = &cutList{Client: e.crm, n: 3}
		if _, err := syncer.FetchNew(context.Background(), e.cfg, e.deps()); err == nil {
			t.Fatal("the interrupted run reported no error")
		}
		st := e.indexState()
		if st.Complete || st.NextPage != 3 || st.Contacts != 500 {
			t.Fatalf("state after the interrupted run %+v", st)
		}
		e.crmOverride = nil
		e.amo.ResetStats()
		e.fetch()
		st = e.indexState()
		if !st.Complete || st.Contacts != 1101 {
			t.Fatalf("not complete: %+v", st)
		}
		if got := e.lead("630000001").MainContactID(); got != late {
			t.Fatalf("contact %d, want %d", got, late)
		}
		// The resumed run re-reads page 2, reads 3..5, refreshes once.
		if c := e.contactCalls(); c.pages != 5 || c.searches != 0 || c.creates != 0 {
			t.Fatalf("resumed run: %+v", c)
		}
	})
}

// Above AMO_CONTACT_INDEX_MAX the account is searched per phone as
// without an index, after one look past the limit.
func TestContactIndex_TooLargeAccountSearchesPerPhone(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.ContactIndexMax = 500
		e.seedContacts(760)
		e.clock.Advance(time.Hour)
		e.add(e.order("640000001", time.Hour, "+77051112233"), e.order("640000002", time.Hour, "+7 705 000 01 05"))
		e.amo.ResetStats()
		e.fetch()
		if st := e.indexState(); st.Mode != domain.IndexModeTooLarge || st.Complete {
			t.Fatalf("state %+v", st)
		}
		if c := e.contactCalls(); c.pages != 2 || c.searches != 2 {
			t.Fatalf("contact requests %+v", c)
		}
		e.add(e.order("640000003", time.Minute, "+77061112233"))
		e.amo.ResetStats()
		e.fetch()
		if c := e.contactCalls(); c.pages != 0 || c.searches != 1 {
			t.Fatalf("next run %+v", c)
		}
		if ids := e.contactsWithPhone("+77050000105"); len(ids) != 1 {
			t.Fatalf("seeded phone duplicated: %v", ids)
		}
	})
}

// Deleted and merged-away contacts are found as without an index, when
// amoCRM refuses the id: forgotten, then resolved again from the index.
func TestContactIndex_DeletedAndMergedContactsResolvedAgain(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.ContactIndexMax = syncer.DefaultContactIndexMax
		e.add(e.order("650000001", time.Hour, "7011234567"), e.order("650000002", time.Hour, "7021234567"))
		e.fetch()
		deleted := e.lead("650000001").MainContactID()
		merged := e.lead("650000002").MainContactID()
		// A manager deletes one contact and merges the other into a
		// contact of its own, which takes over the phone.
		e.clock.Advance(time.Minute)
		if err := e.amo.DeleteContact(deleted); err != nil {
			t.Fatal(err)
		}
		survivor := e.amo.AddContact("Основной", "+7 702 123 45 67")
		if err := e.amo.DeleteContact(merged); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		e.add(e.order("650000003", 30*time.Second, "7011234567"), e.order("650000004", 30*time.Second, "87021234567"))
		e.amo.ResetStats()
		s := e.fetch()
		if s.Created != 2 || s.Failed != 0 {
			t.Fatalf("summary %s\n%s", s, e.out.String())
		}
		if got := e.lead("650000003").MainContactID(); got == 0 || got == deleted {
			t.Fatalf("deleted contact: %d", got)
		}
		if got := e.lead("650000004").MainContactID(); got != survivor {
			t.Fatalf("merged contact: %d, want %d", got, survivor)
		}
		if c := e.contactCalls(); c.searches != 0 || c.creates != 1 {
			t.Fatalf("contact requests %+v", c)
		}
	})
}
