package amocrm

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

type leadIn struct {
	ID                 int64          `json:"id"`
	Name               string         `json:"name"`
	Price              number         `json:"price"`
	PipelineID         int64          `json:"pipeline_id"`
	StatusID           int64          `json:"status_id"`
	ResponsibleUserID  int64          `json:"responsible_user_id"`
	IsDeleted          bool           `json:"is_deleted"`
	CreatedAt          int64          `json:"created_at"`
	UpdatedAt          int64          `json:"updated_at"`
	CustomFieldsValues []fieldValueIn `json:"custom_fields_values"`
	Embedded           struct {
		LossReason []struct {
			Name string `json:"name"`
		} `json:"loss_reason"`
		Tags []struct {
			Name string `json:"name"`
		} `json:"tags"`
		Contacts []struct {
			ID     int64 `json:"id"`
			IsMain bool  `json:"is_main"`
		} `json:"contacts"`
	} `json:"_embedded"`
}

func (in leadIn) domain() domain.Lead {
	l := domain.Lead{ID: in.ID, Name: in.Name, Price: int64(math.Round(float64(in.Price))),
		PipelineID: in.PipelineID, StatusID: in.StatusID, ResponsibleUserID: in.ResponsibleUserID,
		IsDeleted: in.IsDeleted, CreatedAt: in.CreatedAt, UpdatedAt: in.UpdatedAt, Fields: fieldsIn(in.CustomFieldsValues)}
	if len(in.Embedded.LossReason) > 0 {
		l.LossReason = in.Embedded.LossReason[0].Name
	}
	for _, t := range in.Embedded.Tags {
		l.Tags = append(l.Tags, t.Name)
	}
	for _, ct := range in.Embedded.Contacts {
		if ct.IsMain || l.ContactID == 0 {
			l.ContactID = ct.ID
		}
		if ct.IsMain {
			break
		}
	}
	return l
}

type leadsEmbedded struct {
	Leads []leadIn `json:"leads"`
}

type tagOut struct {
	Name string `json:"name"`
}

type contactRef struct {
	ID     int64 `json:"id"`
	IsMain bool  `json:"is_main"`
}

type leadEmbeddedOut struct {
	Tags     []tagOut     `json:"tags,omitempty"`
	Contacts []contactRef `json:"contacts,omitempty"`
}

type leadOut struct {
	Name               string           `json:"name,omitempty"`
	Price              int64            `json:"price"`
	PipelineID         int64            `json:"pipeline_id,omitempty"`
	StatusID           int64            `json:"status_id,omitempty"`
	ResponsibleUserID  int64            `json:"responsible_user_id,omitempty"`
	CustomFieldsValues []fieldValueOut  `json:"custom_fields_values,omitempty"`
	Embedded           *leadEmbeddedOut `json:"_embedded,omitempty"`
	RequestID          string           `json:"request_id"`
}

type leadUpdateOut struct {
	ID         int64  `json:"id"`
	PipelineID int64  `json:"pipeline_id,omitempty"`
	StatusID   int64  `json:"status_id,omitempty"`
	Price      *int64 `json:"price,omitempty"`
	// Fields: a cleared field goes as values: null.
	Fields    []fieldValueOut `json:"custom_fields_values,omitempty"`
	RequestID string          `json:"request_id"`
}

// SearchLeads runs GET /api/v4/leads?query= (one full page, with contacts).
func (c *Client) SearchLeads(ctx context.Context, query string) ([]domain.Lead, error) {
	if strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("amocrm: search leads: empty query: %w", domain.ErrBadRequest)
	}
	q := url.Values{"query": {query}, "limit": {strconv.Itoa(pageLimit)}, "with": {"contacts"}}
	emb, _, err := getOne[leadsEmbedded](ctx, c, "search leads", "/api/v4/leads", q)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Lead, 0, len(emb.Leads))
	for _, in := range emb.Leads {
		out = append(out, in.domain())
	}
	return out, nil
}

// LeadsCreatedPage implements domain.CRM: GET /api/v4/leads with
// filter[created_at][from|to] or order[created_at]=desc, limit=250.
func (c *Client) LeadsCreatedPage(ctx context.Context, fromSec, toSec int64, filter bool, pageNo int) ([]domain.Lead, bool, error) {
	pageNo = max(pageNo, 1)
	q := url.Values{"limit": {strconv.Itoa(pageLimit)}, "page": {strconv.Itoa(pageNo)}}
	if filter {
		q.Set("filter[created_at][from]", itoa(fromSec))
		q.Set("filter[created_at][to]", itoa(toSec))
	} else {
		q.Set("order[created_at]", "desc")
	}
	var pg page[leadsEmbedded]
	st, err := c.do(ctx, call{op: "list leads", method: http.MethodGet, path: "/api/v4/leads", query: q, out: &pg})
	if err != nil || st == http.StatusNoContent {
		return nil, false, err
	}
	out := make([]domain.Lead, 0, len(pg.Embedded.Leads))
	for _, in := range pg.Embedded.Leads {
		out = append(out, in.domain())
	}
	return out, pg.Links.Next != nil, nil
}

// LeadsInStagesPage implements domain.CRM: GET /api/v4/leads with
// filter[statuses][i][pipeline_id|status_id], filter[updated_at][from] and
// order[updated_at]=asc, or only order[updated_at]=desc; with=loss_reason,
// limit=250.
func (c *Client) LeadsInStagesPage(ctx context.Context, stages []domain.StageRef, fromSec int64, filter bool, pageNo int) ([]domain.Lead, bool, error) {
	pageNo = max(pageNo, 1)
	q := url.Values{"limit": {strconv.Itoa(pageLimit)}, "page": {strconv.Itoa(pageNo)}, "with": {"loss_reason"}}
	if filter {
		for i, st := range stages {
			k := "filter[statuses][" + strconv.Itoa(i) + "]"
			q.Set(k+"[pipeline_id]", itoa(st.PipelineID))
			q.Set(k+"[status_id]", itoa(st.StatusID))
		}
		q.Set("filter[updated_at][from]", itoa(fromSec))
		q.Set("order[updated_at]", "asc")
	} else {
		q.Set("order[updated_at]", "desc")
	}
	var pg page[leadsEmbedded]
	st, err := c.do(ctx, call{op: "list leads by stage", method: http.MethodGet, path: "/api/v4/leads", query: q, out: &pg})
	if err != nil || st == http.StatusNoContent {
		return nil, false, err
	}
	out := make([]domain.Lead, 0, len(pg.Embedded.Leads))
	for _, in := range pg.Embedded.Leads {
		if !in.IsDeleted {
			out = append(out, in.domain())
		}
	}
	return out, pg.Links.Next != nil, nil
}

// GetLeads reads leads by id (filter[id][], MaxBatch ids per request,
// every page). Deleted and unknown ids are absent from the result.
func (c *Client) GetLeads(ctx context.Context, ids []int64) ([]domain.Lead, error) {
	var uniq []int64
	seen := map[int64]bool{}
	for _, id := range ids {
		if id > 0 && !seen[id] {
			seen[id] = true
			uniq = append(uniq, id)
		}
	}
	var out []domain.Lead
	for start := 0; start < len(uniq); start += domain.MaxBatch {
		chunk := uniq[start:min(start+domain.MaxBatch, len(uniq))]
		q := url.Values{"with": {"contacts"}}
		for _, id := range chunk {
			q.Add("filter[id][]", itoa(id))
		}
		err := getPages(ctx, c, "get leads", "/api/v4/leads", q, func(emb leadsEmbedded) error {
			for _, in := range emb.Leads {
				if seen[in.ID] && !in.IsDeleted {
					out = append(out, in.domain())
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// CreateLeads creates leads (POST /api/v4/leads) and returns them with ID
// set. Unset ids are left out of the request, never sent as null; the main
// contact goes into _embedded.contacts.
func (c *Client) CreateLeads(ctx context.Context, leads []domain.Lead) ([]domain.Lead, error) {
	const op = "create leads"
	if err := checkBatch(op, len(leads)); err != nil || len(leads) == 0 {
		return nil, err
	}
	ids, err := requestIDs(len(leads), func(i int) string { return leads[i].RequestID })
	if err != nil {
		return nil, fmt.Errorf("amocrm: %s: %w", op, err)
	}
	body := make([]leadOut, len(leads))
	for i, l := range leads {
		if (l.StatusID == domain.StatusWon || l.StatusID == domain.StatusLost) && l.PipelineID == 0 {
			return nil, fmt.Errorf("amocrm: %s: status %d needs a pipeline_id: %w", op, l.StatusID, domain.ErrBadRequest)
		}
		fields, err := fieldsOut(l.Fields)
		if err != nil {
			return nil, fmt.Errorf("amocrm: %s: %w", op, err)
		}
		out := leadOut{Name: l.Name, Price: l.Price, PipelineID: l.PipelineID, StatusID: l.StatusID,
			ResponsibleUserID: l.ResponsibleUserID, CustomFieldsValues: fields, RequestID: ids[i]}
		emb := &leadEmbeddedOut{}
		for _, t := range l.Tags {
			if t != "" {
				emb.Tags = append(emb.Tags, tagOut{Name: t})
			}
		}
		if l.ContactID > 0 {
			emb.Contacts = []contactRef{{ID: l.ContactID, IsMain: true}}
		}
		if len(emb.Tags) > 0 || len(emb.Contacts) > 0 {
			out.Embedded = emb
		}
		body[i] = out
	}
	var res page[struct {
		Leads []created `json:"leads"`
	}]
	if _, err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/api/v4/leads",
		body: body, ids: ids, out: &res}); err != nil {
		return nil, err
	}
	got, err := matchCreated(res.Embedded.Leads, ids)
	if err != nil {
		return nil, fmt.Errorf("amocrm: %s: %w", op, err)
	}
	out := make([]domain.Lead, len(leads))
	for i, l := range leads {
		l.RequestID, l.ID = ids[i], got[ids[i]]
		out[i] = l
	}
	return out, nil
}

// UpdateLeads applies status and price changes in one PATCH /api/v4/leads.
// A status is always sent with its pipeline_id. Validation errors are keyed
// by the lead id.
func (c *Client) UpdateLeads(ctx context.Context, updates []domain.LeadUpdate) error {
	const op = "update leads"
	if err := checkBatch(op, len(updates)); err != nil {
		return err
	}
	var body []leadUpdateOut
	var ids []string
	for _, u := range updates {
		if u.ID <= 0 {
			return fmt.Errorf("amocrm: %s: lead id %d: %w", op, u.ID, domain.ErrBadRequest)
		}
		if u.StatusID != 0 && u.PipelineID == 0 {
			return fmt.Errorf("amocrm: %s: lead %d: status without pipeline_id: %w", op, u.ID, domain.ErrBadRequest)
		}
		if u.StatusID == 0 && u.PipelineID == 0 && u.Price == nil && len(u.Fields) == 0 {
			continue // nothing to change
		}
		var fields []fieldValueOut
		for _, f := range u.Fields {
			if f.FieldID <= 0 {
				return fmt.Errorf("amocrm: %s: lead %d: field without id: %w", op, u.ID, domain.ErrBadRequest)
			}
			fv := fieldValueOut{FieldID: f.FieldID}
			for _, it := range f.Values {
				if it.Value != nil {
					fv.Values = append(fv.Values, fieldItemOut{Value: it.Value, EnumCode: it.EnumCode})
				}
			}
			fields = append(fields, fv) // no values: null, the field is cleared
		}
		id := itoa(u.ID)
		body = append(body, leadUpdateOut{ID: u.ID, PipelineID: u.PipelineID, StatusID: u.StatusID,
			Price: u.Price, Fields: fields, RequestID: id})
		ids = append(ids, id)
	}
	if len(body) == 0 {
		return nil
	}
	_, err := c.do(ctx, call{op: op, method: http.MethodPatch, path: "/api/v4/leads", body: body, ids: ids})
	return err
}
