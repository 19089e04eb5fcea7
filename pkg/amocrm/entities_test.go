package amocrm_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

func TestContacts_CreateThenFindByPhoneDigits(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)
	decoy := h.fake.AddContact("Сауле", "8 (701) 123-45-67")

	got, err := c.CreateContacts(ctx, []domain.Contact{{
		RequestID: "c-77019998877", FirstName: "Айгерим", LastName: "Сапарова",
		Phones: []string{"+77019998877"},
		Fields: []domain.FieldValue{{FieldID: amofake.ContactAddressFieldID, Values: []domain.FieldItem{{Value: "Алматы, Абая 10"}}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID == 0 || got[0].RequestID != "c-77019998877" {
		t.Fatalf("created %+v", got)
	}
	stored := h.fake.Contacts()
	var phones []string
	for _, ct := range stored {
		if ct.ID == got[0].ID {
			phones = ct.Phones()
			if ct.FirstName != "Айгерим" || ct.LastName != "Сапарова" {
				t.Errorf("stored names %q %q", ct.FirstName, ct.LastName)
			}
		}
	}
	if len(phones) != 1 || phones[0] != "+77019998877" {
		t.Fatalf("stored phones %v", phones)
	}

	found, err := c.SearchContacts(ctx, "7011234567")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].ID != decoy || found[0].Phones[0] != "8 (701) 123-45-67" {
		t.Fatalf("search found %+v", found)
	}
	if q := lastQuery(h, "/api/v4/contacts"); !strings.Contains(q, "limit=250") {
		t.Errorf("search asked for %q, want a full page (limit=250)", q)
	}
}

func TestSearchContacts_NoMatchIs204AndEmpty(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	found, err := c.SearchContacts(ctxT(t), "7000000000")
	if err != nil || len(found) != 0 {
		t.Fatalf("got %v, %v; want empty, nil", found, err)
	}
	if st := lastStatus(h, "/api/v4/contacts"); st != http.StatusNoContent {
		t.Fatalf("fake answered %d, the test expects the 204 path", st)
	}
}

func TestElements_CreateWithSKUAndPriceThenSearch(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)
	got, err := c.CreateElements(ctx, amofake.CatalogID, []domain.Element{
		{RequestID: "KSP-1", Name: "Смартфон X", SKU: "KSP-1", Price: 159990},
		{RequestID: "KSP-2", Name: "Чехол", SKU: "KSP-2", Price: 1999.5},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID == 0 || got[1].ID == 0 || got[0].CatalogID != amofake.CatalogID {
		t.Fatalf("created %+v", got)
	}
	found, err := c.SearchElements(ctx, amofake.CatalogID, "KSP-2")
	if err != nil {
		t.Fatal(err)
	}
	var hit *domain.Element
	for i := range found {
		if found[i].SKU == "KSP-2" {
			hit = &found[i]
		}
	}
	if hit == nil || hit.ID != got[1].ID || hit.Price != 1999.5 || hit.Name != "Чехол" {
		t.Fatalf("search found %+v", found)
	}
}

func TestLeads_CreateGetUpdate(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)
	contact := h.fake.AddContact("Айгерим", "+77011234567")

	created, err := c.CreateLeads(ctx, []domain.Lead{{
		RequestID: "512345678", Name: "Kaspi заказ 512345678", Price: 45990,
		PipelineID: amofake.PipelineID, StatusID: amofake.StatusNewOrder, ResponsibleUserID: amofake.UserID,
		Tags: []string{"kaspi"}, ContactID: contact,
		Fields: []domain.FieldValue{{FieldID: amofake.LeadOrderCodeFieldID, Values: []domain.FieldItem{{Value: "512345678"}}}},
	}, {
		RequestID: "512345679", Name: "Kaspi заказ 512345679", Price: 12500,
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 2 || created[0].ID == 0 || created[1].ID == 0 || created[0].ID == created[1].ID {
		t.Fatalf("created %+v", created)
	}
	stored, _ := h.fake.Lead(created[0].ID)
	if stored.Price != 45990 || stored.StatusID != amofake.StatusNewOrder || stored.MainContactID() != contact ||
		len(stored.Tags) != 1 || stored.Tags[0] != "kaspi" || amofake.FieldText(stored.Fields, amofake.LeadOrderCodeFieldID) != "512345678" {
		t.Fatalf("stored lead %+v", stored)
	}

	if err := h.fake.DeleteLead(created[1].ID); err != nil {
		t.Fatal(err)
	}
	leads, err := c.GetLeads(ctx, []int64{created[0].ID, created[1].ID, 99999999})
	if err != nil {
		t.Fatal(err)
	}
	if len(leads) != 1 || leads[0].ID != created[0].ID || leads[0].ContactID != contact ||
		leads[0].StatusID != amofake.StatusNewOrder || leads[0].Price != 45990 {
		t.Fatalf("GetLeads = %+v; want only the live lead", leads)
	}

	price := int64(40000)
	if err := c.UpdateLeads(ctx, []domain.LeadUpdate{{ID: created[0].ID, PipelineID: amofake.PipelineID,
		StatusID: domain.StatusWon, Price: &price}}); err != nil {
		t.Fatal(err)
	}
	stored, _ = h.fake.Lead(created[0].ID)
	if stored.StatusID != domain.StatusWon || stored.Price != 40000 {
		t.Fatalf("after update %+v", stored)
	}

	found, err := c.SearchLeads(ctx, "512345678")
	if err != nil || len(found) != 1 || found[0].ID != created[0].ID {
		t.Fatalf("SearchLeads = %+v, %v", found, err)
	}
}

func TestGetLeads_PagesThroughManyIDs(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	var ids []int64
	for i := 0; i < 120; i++ {
		ids = append(ids, h.fake.AddLead(amofake.Lead{Name: fmt.Sprint("lead ", i)}))
	}
	leads, err := c.GetLeads(ctxT(t), ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(leads) != 120 {
		t.Fatalf("got %d leads of 120", len(leads))
	}
}

func TestUpdateLeads_StatusNeedsPipeline(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	err := c.UpdateLeads(ctxT(t), []domain.LeadUpdate{{ID: 1, StatusID: domain.StatusWon}})
	if !errors.Is(err, domain.ErrBadRequest) {
		t.Fatalf("err = %v; want ErrBadRequest before any request", err)
	}
	if n := h.fake.RequestCount(); n != 0 {
		t.Fatalf("%d requests sent", n)
	}
}

func TestLinksAndNotes_BulkThenReadBack(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)
	lead := h.fake.AddLead(amofake.Lead{Name: "Kaspi заказ 1"})
	e1, _ := h.fake.AddElement(amofake.CatalogID, "Товар 1", "SKU-1", "1000")
	e2, _ := h.fake.AddElement(amofake.CatalogID, "Товар 2", "SKU-2", "2000")

	err := c.LinkElements(ctx, []domain.Link{
		{LeadID: lead, ElementID: e1, CatalogID: amofake.CatalogID, Quantity: 2},
		{LeadID: lead, ElementID: e2, CatalogID: amofake.CatalogID, Quantity: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := h.requests(http.MethodPost, "/api/v4/leads/link"); n != 1 {
		t.Fatalf("%d link calls; want one bulk call", n)
	}
	links, err := c.LeadLinks(ctx, lead)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 2 {
		t.Fatalf("links %+v", links)
	}
	for _, l := range links {
		if l.LeadID != lead || l.CatalogID != amofake.CatalogID || (l.ElementID == e1 && l.Quantity != 2) {
			t.Errorf("link %+v", l)
		}
	}

	if err := c.AddNotes(ctx, []domain.Note{{LeadID: lead, RequestID: "1", Text: "Kaspi заказ 1\nИтого: 4 000 ₸"}}); err != nil {
		t.Fatal(err)
	}
	notes, err := c.LeadNotes(ctx, lead)
	if err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0].ID == 0 || notes[0].LeadID != lead || !strings.Contains(notes[0].Text, "4 000 ₸") {
		t.Fatalf("notes %+v", notes)
	}
	for _, n := range h.fake.Notes() {
		if n.NoteType != "common" {
			t.Errorf("note type %q", n.NoteType)
		}
	}
}

func TestMetadata_AccountPipelinesUsersCatalogsFields(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)
	acc, err := c.Account(ctx)
	if err != nil || acc.ID != amofake.AccountID || acc.Subdomain == "" {
		t.Fatalf("Account = %+v, %v", acc, err)
	}
	pipes, err := c.Pipelines(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var main *struct{ won, own bool }
	for _, p := range pipes {
		if p.ID == amofake.PipelineID {
			main = &struct{ won, own bool }{}
			if p.Sort != 1 || !p.IsMain {
				t.Errorf("main pipeline sort %d, is_main %v", p.Sort, p.IsMain)
			}
			for _, s := range p.Statuses {
				main.won = main.won || s.ID == domain.StatusWon
				main.own = main.own || (s.ID == amofake.StatusNewOrder && s.PipelineID == p.ID &&
					s.Sort == 20 && s.Color == "#99ccff")
			}
		}
	}
	if main == nil || !main.won || !main.own {
		t.Fatalf("pipelines %+v", pipes)
	}
	users, err := c.Users(ctx)
	if err != nil || len(users) == 0 || users[0].ID != amofake.UserID {
		t.Fatalf("Users = %+v, %v", users, err)
	}
	cats, err := c.Catalogs(ctx)
	if err != nil || len(cats) < 2 {
		t.Fatalf("Catalogs = %+v, %v", cats, err)
	}

	// More fields than one page (the fake serves 50 per page).
	for i := 0; i < 60; i++ {
		h.fake.AddField("leads", fmt.Sprint("Поле ", i), "", "text")
	}
	fields, err := c.CustomFields(ctx, "leads")
	if err != nil {
		t.Fatal(err)
	}
	if len(fields) < 65 {
		t.Fatalf("%d lead fields; want every page", len(fields))
	}
	catFields, err := c.CustomFields(ctx, fmt.Sprintf("catalogs/%d", amofake.CatalogID))
	if err != nil {
		t.Fatal(err)
	}
	var sku bool
	for _, f := range catFields {
		sku = sku || (f.Code == "SKU" && f.ID == amofake.SKUFieldID)
	}
	if !sku {
		t.Fatalf("catalog fields %+v", catFields)
	}
	if _, err := c.CustomFields(ctx, "../account"); !errors.Is(err, domain.ErrBadRequest) {
		t.Fatalf("CustomFields(bad entity) err = %v", err)
	}
}

func TestPayloads_AreNullFree(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)
	// Everything optional left unset: no pipeline, status, responsible
	// user, contact, tags or fields.
	leads, err := c.CreateLeads(ctx, []domain.Lead{{Name: "Минимальная сделка", Price: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateContacts(ctx, []domain.Contact{{Name: "Без телефона"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateElements(ctx, amofake.CatalogID, []domain.Element{{Name: "Без цены", SKU: "S-0"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateLeads(ctx, []domain.LeadUpdate{{ID: leads[0].ID, PipelineID: amofake.PipelineID, StatusID: amofake.StatusConfirmed}}); err != nil {
		t.Fatal(err)
	}
	bodies := h.allBodies()
	if strings.Contains(bodies, "null") {
		t.Fatalf("a request body carries null:\n%s", bodies)
	}
	for _, absent := range []string{`"pipeline_id":0`, `"status_id":0`, `"responsible_user_id":0`, `"_embedded":{}`} {
		if strings.Contains(bodies, absent) {
			t.Errorf("request bodies carry %s:\n%s", absent, bodies)
		}
	}
}

func TestBatches_OverMaxBatchAreRefusedWithoutARequest(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)
	n := domain.MaxBatch + 1
	checks := map[string]error{}
	_, checks["contacts"] = c.CreateContacts(ctx, make([]domain.Contact, n))
	_, checks["elements"] = c.CreateElements(ctx, amofake.CatalogID, make([]domain.Element, n))
	_, checks["leads"] = c.CreateLeads(ctx, make([]domain.Lead, n))
	checks["update"] = c.UpdateLeads(ctx, make([]domain.LeadUpdate, n))
	checks["links"] = c.LinkElements(ctx, make([]domain.Link, n))
	checks["notes"] = c.AddNotes(ctx, make([]domain.Note, n))
	for name, err := range checks {
		if !errors.Is(err, domain.ErrBadRequest) {
			t.Errorf("%s: err = %v; want ErrBadRequest", name, err)
		}
	}
	if got := h.fake.RequestCount(); got != 0 {
		t.Fatalf("%d requests sent for oversized batches", got)
	}
}

func TestCreate_DuplicateRequestIDsRefused(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	_, err := c.CreateLeads(ctxT(t), []domain.Lead{{RequestID: "1", Name: "a"}, {RequestID: "1", Name: "b"}})
	if !errors.Is(err, domain.ErrBadRequest) {
		t.Fatalf("err = %v", err)
	}
}

func lastQuery(h *harness, path string) string {
	q := ""
	for _, r := range h.fake.Requests() {
		if r.Path == path {
			q = r.Query
		}
	}
	return q
}

func lastStatus(h *harness, path string) int {
	st := 0
	for _, r := range h.fake.Requests() {
		if r.Path == path {
			st = r.Status
		}
	}
	return st
}
