package amocrm_test

import (
	"net/url"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

// The leads of action stages: the pair form of filter[statuses],
// filter[updated_at][from], order[updated_at]; honoured in the filters
// alpha, ignored (everything, to post-filter) outside it.
func TestLeadsInStagesPage(t *testing.T) {
	h := newHarnessWith(t, "sqlite", amofake.Options{RPS: -1, Filters: true})
	c, _ := h.authorized()
	ctx := ctxT(t)
	in := h.fake.AddLead(amofake.Lead{Name: "in stage", PipelineID: amofake.PipelineID, StatusID: amofake.StatusConfirmed})
	h.fake.AddLead(amofake.Lead{Name: "elsewhere", PipelineID: amofake.PipelineID, StatusID: amofake.StatusNewOrder})
	if err := h.fake.SetLossReason(in, amofake.LossReasonID); err != nil {
		t.Fatal(err)
	}
	// Two pipelines in one listing, as with several Kaspi stores.
	other := h.fake.AddLead(amofake.Lead{Name: "second pipeline", PipelineID: amofake.OtherPipelineID, StatusID: amofake.OtherStatusFirst})
	stages := []domain.StageRef{{PipelineID: amofake.PipelineID, StatusID: amofake.StatusConfirmed},
		{PipelineID: amofake.PipelineID, StatusID: domain.StatusLost}, {PipelineID: amofake.OtherPipelineID, StatusID: amofake.OtherStatusFirst}}
	got, more, err := c.LeadsInStagesPage(ctx, stages, 0, true, 1)
	if err != nil || more || len(got) != 2 || got[0].ID != in || got[0].LossReason != "Отменён покупателем" || got[0].UpdatedAt == 0 || got[1].ID != other {
		t.Fatalf("filtered: %+v more=%v err=%v", got, more, err)
	}
	var q url.Values
	for _, r := range h.fake.Requests() {
		if r.Path == "/api/v4/leads" {
			q, _ = url.ParseQuery(r.Query)
		}
	}
	want := map[string]string{
		"filter[statuses][0][pipeline_id]": itoa(amofake.PipelineID), "filter[statuses][0][status_id]": itoa(amofake.StatusConfirmed),
		"filter[statuses][1][pipeline_id]": itoa(amofake.PipelineID), "filter[statuses][1][status_id]": "143",
		"filter[statuses][2][pipeline_id]": itoa(amofake.OtherPipelineID), "filter[statuses][2][status_id]": itoa(amofake.OtherStatusFirst),
		"filter[updated_at][from]": "0", "order[updated_at]": "asc", "with": "loss_reason", "limit": "250", "page": "1",
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("%s = %q, want %q (query %s)", k, q.Get(k), v, q.Encode())
		}
	}
	// Outside the alpha the filters are silently ignored.
	h.fake.SetFilters(false)
	got, _, err = c.LeadsInStagesPage(ctx, stages, 0, true, 1)
	if err != nil || len(got) != 3 {
		t.Fatalf("ignored filters: %d leads, %v", len(got), err)
	}
	// The fallback: latest change first.
	got, _, err = c.LeadsInStagesPage(ctx, stages, 0, false, 1)
	if err != nil || len(got) != 3 || got[0].UpdatedAt < got[1].UpdatedAt {
		t.Fatalf("fallback: %+v %v", got, err)
	}
	for _, r := range h.fake.Requests() {
		if r.Path == "/api/v4/leads" && strings.Contains(r.Query, "order%5Bupdated_at%5D=desc") && strings.Contains(r.Query, "filter") {
			t.Fatalf("the fallback sends filters: %s", r.Query)
		}
	}
}

// A field of a lead is written, and cleared with values: null.
func TestUpdateLeads_FieldsWrittenAndCleared(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)
	field := h.fake.AddField("leads", "Код покупателя", "", "text")
	id := h.fake.AddLead(amofake.Lead{Name: "deal", PipelineID: amofake.PipelineID, StatusID: amofake.StatusNewOrder})
	set := domain.LeadUpdate{ID: id, Fields: []domain.FieldValue{{FieldID: field, Values: []domain.FieldItem{{Value: "1234"}}}}}
	if err := c.UpdateLeads(ctx, []domain.LeadUpdate{set}); err != nil {
		t.Fatal(err)
	}
	if l, _ := h.fake.Lead(id); amofake.FieldText(l.Fields, field) != "1234" {
		t.Fatalf("not written: %+v", l.Fields)
	}
	if err := c.UpdateLeads(ctx, []domain.LeadUpdate{{ID: id, Fields: []domain.FieldValue{{FieldID: field}}}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.lastBody("/api/v4/leads"), `"values":null`) {
		t.Fatalf("clear sent as %s", h.lastBody("/api/v4/leads"))
	}
	if l, _ := h.fake.Lead(id); amofake.FieldText(l.Fields, field) != "" {
		t.Fatalf("not cleared: %+v", l.Fields)
	}
}
