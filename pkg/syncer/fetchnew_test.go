package syncer_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/syncer"
)

func TestFetchNew_OneCompleteDealPerOrderWithTheRightContact(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		// A customer already in amoCRM, her number typed by a manager.
		existing := e.amo.AddContact("Айгерим Сапарова", "8 (701) 123-45-67")
		// A decoy holding another customer's digits in a non-phone field.
		decoy := e.amo.AddContactFields("Курьер", nil, map[int64]string{amofake.ContactPositionFieldID: "7017654321"})
		// A product already in the catalog.
		knownSKU, err := e.amo.AddElement(amofake.CatalogID, "Смартфон Example X", "KSP-1", "159990")
		if err != nil {
			t.Fatal(err)
		}
		o1 := e.order("500000001", 2*time.Hour, "7011234567",
			domain.Line{SKU: "KSP-1", Name: "Смартфон Example X", Quantity: 2, BasePrice: 159990},
			domain.Line{SKU: "KSP-2", Name: "Чехол", Quantity: 1, BasePrice: 4990.4})
		o2 := e.order("500000002", time.Hour, "7017654321")
		o2.Customer = domain.Customer{FirstName: "Иван", LastName: "Петров", Phone: "7017654321"}
		o3 := e.order("500000003", 30*time.Minute, "+0(000)-000-00-00")
		e.add(o1, o2, o3)

		s := e.fetch()
		if s.Found != 3 || s.Created != 3 || s.Pending != 0 || s.Failed != 0 {
			t.Fatalf("summary = %s\n%s", s, e.out.String())
		}

		l1 := e.lead("500000001")
		if l1.MainContactID() != existing {
			t.Errorf("order 1: contact %d, want the existing %d", l1.MainContactID(), existing)
		}
		if l1.Price != 324970 { // 2×159990 + 4990.4, rounded
			t.Errorf("order 1: price %d", l1.Price)
		}
		if l1.PipelineID != amofake.PipelineID || l1.StatusID != amofake.StatusNewOrder || l1.ResponsibleUserID != amofake.UserID {
			t.Errorf("order 1: pipeline/status/responsible = %d/%d/%d", l1.PipelineID, l1.StatusID, l1.ResponsibleUserID)
		}
		if strings.Join(l1.Tags, ",") != "Kaspi,Marketplace" {
			t.Errorf("order 1: tags %v", l1.Tags)
		}
		if got := amofake.FieldText(l1.Fields, amofake.LeadOrderCodeFieldID); got != "500000001" {
			t.Errorf("order code field = %q", got)
		}
		if got := amofake.FieldText(l1.Fields, amofake.LeadAddressFieldID); got != "Алматы, ул. Абая, 10, кв. 5" {
			t.Errorf("address field = %q", got)
		}
		// The order date field is of type date: midnight of the Almaty day, unix seconds.
		almaty, _ := time.LoadLocation("Asia/Almaty")
		created := time.UnixMilli(o1.CreationMs).In(almaty)
		day := time.Date(created.Year(), created.Month(), created.Day(), 0, 0, 0, 0, almaty).Unix()
		if got := amofake.FieldText(l1.Fields, amofake.LeadOrderDateFieldID); got != fmt.Sprint(day) {
			t.Errorf("order date field = %q, want %d", got, day)
		}

		kspi2, n := e.elementBySKU("KSP-2")
		if n != 1 {
			t.Fatalf("KSP-2 elements: %d", n)
		}
		if _, n := e.elementBySKU("KSP-1"); n != 1 {
			t.Fatalf("KSP-1 created again: %d elements", n)
		}
		links := e.linksOf(l1.ID)
		if len(links) != 2 || links[knownSKU] != 2 || links[kspi2.ID] != 1 {
			t.Errorf("order 1 links = %v", links)
		}
		notes := e.notesOf(l1.ID)
		if len(notes) != 1 {
			t.Fatalf("order 1 notes: %d", len(notes))
		}
		for _, want := range []string{"Заказ Kaspi № 500000001", "Смартфон Example X (арт. KSP-1): 2 шт.", "Чехол (арт. KSP-2): 1 шт.", "Адрес: Алматы, ул. Абая, 10, кв. 5"} {
			if !strings.Contains(notes[0], want) {
				t.Errorf("note lacks %q:\n%s", want, notes[0])
			}
		}

		l2 := e.lead("500000002")
		if c := l2.MainContactID(); c == 0 || c == decoy || c == existing {
			t.Fatalf("order 2: contact %d (decoy %d, existing %d)", c, decoy, existing)
		}
		var created2 amofake.Contact
		for _, c := range e.amo.Contacts() {
			if c.ID == l2.MainContactID() {
				created2 = c
			}
		}
		if created2.FirstName != "Иван" || created2.LastName != "Петров" || strings.Join(created2.Phones(), ",") != "+77017654321" {
			t.Errorf("created contact = %+v", created2)
		}
		if got := amofake.FieldText(created2.Fields, amofake.ContactAddressFieldID); got != "Алматы, ул. Абая, 10, кв. 5" {
			t.Errorf("contact address = %q", got)
		}

		l3 := e.lead("500000003")
		if l3.MainContactID() != 0 {
			t.Errorf("masked phone got contact %d", l3.MainContactID())
		}
		if n := e.notesOf(l3.ID); len(n) != 1 || !strings.Contains(n[0], "Контакт не привязан: Kaspi скрыл телефон") {
			t.Errorf("order 3 note does not say why there is no contact: %q", n)
		}
		if len(e.amo.Contacts()) != 3 { // existing, decoy, Иван
			t.Errorf("contacts: %d", len(e.amo.Contacts()))
		}

		for _, code := range []string{"500000001", "500000002", "500000003"} {
			r := e.record(code)
			if r.Step != domain.StepDone || r.LeadID != e.lead(code).ID || !r.Tracked {
				t.Errorf("ledger %s: step %s lead %d tracked %v", code, r.Step, r.LeadID, r.Tracked)
			}
		}
		if wm, _, _ := e.db.Setting(context.Background(), "last_creation_ms"); wm != fmt.Sprint(o3.CreationMs) {
			t.Errorf("watermark = %q, want %d", wm, o3.CreationMs)
		}
	})
}

func TestFetchNew_RunningAgainCreatesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000011", time.Hour, "7011234567"), e.order("500000012", time.Hour, "7011234567"))
		e.fetch()
		leads, contacts, elements := len(e.amo.Leads()), len(e.amo.Contacts()), len(e.amo.Elements())
		if leads != 2 || contacts != 1 {
			t.Fatalf("first run: %d leads, %d contacts (one customer)", leads, contacts)
		}
		before := e.amoRequests()
		e.clock.Advance(time.Minute)
		s := e.fetch()
		if s.Found != 0 || s.Created != 0 {
			t.Fatalf("second run: %s", s)
		}
		if len(e.amo.Leads()) != leads || len(e.amo.Contacts()) != contacts || len(e.amo.Elements()) != elements {
			t.Fatal("second run created something")
		}
		if n := e.amoRequests() - before; n != 0 || s.AmoRequests != 0 {
			t.Fatalf("second run made %d amoCRM requests (summary %d)", n, s.AmoRequests)
		}
	})
}

func TestFetchNew_SecondOrderOfACustomerReusesTheCachedContact(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000021", time.Hour, "7011234567"))
		e.fetch()
		e.clock.Advance(time.Minute)
		e.add(e.order("500000022", 30*time.Second, "87011234567"))
		e.fetch()
		if e.lead("500000021").MainContactID() != e.lead("500000022").MainContactID() || len(e.amo.Contacts()) != 1 {
			t.Fatalf("contacts: %d", len(e.amo.Contacts()))
		}
		for _, r := range e.amo.Requests() {
			if r.Method == "GET" && r.Path == "/api/v4/contacts" && strings.Count(r.Query, "query=") > 0 && r.Time.After(start) {
				t.Fatalf("the second order searched amoCRM instead of the cache: %s?%s", r.Path, r.Query)
			}
		}
	})
}

func TestFetchNew_LateVisibleOrderIsPickedUp(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000031", 10*time.Minute, "7011234567"))
		late := e.order("500000032", 20*time.Minute, "7021234567") // created earlier than the first...
		e.add(late)
		if err := e.kf.SetVisibleAt(late.Code, e.clock.Now().Add(25*time.Minute)); err != nil { // ...visible later
			t.Fatal(err)
		}
		e.fetch()
		if _, ok := e.leadsByCode()["500000032"]; ok {
			t.Fatal("invisible order imported")
		}
		e.clock.Advance(30 * time.Minute)
		s := e.fetch()
		if s.Created != 1 {
			t.Fatalf("late order: %s", s)
		}
		e.lead("500000032")
	})
}

func TestFetchNew_OrdersOfEveryImportStateAndPageAreIngested(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		states := []string{domain.StateNew, domain.StatePickup, domain.StateDelivery, domain.StateKaspiDelivery}
		for i := range 230 {
			o := e.order(fmt.Sprintf("6%08d", i), time.Duration(i+1)*time.Minute, "7011234567")
			o.State = states[i%len(states)]
			if o.State != domain.StateNew {
				o.Status = domain.StatusAcceptedByMerchant
			}
			e.add(o)
		}
		archived := e.order("699999999", time.Minute, "7011234567")
		archived.State, archived.Status = domain.StateArchive, domain.StatusCancelled
		e.add(archived)
		e.cfg.Limit = 1 // ingest everything, create one deal
		s := e.fetch()
		if s.Found != 230 || s.Created != 1 || s.Pending != 229 {
			t.Fatalf("summary: %s", s)
		}
		if _, err := e.db.Record(context.Background(), "699999999"); err == nil {
			t.Fatal("an archived order was imported")
		}
	})
}

func TestFetchNew_DryRunWritesNothing(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000041", time.Hour, "7011234567"))
		e.cfg.DryRun = true
		s := e.fetch()
		if len(e.amo.Leads()) != 0 || len(e.amo.Contacts()) != 0 || len(e.amo.Elements()) != 0 {
			t.Fatal("dry run wrote to amoCRM")
		}
		for _, r := range e.amo.Requests() {
			if r.Method != "GET" && strings.HasPrefix(r.Path, "/api/") {
				t.Fatalf("dry run sent %s %s", r.Method, r.Path)
			}
		}
		if _, err := e.db.Record(context.Background(), "500000041"); err == nil {
			t.Fatal("dry run ingested the order")
		}
		if s.Found != 1 || !strings.Contains(e.out.String(), `была бы создана сделка «Kaspi Order 500000041»`) {
			t.Fatalf("summary %s, output:\n%s", s, e.out.String())
		}
	})
}

// poisoned makes amoCRM reject the deals of some orders, the way a real
// account rejects an invalid item: the fake answers a 400 with
// validation-errors for that item (an unknown custom field).
type poisoned struct {
	*env
	codes map[string]bool
}

func (p poisoned) CreateLeads(ctx context.Context, leads []domain.Lead) ([]domain.Lead, error) {
	for i := range leads {
		if p.codes[leads[i].RequestID] {
			leads[i].Fields = append(leads[i].Fields, domain.FieldValue{FieldID: 999999, Values: []domain.FieldItem{{Value: "x"}}})
		}
	}
	return p.crm.CreateLeads(ctx, leads)
}

func (e *env) poison(codes ...string) {
	p := poisoned{env: e, codes: map[string]bool{}}
	for _, c := range codes {
		p.codes[c] = true
	}
	e.crmOverride = crmWith{CRM: e.crm, createLeads: p.CreateLeads}
}

func TestFetchNew_RejectedOrderIsSetAsideAndDoesNotBlockTheRest(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000051", 3*time.Hour, "7011234567"), e.order("500000052", 2*time.Hour, "7021234567"),
			e.order("500000053", time.Hour, "7031234567"))
		e.poison("500000052")
		s := e.fetch()
		if s.Created != 2 || s.Failed != 1 || s.Pending != 1 {
			t.Fatalf("summary: %s\n%s", s, e.out.String())
		}
		if !strings.Contains(e.out.String(), "заказ 500000052 отложен (попытка 1): amoCRM отклонил сделку: «") {
			t.Fatalf("set-aside line missing:\n%s", e.out.String())
		}
		e.lead("500000051")
		e.lead("500000053")
		r := e.record("500000052")
		if r.Attempts != 1 || r.LastError == "" || r.LeadID != 0 || r.Quarantined {
			t.Fatalf("record: %+v", r)
		}

		// The next run retries at once (first backoff is zero); then 1 minute.
		s = e.fetch()
		if s.Failed != 1 {
			t.Fatalf("retry: %s", s)
		}
		r = e.record("500000052")
		if r.Attempts != 2 || !r.NextAttemptAt.Equal(e.clock.Now().Add(time.Minute)) {
			t.Fatalf("after 2 attempts: attempts %d next %v", r.Attempts, r.NextAttemptAt)
		}
		if s = e.fetch(); s.Failed != 0 || s.AmoRequests != 0 {
			t.Fatalf("retried before its backoff: %s", s)
		}

		e.crmOverride = nil // amoCRM accepts it now
		e.clock.Advance(time.Minute)
		if s = e.fetch(); s.Created != 1 || s.Pending != 0 {
			t.Fatalf("after backoff: %s", s)
		}
		e.lead("500000052")
		if r = e.record("500000052"); r.Step != domain.StepDone || r.Attempts != 0 || r.LastError != "" {
			t.Fatalf("done record keeps its failure: %+v", r)
		}
	})
}

func TestFetchNew_QuarantineAfterTenAttemptsAndReconcileRetriesHourly(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000061", time.Hour, "7011234567"))
		e.poison("500000061")
		for i := 1; i <= syncer.QuarantineAfter; i++ {
			e.fetch()
			r := e.record("500000061")
			if r.Attempts != i || r.Quarantined != (i >= syncer.QuarantineAfter) {
				t.Fatalf("attempt %d: %+v", i, r)
			}
			e.clock.Advance(time.Hour)
		}
		e.crmOverride = nil
		if s := e.fetch(); s.Created != 0 || s.Quarantined != 1 {
			t.Fatalf("fetch_new retried a quarantined order: %s", s)
		}
		if s := e.reconcile(); s.Created != 1 || s.Quarantined != 0 {
			t.Fatalf("reconcile did not retry the quarantined order: %s", s)
		}
		e.lead("500000061")
	})
}

func TestFetchNew_GhostCreatesAreAdoptedNeverDuplicated(t *testing.T) {
	for _, path := range []string{"/api/v4/leads", "/api/v4/contacts", "/api/v4/catalogs/*/elements", "/api/v4/leads/link", "/api/v4/leads/notes"} {
		t.Run(strings.ReplaceAll(strings.TrimPrefix(path, "/api/v4/"), "/", "_"), func(t *testing.T) {
			forEachDB(t, func(t *testing.T, e *env) {
				e.add(e.order("500000071", time.Hour, "7011234567"), e.order("500000072", time.Hour, "7021234567"))
				e.amo.InjectFault(amofake.Fault{Method: "POST", Path: path, Kind: amofake.FaultGhost})
				e.fetch()
				e.clock.Advance(time.Minute)
				e.fetch()
				leads := e.leadsByCode()
				if len(leads) != 2 || len(e.amo.Contacts()) != 2 || len(e.amo.Elements()) != 2 {
					t.Fatalf("leads %d contacts %d elements %d", len(leads), len(e.amo.Contacts()), len(e.amo.Elements()))
				}
				for code, l := range leads {
					if len(e.linksOf(l.ID)) != 1 {
						t.Errorf("order %s: links %v", code, e.linksOf(l.ID))
					}
					if r := e.record(code); r.Step != domain.StepDone || r.LeadID != l.ID {
						t.Errorf("order %s: %s lead %d", code, r.Step, r.LeadID)
					}
				}
				for code, l := range leads {
					if n := len(e.notesOf(l.ID)); n != 1 {
						t.Errorf("order %s: %d notes", code, n)
					}
				}
			})
		})
	}
}

func TestFetchNew_DeletedContactIsForgottenAndResolvedAgain(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000081", time.Hour, "7011234567"))
		e.fetch()
		old := e.lead("500000081").MainContactID()
		if err := e.amo.DeleteContact(old); err != nil { // a manager deleted or merged it
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		e.add(e.order("500000082", 30*time.Second, "7011234567"))
		s := e.fetch()
		l := e.lead("500000082")
		if s.Created != 1 || s.Failed != 0 || l.MainContactID() == 0 || l.MainContactID() == old {
			t.Fatalf("summary %s; contact %d (deleted %d)\n%s", s, l.MainContactID(), old, e.out.String())
		}
	})
}

func TestFetchNew_DeletedElementIsForgottenAndResolvedAgain(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000091", time.Hour, "7011234567"))
		e.fetch()
		el, _ := e.elementBySKU("SKU-500000091")
		if err := e.amo.DeleteElement(el.ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		o := e.order("500000092", 30*time.Second, "7011234567", domain.Line{SKU: "SKU-500000091", Name: "Товар", Quantity: 3, BasePrice: 1000})
		e.add(o)
		for range 2 { // the refused link sets the order aside once; the retry resolves the SKU again
			e.fetch()
		}
		l := e.lead("500000092")
		now, n := e.elementBySKU("SKU-500000091")
		if n != 1 || now.ID == el.ID || e.linksOf(l.ID)[now.ID] != 3 {
			t.Fatalf("elements %d, links %v\n%s", n, e.linksOf(l.ID), e.out.String())
		}
		if r := e.record("500000092"); r.Step != domain.StepDone {
			t.Fatalf("step %s", r.Step)
		}
	})
}

func TestFetchNew_LongNamesAreCutTo255Characters(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		long := strings.Repeat("Ж", 300)
		o := e.order("500000101", time.Hour, "7011234567", domain.Line{SKU: "LONG", Name: long, Quantity: 1, BasePrice: 10})
		o.Customer = domain.Customer{FirstName: long, LastName: long, Phone: "7011234567"}
		e.add(o)
		if s := e.fetch(); s.Created != 1 || s.Failed != 0 {
			t.Fatalf("%s\n%s", s, e.out.String())
		}
		el, _ := e.elementBySKU("LONG")
		if len([]rune(el.Name)) != 255 {
			t.Fatalf("element name length %d", len([]rune(el.Name)))
		}
	})
}

func TestFetchNew_DealDeletedInAmoIsReportedOnceAndNoLongerTracked(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000111", time.Hour, "7011234567"))
		e.amo.InjectFault(amofake.Fault{Method: "POST", Path: "/api/v4/leads/link", Kind: amofake.FaultStatus, Status: 503, Times: 10})
		e.fetch() // the deal exists, its products are not linked yet
		e.amo.ClearFaults()
		if err := e.amo.DeleteLead(e.lead("500000111").ID); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		e.fetch()
		e.fetch()
		if n := strings.Count(e.out.String(), "удалили в amoCRM"); n != 1 {
			t.Fatalf("reported %d times:\n%s", n, e.out.String())
		}
		if r := e.record("500000111"); r.Tracked || r.Step != domain.StepDone {
			t.Fatalf("record %+v", r)
		}
	})
}

func TestFetchNew_FirstRunLooksBackFourteenDaysAndSinceBackfills(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000121", 13*24*time.Hour, "7011234567"), e.order("500000122", 20*24*time.Hour, "7011234567"))
		if s := e.fetch(); s.Found != 1 {
			t.Fatalf("first run: %s", s)
		}
		e.cfg.Since = e.clock.Now().Add(-30 * 24 * time.Hour)
		s := e.fetch()
		if s.Found != 1 || s.Created != 1 || !strings.Contains(e.out.String(), "загрузка за прошлые даты ") {
			t.Fatalf("backfill: %s\n%s", s, e.out.String())
		}
	})
}

func TestFetchNew_AdoptedPHPRowWithLeadIsNeverCreatedAgain(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		o := e.order("500000131", time.Hour, "7011234567")
		e.add(o)
		// The PHP version made this deal and saved its id in orders_map.
		id := e.amo.AddLead(amofake.Lead{Name: "Kaspi Order 500000131", Price: 1000})
		if _, err := e.db.Ingest(context.Background(), []domain.Order{o}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := e.db.SetLead(context.Background(), o.Code, id, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := e.db.SetStep(context.Background(), []string{o.Code}, domain.StepDone, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if s := e.fetch(); s.Created != 0 || len(e.amo.Leads()) != 1 {
			t.Fatalf("%s", s)
		}
	})
}

func TestFetchNew_ReservedPHPRowWhoseLeadExistsIsAdopted(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		o := e.order("500000141", time.Hour, "7011234567")
		e.add(o)
		id := e.amo.AddLead(amofake.Lead{Name: "Kaspi Order 500000141", Price: 1000})
		// The PHP version reserved the row (lead_id 0), created the deal
		// and crashed before saving its id.
		e.phpRow(context.Background(), o.Code, "NEW", 0)
		s := e.fetch()
		if s.Created != 1 || len(e.amo.Leads()) != 1 || e.record(o.Code).LeadID != id {
			t.Fatalf("%s; leads %d", s, len(e.amo.Leads()))
		}
		if len(e.linksOf(id)) != 1 || len(e.notesOf(id)) != 1 {
			t.Fatal("adopted deal not completed")
		}
	})
}

func TestFetchNew_CrashAfterTheLeadPostIsAdoptedOnTheNextRun(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		o := e.order("500000151", time.Hour, "7011234567")
		e.add(o)
		id := e.amo.AddLead(amofake.Lead{Name: "Kaspi Order 500000151", Price: 1000})
		if _, err := e.db.Ingest(context.Background(), []domain.Order{o}, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		// A crash after POST /leads: the intent is recorded, the id is not.
		if err := e.db.SetStep(context.Background(), []string{o.Code}, domain.StepLeadRequested, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if s := e.fetch(); s.Created != 1 || len(e.amo.Leads()) != 1 || e.record(o.Code).LeadID != id {
			t.Fatalf("%s; leads %d", s, len(e.amo.Leads()))
		}
	})
}

func TestFetchNew_SpentBudgetLeavesTheRestForTheNextRun(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000161", time.Hour, "7011234567"), e.order("500000162", time.Hour, "7021234567"))
		e.cfg.Budget, e.tick = time.Second, time.Second
		if s := e.fetch(); s.Found != 2 || s.Created != 0 || s.Pending != 2 || s.AmoRequests != 0 {
			t.Fatalf("%s", s)
		}
		e.cfg.Budget, e.tick = time.Hour, 0
		if s := e.fetch(); s.Created != 2 || s.Pending != 0 {
			t.Fatalf("%s", s)
		}
	})
}

func TestFetchNew_LimitCapsTheOrdersProcessed(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		for i := range 5 {
			e.add(e.order(fmt.Sprintf("50000017%d", i), time.Duration(5-i)*time.Minute, "7011234567"))
		}
		e.cfg.Limit = 2
		if s := e.fetch(); s.Created != 2 || s.Pending != 3 {
			t.Fatalf("%s", s)
		}
		// Oldest first.
		if _, ok := e.leadsByCode()["500000170"]; !ok {
			t.Fatal("the oldest order was not processed first")
		}
	})
}

func TestFetchNew_CatalogZeroTurnsProductsOff(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.CatalogID = 0
		e.add(e.order("500000181", time.Hour, "7011234567"))
		if s := e.fetch(); s.Created != 1 {
			t.Fatalf("%s", s)
		}
		if len(e.amo.Elements()) != 0 || len(e.linksOf(e.lead("500000181").ID)) != 0 {
			t.Fatal("products created or linked")
		}
		if len(e.notesOf(e.lead("500000181").ID)) != 1 || e.record("500000181").Step != domain.StepDone {
			t.Fatal("deal not completed")
		}
	})
}

func TestFetchNew_OrderDateFieldFollowsTheFieldType(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		text := e.amo.AddField("leads", "Дата заказа (текст)", "", "text")
		o := e.order("500000191", time.Hour, "7011234567")
		e.add(o)
		almaty, _ := time.LoadLocation("Asia/Almaty")

		e.cfg.LeadOrderDateFieldID = text
		e.fetch()
		want := time.UnixMilli(o.CreationMs).In(almaty).Format(time.RFC3339)
		if got := amofake.FieldText(e.lead(o.Code).Fields, text); got != want || !strings.HasSuffix(got, "+05:00") {
			t.Fatalf("text field = %q, want %q", got, want)
		}

		o2 := e.order("500000192", 30*time.Minute, "7011234567")
		e.add(o2)
		e.cfg.LeadOrderDateFieldID = amofake.LeadOrderDateTimeFieldID
		e.clock.Advance(time.Minute)
		e.fetch()
		if got := amofake.FieldText(e.lead(o2.Code).Fields, amofake.LeadOrderDateTimeFieldID); got != fmt.Sprint(o2.CreationMs/1000) {
			t.Fatalf("date_time field = %q, want %d", got, o2.CreationMs/1000)
		}
	})
}

// A custom field id in .env that the account lacks is a configuration
// error, like a pipeline it lacks: the run stops before any deal is
// created, naming the key, the value and the fields there are; no order
// records an attempt, and the first run after the fix creates them all.
func TestFetchNew_UnknownFieldIdFromEnvIsASettingError(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.add(e.order("500000201", time.Hour, "7011234567"), e.order("500000202", time.Hour, "7011234568"))
		for _, c := range []struct {
			key string
			set func(int64)
		}{
			{"AMO_LEAD_ORDER_CODE_FIELD_ID", func(v int64) { e.cfg.OrderCodeFieldID = v }},
			{"AMO_CONTACT_ADDRESS_FIELD_ID", func(v int64) { e.cfg.ContactAddressFieldID = v }},
		} {
			good := e.cfg
			c.set(123) // a typo in .env
			se := e.settingErr()
			if se.Key != c.key || se.Value != "123" || !strings.Contains(se.Reason, "такого поля у") || !strings.Contains(se.Reason, "есть: ") {
				t.Fatalf("%s: %+v", c.key, se)
			}
			if n := len(e.amo.Leads()); n != 0 {
				t.Fatalf("%s: %d deals created", c.key, n)
			}
			for _, code := range []string{"500000201", "500000202"} {
				if r := e.record(code); r.Attempts != 0 || r.LastError != "" {
					t.Fatalf("%s: order %s recorded an attempt: %+v", c.key, code, r)
				}
			}
			e.cfg = good
		}
		if s := e.fetch(); s.Created != 2 || s.Failed != 0 {
			t.Fatalf("after the fix: %s\n%s", s, e.out.String())
		}
	})
}

// A batch of orders with more new SKUs than one amoCRM batch holds creates
// them in full batches of 50, not one request per product.
func TestFetchNew_ManyNewProductsAreCreatedInBatchesOfFifty(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		for i := 0; i < 30; i++ {
			code := fmt.Sprintf("5000007%02d", i)
			var lines []domain.Line
			for j := 0; j < 4; j++ {
				sku := fmt.Sprintf("SKU-%s-%d", code, j)
				lines = append(lines, domain.Line{SKU: sku, Name: "Товар " + sku, Quantity: 1, BasePrice: 1000})
			}
			e.add(e.order(code, time.Hour, fmt.Sprintf("70112345%02d", i), lines...))
		}
		e.fetch()
		if n := len(e.amo.Elements()); n != 120 {
			t.Fatalf("%d catalog elements, want 120", n)
		}
		creates := 0
		for _, r := range e.amo.Requests() {
			if r.Method == "POST" && strings.HasSuffix(r.Path, "/elements") {
				creates++
			}
		}
		if creates != 3 {
			t.Fatalf("%d element create requests for 120 new products, want 3 (50+50+20)", creates)
		}
	})
}
