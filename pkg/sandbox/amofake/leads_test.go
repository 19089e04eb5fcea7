package amofake_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/sandbox/amofake"
)

// validLead is a lead item the fake accepts.
func validLead(reqID string) string {
	return fmt.Sprintf(`{"name":"Kaspi заказ %[1]s","price":45990,"pipeline_id":%[2]d,"status_id":%[3]d,
		"custom_fields_values":[{"field_id":%[4]d,"values":[{"value":"%[1]s"}]}],
		"_embedded":{"tags":[{"name":"kaspi"}]},"request_id":"%[1]s"}`,
		reqID, amofake.PipelineID, amofake.StatusNewOrder, amofake.LeadOrderCodeFieldID)
}

func TestCreateLeads_ValidBatchIsCreatedAndMappedByRequestID(t *testing.T) {
	f := newFake(t, amofake.Options{})
	r := f.call("POST", "/api/v4/leads", "["+validLead("512345678")+","+validLead("512345679")+"]")
	items := embedded(t, r, "leads")
	if len(items) != 2 || items[0]["request_id"] != "512345678" || items[1]["request_id"] != "512345679" {
		t.Fatalf("answer %s", r.body)
	}
	leads := f.srv.Leads()
	if len(leads) != 2 || leads[0].Price != 45990 || amofake.FieldText(leads[0].Fields, amofake.LeadOrderCodeFieldID) != "512345678" {
		t.Fatalf("stored %+v", leads)
	}
	if leads[0].Tags[0] != "kaspi" || leads[0].StatusID != amofake.StatusNewOrder {
		t.Errorf("stored %+v", leads[0])
	}
}

func TestCreateLeads_NonIntegerPriceIsRejected(t *testing.T) {
	f := newFake(t, amofake.Options{})
	for _, price := range []string{"45990.5", "45990.0", `"45990"`, "4.599e4"} {
		r := f.call("POST", "/api/v4/leads", `[{"name":"x","price":`+price+`,"request_id":"a"}]`)
		if errs := validationErrors(t, r); !hasEntry(errs["a"], "InvalidType price") {
			t.Errorf("price %s: %v", price, errs)
		}
	}
	if n := len(f.srv.Leads()); n != 0 {
		t.Errorf("%d leads created", n)
	}
}

// Each bad item is rejected with a path inside the item, keyed by its
// request_id, and the valid item of the same batch is not created.
func TestCreateLeads_InvalidItemRejectsTheWholeBatch(t *testing.T) {
	contact := int64(0)
	cases := []struct {
		name, item, want string
	}{
		{"unknown field id", `{"custom_fields_values":[{"field_id":1,"values":[{"value":"x"}]}]}`, "NotSupportedChoice custom_fields_values.0.field_id"},
		{"unknown field code", `{"custom_fields_values":[{"field_code":"NOPE","values":[{"value":"x"}]}]}`, "NotSupportedChoice custom_fields_values.0.field_code"},
		{"contact field on a lead", fmt.Sprintf(`{"custom_fields_values":[{"field_id":%d,"values":[{"value":"x"}]}]}`, amofake.ContactPhoneFieldID), "NotSupportedChoice custom_fields_values.0.field_id"},
		{"unknown pipeline", `{"pipeline_id":1,"status_id":142}`, "NotSupportedChoice pipeline_id"},
		{"unknown status", fmt.Sprintf(`{"pipeline_id":%d,"status_id":1}`, amofake.PipelineID), "NotSupportedChoice status_id"},
		{"status of another pipeline", fmt.Sprintf(`{"pipeline_id":%d,"status_id":%d}`, amofake.PipelineID, amofake.OtherStatusFirst), "NotSupportedChoice status_id"},
		{"won without pipeline", `{"status_id":142}`, "NotSupportedChoice status_id"},
		{"lost without pipeline", `{"status_id":143}`, "NotSupportedChoice status_id"},
		{"unknown user", `{"responsible_user_id":1}`, "NotSupportedChoice responsible_user_id"},
		{"unknown contact", `{"_embedded":{"contacts":[{"id":1,"is_main":true}]}}`, "NotSupportedChoice _embedded.contacts.0.id"},
		{"full contact model", `{"_embedded":{"contacts":[{"id":CONTACT,"phone":"+7701"}]}}`, "FieldNotExpected _embedded.contacts.0.phone"},
		{"unknown key", `{"order_code":"1"}`, "FieldNotExpected order_code"},
		{"null for an optional int", `{"pipeline_id":null}`, "InvalidType pipeline_id"},
		{"unknown enum", fmt.Sprintf(`{"custom_fields_values":[{"field_id":%d,"values":[{"value":"Ozon"}]}]}`, amofake.LeadSourceFieldID), "NotSupportedChoice custom_fields_values.0.values.0.value"},
		{"number in a text field", fmt.Sprintf(`{"custom_fields_values":[{"field_id":%d,"values":[{"value":512345678}]}]}`, amofake.LeadOrderCodeFieldID), "InvalidType custom_fields_values.0.values.0.value"},
		{"date-only string in a date field", fmt.Sprintf(`{"custom_fields_values":[{"field_id":%d,"values":[{"value":"2026-03-01"}]}]}`, amofake.LeadOrderDateFieldID), "InvalidType custom_fields_values.0.values.0.value"},
		{"name over 255 characters", `{"name":"` + strings.Repeat("я", 256) + `"}`, "InvalidLength name"},
		{"unknown loss reason", fmt.Sprintf(`{"pipeline_id":%d,"status_id":143,"loss_reason_id":1}`, amofake.PipelineID), "NotSupportedChoice loss_reason_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, amofake.Options{})
			contact = f.srv.AddContact("Айгерим", "+77011234567")
			bad := strings.Replace(tc.item, "CONTACT", fmt.Sprint(contact), 1)
			bad = strings.Replace(bad, "{", `{"request_id":"bad",`, 1)
			r := f.call("POST", "/api/v4/leads", "["+validLead("good")+","+bad+"]")
			errs := validationErrors(t, r)
			if !hasEntry(errs["bad"], tc.want) {
				t.Errorf("errors %v, want %q", errs, tc.want)
			}
			if _, blamed := errs["good"]; blamed {
				t.Errorf("the valid item was blamed: %v", errs)
			}
			if n := len(f.srv.Leads()); n != 0 {
				t.Errorf("%d leads created from a rejected batch", n)
			}
		})
	}
}

func TestCreateLeads_WonWithPipelineIsClosed(t *testing.T) {
	f := newFake(t, amofake.Options{})
	r := f.call("POST", "/api/v4/leads", fmt.Sprintf(`[{"name":"x","pipeline_id":%d,"status_id":142}]`, amofake.OtherPipelineID))
	id := idOf(t, r, "leads")
	l, _ := f.srv.Lead(id)
	if l.PipelineID != amofake.OtherPipelineID || l.StatusID != 142 || l.ClosedAt == 0 {
		t.Errorf("lead %+v", l)
	}
}

func TestCreateLeads_WithoutStatusLandsInTheFirstStageOfTheMainPipeline(t *testing.T) {
	f := newFake(t, amofake.Options{})
	id := idOf(t, f.call("POST", "/api/v4/leads", `[{"name":"x"}]`), "leads")
	l, _ := f.srv.Lead(id)
	if l.PipelineID != amofake.PipelineID || l.StatusID != amofake.StatusNewOrder {
		t.Errorf("lead %+v", l)
	}
}

func TestCreateLeads_RequestIDDefaultsToTheIndex(t *testing.T) {
	f := newFake(t, amofake.Options{})
	items := embedded(t, f.call("POST", "/api/v4/leads", `[{"name":"a"},{"name":"b"}]`), "leads")
	if items[0]["request_id"] != "0" || items[1]["request_id"] != "1" {
		t.Errorf("items %v", items)
	}
}

func TestCreateLeads_DatesTakeUnixSecondsOrRFC3339(t *testing.T) {
	f := newFake(t, amofake.Options{})
	body := fmt.Sprintf(`[{"custom_fields_values":[{"field_id":%d,"values":[{"value":1767225600}]},
		{"field_id":%d,"values":[{"value":"2026-01-01T05:00:00+05:00"}]}]}]`,
		amofake.LeadOrderDateFieldID, amofake.LeadOrderDateTimeFieldID)
	id := idOf(t, f.call("POST", "/api/v4/leads", body), "leads")
	l, _ := f.srv.Lead(id)
	if amofake.FieldText(l.Fields, amofake.LeadOrderDateFieldID) != "1767225600" ||
		amofake.FieldText(l.Fields, amofake.LeadOrderDateTimeFieldID) != "1767225600" {
		t.Errorf("fields %+v", l.Fields)
	}
}

func TestBatch_MoreThan50ItemsIsRejected(t *testing.T) {
	f := newFake(t, amofake.Options{})
	items := make([]string, 51)
	for i := range items {
		items[i] = fmt.Sprintf(`{"name":"n%d"}`, i)
	}
	mustStatus(t, f.call("POST", "/api/v4/leads", "["+strings.Join(items, ",")+"]"), http.StatusBadRequest)
	if n := len(f.srv.Leads()); n != 0 {
		t.Fatalf("%d leads created", n)
	}
	mustStatus(t, f.call("POST", "/api/v4/leads", "["+strings.Join(items[:50], ",")+"]"), http.StatusOK)
	mustStatus(t, f.call("POST", "/api/v4/leads", "[]"), http.StatusBadRequest)
}

func TestBatch_ArrayObjectMismatchIs405(t *testing.T) {
	f := newFake(t, amofake.Options{})
	mustStatus(t, f.call("POST", "/api/v4/leads", `{"name":"x"}`), http.StatusMethodNotAllowed)
	mustStatus(t, f.call("POST", "/api/v4/contacts", `{"name":"x"}`), http.StatusMethodNotAllowed)
	id := idOf(t, f.call("POST", "/api/v4/leads", `[{"name":"x"}]`), "leads")
	mustStatus(t, f.call("PATCH", fmt.Sprintf("/api/v4/leads/%d", id), `[{"name":"y"}]`), http.StatusMethodNotAllowed)
	mustStatus(t, f.call("PATCH", "/api/v4/leads", fmt.Sprintf(`{"id":%d}`, id)), http.StatusMethodNotAllowed)
}

func TestPatchLeads_MovesStatusAndRequiresPipelineForWonLost(t *testing.T) {
	f := newFake(t, amofake.Options{})
	id := idOf(t, f.call("POST", "/api/v4/leads", `[{"name":"x"}]`), "leads")

	r := f.call("PATCH", "/api/v4/leads", fmt.Sprintf(`[{"id":%d,"status_id":143,"request_id":"r"}]`, id))
	if errs := validationErrors(t, r); !hasEntry(errs["r"], "NotSupportedChoice status_id") {
		t.Fatalf("errors %v", errs)
	}
	r = f.call("PATCH", "/api/v4/leads", fmt.Sprintf(`[{"id":%d,"status_id":143,"pipeline_id":%d,"loss_reason_id":%d,"price":100}]`,
		id, amofake.PipelineID, amofake.LossReasonID))
	if items := embedded(t, r, "leads"); items[0]["updated_at"] == nil {
		t.Errorf("answer %s", r.body)
	}
	l, _ := f.srv.Lead(id)
	if l.StatusID != 143 || l.LossReasonID != amofake.LossReasonID || l.Price != 100 || l.ClosedAt == 0 {
		t.Errorf("lead %+v", l)
	}
}

func TestPatchLeads_DeletedLeadIsNotSupported(t *testing.T) {
	f := newFake(t, amofake.Options{})
	id := idOf(t, f.call("POST", "/api/v4/leads", `[{"name":"x"}]`), "leads")
	if err := f.srv.DeleteLead(id); err != nil {
		t.Fatal(err)
	}
	r := f.call("PATCH", "/api/v4/leads", fmt.Sprintf(`[{"id":%d,"price":1,"request_id":"r"}]`, id))
	if errs := validationErrors(t, r); len(errs["r"]) != 1 || !hasEntry(errs["r"], "NotSupportedChoice id") {
		t.Errorf("errors %v", errs)
	}
	mustStatus(t, f.call("GET", fmt.Sprintf("/api/v4/leads/%d", id), ""), http.StatusNoContent)
}

func TestGetLeads_FilterByIDLeavesOutDeletedLeads(t *testing.T) {
	f := newFake(t, amofake.Options{})
	c := f.srv.AddContact("Айгерим", "+77011234567")
	body := fmt.Sprintf(`[{"name":"a","_embedded":{"contacts":[{"id":%d,"is_main":true}]}},{"name":"b"},{"name":"c"}]`, c)
	items := embedded(t, f.call("POST", "/api/v4/leads", body), "leads")
	a, b := int64(items[0]["id"].(float64)), int64(items[1]["id"].(float64))
	if err := f.srv.DeleteLead(b); err != nil {
		t.Fatal(err)
	}
	got := embedded(t, f.call("GET", fmt.Sprintf("/api/v4/leads?filter[id][]=%d&filter[id][]=%d&with=contacts", a, b), ""), "leads")
	if len(got) != 1 || int64(got[0]["id"].(float64)) != a {
		t.Fatalf("got %v", got)
	}
	contacts := got[0]["_embedded"].(map[string]any)["contacts"].([]any)
	if len(contacts) != 1 || contacts[0].(map[string]any)["is_main"] != true {
		t.Errorf("contacts %v", contacts)
	}
}

func TestSearchLeads_QueryMatchesTheOrderCodeField(t *testing.T) {
	f := newFake(t, amofake.Options{})
	f.call("POST", "/api/v4/leads", "["+validLead("512345678")+","+validLead("600000001")+"]")
	got := embedded(t, f.call("GET", "/api/v4/leads?query=512345678", ""), "leads")
	if len(got) != 1 {
		t.Errorf("got %d leads", len(got))
	}
	mustStatus(t, f.call("GET", "/api/v4/leads?query=999999", ""), http.StatusNoContent)
}

func TestManager_MoveLeadChangesStatusSeenByTheAPI(t *testing.T) {
	f := newFake(t, amofake.Options{})
	id := idOf(t, f.call("POST", "/api/v4/leads", `[{"name":"x"}]`), "leads")
	if err := f.srv.MoveLead(id, amofake.PipelineID, amofake.StatusConfirmed); err != nil {
		t.Fatal(err)
	}
	got := f.call("GET", fmt.Sprintf("/api/v4/leads/%d", id), "").json(t)
	if got["status_id"].(float64) != float64(amofake.StatusConfirmed) {
		t.Errorf("status %v", got["status_id"])
	}
	if err := f.srv.MoveLead(id, amofake.PipelineID, amofake.OtherStatusFirst); err == nil {
		t.Error("moved into a status of another pipeline")
	}
}

// The incoming stage ("Неразобранное", type 1) takes no lead through
// POST or PATCH /leads: 400 NotSupportedChoice on status_id, in any pipeline.
func TestLeads_IncomingStageIsRefusedOnCreateAndPatch(t *testing.T) {
	f := newFake(t, amofake.Options{})
	for _, st := range []struct{ pipeline, status int64 }{
		{amofake.PipelineID, amofake.StatusUnsorted}, {amofake.OtherPipelineID, amofake.OtherStatusUnsorted},
	} {
		r := f.call("POST", "/api/v4/leads", fmt.Sprintf(`[{"name":"x","pipeline_id":%d,"status_id":%d,"request_id":"a"}]`, st.pipeline, st.status))
		if errs := validationErrors(t, r); !hasEntry(errs["a"], "NotSupportedChoice status_id") {
			t.Errorf("create into %d: %v", st.status, errs)
		}
		r = f.call("POST", "/api/v4/leads", fmt.Sprintf(`[{"name":"x","status_id":%d,"request_id":"b"}]`, st.status))
		if errs := validationErrors(t, r); !hasEntry(errs["b"], "NotSupportedChoice status_id") {
			t.Errorf("create into %d without pipeline: %v", st.status, errs)
		}
	}
	if n := len(f.srv.Leads()); n != 0 {
		t.Fatalf("%d leads created in the incoming stage", n)
	}
	id := idOf(t, f.call("POST", "/api/v4/leads", `[{"name":"x"}]`), "leads")
	r := f.call("PATCH", "/api/v4/leads", fmt.Sprintf(`[{"id":%d,"pipeline_id":%d,"status_id":%d,"request_id":"r"}]`,
		id, amofake.PipelineID, amofake.StatusUnsorted))
	if errs := validationErrors(t, r); !hasEntry(errs["r"], "NotSupportedChoice status_id") {
		t.Fatalf("patch: %v", errs)
	}
	if l, _ := f.srv.Lead(id); l.StatusID == amofake.StatusUnsorted {
		t.Fatal("the lead was moved into the incoming stage")
	}
}
