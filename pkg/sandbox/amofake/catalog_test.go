package amofake_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/sandbox/amofake"
)

func createElement(t *testing.T, f *fake, sku string) int64 {
	t.Helper()
	body := fmt.Sprintf(`[{"name":"Смартфон %[1]s","custom_fields_values":[{"field_code":"SKU","values":[{"value":"%[1]s"}]},
		{"field_code":"PRICE","values":[{"value":159990}]}],"request_id":"%[1]s"}]`, sku)
	return idOf(t, f.call("POST", fmt.Sprintf("/api/v4/catalogs/%d/elements", amofake.CatalogID), body), "elements")
}

func createLead(t *testing.T, f *fake) int64 {
	t.Helper()
	return idOf(t, f.call("POST", "/api/v4/leads", `[{"name":"x","price":1}]`), "leads")
}

func TestElements_CreateReturnsTheFullElementAndQueryFindsSKU(t *testing.T) {
	f := newFake(t, amofake.Options{})
	r := f.call("POST", fmt.Sprintf("/api/v4/catalogs/%d/elements", amofake.CatalogID),
		`[{"name":"Чехол","custom_fields_values":[{"field_code":"SKU","values":[{"value":"KSP-100"}]},{"field_code":"PRICE","values":[{"value":"999.12"}]}],"request_id":"KSP-100"}]`)
	el := embedded(t, r, "elements")[0]
	if el["request_id"] != "KSP-100" || el["catalog_id"].(float64) != float64(amofake.CatalogID) || el["custom_fields_values"] == nil {
		t.Fatalf("element %v", el)
	}
	createElement(t, f, "KSP-1000")
	got := embedded(t, f.call("GET", fmt.Sprintf("/api/v4/catalogs/%d/elements?query=KSP-100", amofake.CatalogID), ""), "elements")
	if len(got) != 2 {
		t.Errorf("fuzzy query found %d elements, want both KSP-100 and KSP-1000", len(got))
	}
	els := f.srv.Elements()
	if els[0].SKU() != "KSP-100" || els[0].Price() != "999.12" {
		t.Errorf("stored %+v", els[0])
	}
}

func TestElements_NameIsRequiredAndUnknownCatalogIs404(t *testing.T) {
	f := newFake(t, amofake.Options{})
	r := f.call("POST", fmt.Sprintf("/api/v4/catalogs/%d/elements", amofake.CatalogID), `[{"custom_fields_values":[],"request_id":"e"}]`)
	if errs := validationErrors(t, r); !hasEntry(errs["e"], "NotBlank name") {
		t.Errorf("errors %v", errs)
	}
	mustStatus(t, f.call("GET", "/api/v4/catalogs/1/elements", ""), http.StatusNotFound)
	// SKU is a field of the products catalog only.
	r = f.call("POST", fmt.Sprintf("/api/v4/catalogs/%d/elements", amofake.RegularCatalogID), `[{"name":"x","custom_fields_values":[{"field_code":"SKU","values":[{"value":"1"}]}],"request_id":"e"}]`)
	if errs := validationErrors(t, r); !hasEntry(errs["e"], "NotSupportedChoice custom_fields_values.0.field_code") {
		t.Errorf("errors %v", errs)
	}
}

func TestLinks_BulkLinkIsReadBackWithQuantity(t *testing.T) {
	f := newFake(t, amofake.Options{})
	lead, e1, e2 := createLead(t, f), createElement(t, f, "A"), createElement(t, f, "B")
	body := fmt.Sprintf(`[{"entity_id":%[1]d,"entity_type":"leads","to_entity_id":%[2]d,"to_entity_type":"catalog_elements","metadata":{"catalog_id":%[4]d,"quantity":2}},
		{"entity_id":%[1]d,"entity_type":"leads","to_entity_id":%[3]d,"to_entity_type":"catalog_elements","metadata":{"catalog_id":%[4]d,"quantity":1.5,"price_id":%[5]d}}]`,
		lead, e1, e2, amofake.CatalogID, amofake.PriceFieldID)
	if got := embedded(t, f.call("POST", "/api/v4/leads/link", body), "links"); len(got) != 2 {
		t.Fatalf("links %v", got)
	}
	got := embedded(t, f.call("GET", fmt.Sprintf("/api/v4/leads/%d/links?filter[to_entity_type]=catalog_elements", lead), ""), "links")
	if len(got) != 2 || got[1]["metadata"].(map[string]any)["quantity"].(float64) != 1.5 {
		t.Errorf("links %v", got)
	}
	// Linking the same element again updates the link instead of adding one.
	f.call("POST", "/api/v4/leads/link", fmt.Sprintf(`[{"entity_id":%d,"to_entity_id":%d,"to_entity_type":"catalog_elements","metadata":{"catalog_id":%d,"quantity":3}}]`, lead, e1, amofake.CatalogID))
	if links := f.srv.Links(); len(links) != 2 || links[0].Quantity != 3 {
		t.Errorf("links %+v", links)
	}
	ld := f.call("GET", fmt.Sprintf("/api/v4/leads/%d?with=catalog_elements", lead), "").json(t)
	if els := ld["_embedded"].(map[string]any)["catalog_elements"].([]any); len(els) != 2 {
		t.Errorf("with=catalog_elements %v", els)
	}
}

func TestLinks_BadItemsAreRejected(t *testing.T) {
	f := newFake(t, amofake.Options{})
	lead, el := createLead(t, f), createElement(t, f, "A")
	cases := []struct{ name, item, want string }{
		{"unknown metadata key", `"metadata":{"catalog_id":CAT,"quantity":1,"price":100}`, "FieldNotExpected metadata.price"},
		{"invalid updated_by", `"metadata":{"catalog_id":CAT,"quantity":1,"updated_by":1}`, "NotSupportedChoice metadata.updated_by"},
		{"missing catalog_id", `"metadata":{"quantity":1}`, "NotBlank metadata.catalog_id"},
		{"another catalog", `"metadata":{"catalog_id":` + fmt.Sprint(amofake.RegularCatalogID) + `,"quantity":1}`, "NotSupportedChoice metadata.catalog_id"},
		{"price_id not a price field", `"metadata":{"catalog_id":CAT,"quantity":1,"price_id":` + fmt.Sprint(amofake.SKUFieldID) + `}`, "NotSupportedChoice metadata.price_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			meta := strings.ReplaceAll(tc.item, "CAT", fmt.Sprint(amofake.CatalogID))
			body := fmt.Sprintf(`[{"entity_id":%d,"to_entity_id":%d,"to_entity_type":"catalog_elements",%s,"request_id":"k"}]`, lead, el, meta)
			if errs := validationErrors(t, f.call("POST", "/api/v4/leads/link", body)); !hasEntry(errs["k"], tc.want) {
				t.Errorf("errors %v, want %q", errs, tc.want)
			}
		})
	}
	body := fmt.Sprintf(`[{"entity_id":1,"to_entity_id":%d,"to_entity_type":"catalog_elements","metadata":{"catalog_id":%d}}]`, el, amofake.CatalogID)
	if errs := validationErrors(t, f.call("POST", "/api/v4/leads/link", body)); !hasEntry(errs["0"], "NotSupportedChoice entity_id") {
		t.Errorf("unknown lead: %v", errs)
	}
	if err := f.srv.DeleteElement(el); err != nil {
		t.Fatal(err)
	}
	body = fmt.Sprintf(`[{"entity_id":%d,"to_entity_id":%d,"to_entity_type":"catalog_elements","metadata":{"catalog_id":%d}}]`, lead, el, amofake.CatalogID)
	if errs := validationErrors(t, f.call("POST", "/api/v4/leads/link", body)); !hasEntry(errs["0"], "NotSupportedChoice to_entity_id") {
		t.Errorf("deleted element: %v", errs)
	}
	if len(f.srv.Links()) != 0 {
		t.Error("a rejected link was stored")
	}
}

func TestLeadLinks_NoLinksIs204(t *testing.T) {
	f := newFake(t, amofake.Options{})
	lead := createLead(t, f)
	mustStatus(t, f.call("GET", fmt.Sprintf("/api/v4/leads/%d/links", lead), ""), http.StatusNoContent)
	mustStatus(t, f.call("GET", fmt.Sprintf("/api/v4/leads/%d/links?filter[to_entity_id]=5", lead), ""), http.StatusBadRequest)
}

func TestNotes_BulkNotesAreListedPerLead(t *testing.T) {
	f := newFake(t, amofake.Options{})
	a, b := createLead(t, f), createLead(t, f)
	body := fmt.Sprintf(`[{"entity_id":%d,"note_type":"common","params":{"text":"Kaspi заказ 1"},"request_id":"1"},
		{"entity_id":%d,"note_type":"common","params":{"text":"Kaspi заказ 2"},"request_id":"2"}]`, a, b)
	items := embedded(t, f.call("POST", "/api/v4/leads/notes", body), "notes")
	if len(items) != 2 || items[1]["request_id"] != "2" || items[1]["entity_id"].(float64) != float64(b) {
		t.Fatalf("notes %v", items)
	}
	got := embedded(t, f.call("GET", fmt.Sprintf("/api/v4/leads/%d/notes", a), ""), "notes")
	if len(got) != 1 || got[0]["params"].(map[string]any)["text"] != "Kaspi заказ 1" {
		t.Errorf("notes %v", got)
	}
	mustStatus(t, f.call("GET", fmt.Sprintf("/api/v4/leads/%d/notes?page=2", a), ""), http.StatusNoContent)
}

func TestNotes_BadItemsAreRejected(t *testing.T) {
	f := newFake(t, amofake.Options{})
	lead := createLead(t, f)
	cases := []struct{ item, want string }{
		{`{"entity_id":1,"note_type":"common","params":{"text":"x"}}`, "NotSupportedChoice entity_id"},
		{`{"entity_id":LEAD,"note_type":"memo","params":{"text":"x"}}`, "NotSupportedChoice note_type"},
		{`{"entity_id":LEAD,"note_type":"common","params":{"text":""}}`, "NotBlank params.text"},
		{`{"entity_id":LEAD,"note_type":"common","params":{"text":"x","title":"y"}}`, "FieldNotExpected params.title"},
		{`{"note_type":"common","params":{"text":"x"}}`, "NotBlank entity_id"},
	}
	for _, tc := range cases {
		item := strings.ReplaceAll(tc.item, "LEAD", fmt.Sprint(lead))
		if errs := validationErrors(t, f.call("POST", "/api/v4/leads/notes", "["+item+"]")); !hasEntry(errs["0"], tc.want) {
			t.Errorf("%s: %v, want %q", item, errs, tc.want)
		}
	}
	if len(f.srv.Notes()) != 0 {
		t.Error("a rejected note was stored")
	}
}
