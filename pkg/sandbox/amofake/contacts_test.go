package amofake_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"kaspi-amocrm/pkg/sandbox/amofake"
)

func searchContactIDs(t *testing.T, f *fake, query string) []int64 {
	t.Helper()
	r := f.call("GET", "/api/v4/contacts?limit=250&query="+query, "")
	if r.status == http.StatusNoContent {
		if len(r.body) != 0 {
			t.Fatalf("204 with a body: %q", r.body)
		}
		return nil
	}
	var ids []int64
	for _, c := range embedded(t, r, "contacts") {
		ids = append(ids, int64(c["id"].(float64)))
	}
	return ids
}

func TestSearchContacts_PhoneAsTypedIsFoundByItsDigits(t *testing.T) {
	f := newFake(t, amofake.Options{})
	id := f.srv.AddContact("Айгерим Сапарова", "8 (701) 123-45-67")
	for _, q := range []string{"7011234567", "1234567", "701", "(701)%20123", "Айгерим", "%D1%81%D0%B0%D0%BF%D0%B0%D1%80%D0%BE%D0%B2%D0%B0"} {
		if got := searchContactIDs(t, f, q); len(got) != 1 || got[0] != id {
			t.Errorf("query %q: %v", q, got)
		}
	}
	// Not digits only, and not a substring of the stored text.
	for _, q := range []string{"%2B77011234567", "+7%20701", "77011234567"} {
		if got := searchContactIDs(t, f, q); len(got) != 0 {
			t.Errorf("query %q matched %v", q, got)
		}
	}
}

func TestSearchContacts_DigitsInOtherFieldsAreDecoyMatches(t *testing.T) {
	f := newFake(t, amofake.Options{})
	real := f.srv.AddContact("Айгерим", "+7 701 123 4567")
	decoy := f.srv.AddContactFields("Склад", nil, map[int64]string{amofake.ContactAddressFieldID: "Алматы, офис 7011234567"})
	named := f.srv.AddContact("Заказ 7011234567")
	other := f.srv.AddContact("Другой", "+77019999999")
	got := searchContactIDs(t, f, "7011234567")
	want := map[int64]bool{real: true, decoy: true, named: true}
	if len(got) != 3 {
		t.Fatalf("got %v, want %v", got, want)
	}
	for _, id := range got {
		if !want[id] || id == other {
			t.Errorf("unexpected %d", id)
		}
	}
}

func TestSearchContacts_NoMatchIs204WithEmptyBody(t *testing.T) {
	f := newFake(t, amofake.Options{})
	r := f.call("GET", "/api/v4/contacts?query=7000000000", "")
	mustStatus(t, r, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("body %q", r.body)
	}
}

func TestCreateContacts_PhonesAreStoredAsSent(t *testing.T) {
	f := newFake(t, amofake.Options{})
	body := fmt.Sprintf(`[{"first_name":"Айгерим","last_name":"Сапарова","custom_fields_values":[
		{"field_code":"PHONE","values":[{"value":"+77011234567","enum_code":"MOB"}]},
		{"field_id":%d,"values":[{"value":"Алматы, ул. Абая, 10"}]}],"request_id":"c-1"}]`, amofake.ContactAddressFieldID)
	r := f.call("POST", "/api/v4/contacts", body)
	if items := embedded(t, r, "contacts"); items[0]["request_id"] != "c-1" {
		t.Fatalf("answer %s", r.body)
	}
	cs := f.srv.Contacts()
	if len(cs) != 1 || cs[0].Name != "Айгерим Сапарова" || cs[0].Phones()[0] != "+77011234567" {
		t.Fatalf("stored %+v", cs)
	}
	if amofake.FieldText(cs[0].Fields, amofake.ContactAddressFieldID) != "Алматы, ул. Абая, 10" {
		t.Errorf("address %+v", cs[0].Fields)
	}
}

func TestCreateContacts_UnknownPhoneEnumIsRejected(t *testing.T) {
	f := newFake(t, amofake.Options{})
	r := f.call("POST", "/api/v4/contacts", `[{"name":"x","custom_fields_values":[{"field_code":"PHONE","values":[{"value":"1","enum_code":"CELL"}]}],"request_id":"c"}]`)
	if errs := validationErrors(t, r); !hasEntry(errs["c"], "NotSupportedChoice custom_fields_values.0.values.0.enum_code") {
		t.Errorf("errors %v", errs)
	}
}

func TestPatchContacts_SendingPhonesReplacesThem(t *testing.T) {
	f := newFake(t, amofake.Options{})
	id := f.srv.AddContact("x", "8 701 111 11 11", "8 701 222 22 22")
	r := f.call("PATCH", "/api/v4/contacts", fmt.Sprintf(`[{"id":%d,"custom_fields_values":[{"field_code":"PHONE","values":[{"value":"+77013333333"}]}]}]`, id))
	mustStatus(t, r, http.StatusOK)
	cs := f.srv.Contacts()
	if got := cs[0].Phones(); len(got) != 1 || got[0] != "+77013333333" {
		t.Errorf("phones %v", got)
	}
	r = f.call("PATCH", "/api/v4/contacts", `[{"id":1,"name":"y","request_id":"p"}]`)
	if errs := validationErrors(t, r); !hasEntry(errs["p"], "NotSupportedChoice id") {
		t.Errorf("errors %v", errs)
	}
}

func TestDeletedContact_CannotBeAttachedToALead(t *testing.T) {
	f := newFake(t, amofake.Options{})
	id := f.srv.AddContact("x", "+77011234567")
	if err := f.srv.DeleteContact(id); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, f.call("GET", "/api/v4/contacts?query=7011234567", ""), http.StatusNoContent)
	r := f.call("POST", "/api/v4/leads", fmt.Sprintf(`[{"name":"x","_embedded":{"contacts":[{"id":%d}]},"request_id":"l"}]`, id))
	if errs := validationErrors(t, r); !hasEntry(errs["l"], "NotSupportedChoice _embedded.contacts.0.id") {
		t.Errorf("errors %v", errs)
	}
}

func TestSearchLag_NewContactIsFoundByQueryOnlyLater(t *testing.T) {
	clk := newClock()
	f := newFake(t, amofake.Options{Now: clk.Now, SearchLag: time.Minute})
	id := idOf(t, f.call("POST", "/api/v4/contacts", `[{"name":"x","custom_fields_values":[{"field_code":"PHONE","values":[{"value":"+77011234567"}]}]}]`), "contacts")
	mustStatus(t, f.call("GET", "/api/v4/contacts?query=7011234567", ""), http.StatusNoContent)
	// By id it is there at once.
	mustStatus(t, f.call("GET", fmt.Sprintf("/api/v4/contacts/%d", id), ""), http.StatusOK)
	clk.Add(time.Minute)
	if got := searchContactIDs(t, f, "7011234567"); len(got) != 1 {
		t.Errorf("got %v", got)
	}
}
