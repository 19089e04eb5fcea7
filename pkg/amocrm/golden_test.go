package amocrm_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden from the client's requests")

// Every amoCRM write the client makes is compared with a golden body in
// testdata/golden. The golden bodies follow the shapes the official PHP
// SDK (amocrm/amocrm-api-php) sends: LeadModel, ContactModel and
// CatalogElementModel toApi (custom_fields_values by field_id or
// field_code, _embedded.tags by name, _embedded.contacts with is_main,
// request_id), LinkModel/EntityLinkModel toArray (entity_type, entity_id,
// to_entity_type, to_entity_id, metadata), CommonNote toApi (entity_id,
// note_type common, params.text), and the lead PATCH (id with only the
// changed fields). A change of the client that the fake would accept but
// the SDK shape does not allow shows up here, not in production.
func TestGoldenWriteBodies(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)

	contacts, err := c.CreateContacts(ctx, []domain.Contact{{RequestID: "512345678", Name: "Айгерим Сапарова",
		FirstName: "Айгерим", LastName: "Сапарова", Phones: []string{"+77011234567"},
		Fields: []domain.FieldValue{{FieldID: amofake.ContactAddressFieldID, Values: []domain.FieldItem{{Value: "Алматы, ул. Абая, 10"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	els, err := c.CreateElements(ctx, amofake.CatalogID, []domain.Element{{RequestID: "KSP-1", Name: "Чайник", SKU: "KSP-1", Price: 5000}})
	if err != nil {
		t.Fatal(err)
	}
	leads, err := c.CreateLeads(ctx, []domain.Lead{{RequestID: "512345678", Name: "Kaspi Order 512345678", Price: 10000,
		PipelineID: amofake.PipelineID, StatusID: amofake.StatusNewOrder, ResponsibleUserID: amofake.UserID,
		Tags: []string{"kaspi"}, ContactID: contacts[0].ID,
		Fields: []domain.FieldValue{{FieldID: amofake.LeadOrderCodeFieldID, Values: []domain.FieldItem{{Value: "512345678"}}},
			{FieldID: amofake.LeadOrderDateFieldID, Values: []domain.FieldItem{{Value: int64(1751907600)}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.LinkElements(ctx, []domain.Link{{LeadID: leads[0].ID, ElementID: els[0].ID, CatalogID: amofake.CatalogID, Quantity: 2}}); err != nil {
		t.Fatal(err)
	}
	if err := c.AddNotes(ctx, []domain.Note{{LeadID: leads[0].ID, RequestID: "512345678", Text: "Заказ Kaspi № 512345678"}}); err != nil {
		t.Fatal(err)
	}
	price := int64(9000)
	if err := c.UpdateLeads(ctx, []domain.LeadUpdate{{ID: leads[0].ID, PipelineID: amofake.PipelineID, StatusID: domain.StatusWon, Price: &price}}); err != nil {
		t.Fatal(err)
	}

	ids := map[string]any{"contact": contacts[0].ID, "element": els[0].ID, "lead": leads[0].ID}
	for _, g := range []struct{ name, path string }{
		{"contact", "/api/v4/contacts"},
		{"element", "/api/v4/catalogs/" + itoa(amofake.CatalogID) + "/elements"},
		{"lead", "/api/v4/leads"}, // the last body sent there is the PATCH
		{"link", "/api/v4/leads/link"},
		{"note", "/api/v4/leads/notes"},
	} {
		bodies := h.bodiesTo(g.path)
		if len(bodies) == 0 {
			t.Fatalf("no body sent to %s", g.path)
		}
		for i, body := range bodies {
			name := g.name
			if g.name == "lead" && i == 1 {
				name = "lead_patch"
			}
			checkGolden(t, name, normalize(t, body, ids), *updateGolden)
		}
	}
}

// normalize replaces the ids the fake assigned with placeholders and
// indents the body.
func normalize(t *testing.T, body string, ids map[string]any) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("body is not JSON: %s", body)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(replaceIDs(v, ids)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func replaceIDs(v any, ids map[string]any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			x[k] = replaceIDs(val, ids)
		}
	case []any:
		for i := range x {
			x[i] = replaceIDs(x[i], ids)
		}
	case float64:
		for name, id := range ids {
			if x == float64(id.(int64)) {
				return "<" + name + "_id>"
			}
		}
	case string:
		for name, id := range ids {
			if x == itoa(id.(int64)) {
				return "<" + name + "_id>"
			}
		}
	}
	return v
}

func checkGolden(t *testing.T, name string, got []byte, update bool) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".json")
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s: %v", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s body differs from %s:\n got: %s\nwant: %s", name, path, got, want)
	}
}
