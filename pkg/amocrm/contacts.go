package amocrm

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

type contactIn struct {
	ID                 int64          `json:"id"`
	Name               string         `json:"name"`
	FirstName          string         `json:"first_name"`
	LastName           string         `json:"last_name"`
	CustomFieldsValues []fieldValueIn `json:"custom_fields_values"`
}

type contactOut struct {
	Name               string          `json:"name,omitempty"`
	FirstName          string          `json:"first_name,omitempty"`
	LastName           string          `json:"last_name,omitempty"`
	CustomFieldsValues []fieldValueOut `json:"custom_fields_values,omitempty"`
	RequestID          string          `json:"request_id"`
}

func (in contactIn) domain() domain.Contact {
	ct := domain.Contact{ID: in.ID, Name: in.Name, FirstName: in.FirstName, LastName: in.LastName,
		Fields: fieldsIn(in.CustomFieldsValues)}
	for _, f := range in.CustomFieldsValues {
		if strings.EqualFold(f.FieldCode, "PHONE") {
			for _, v := range f.Values {
				if s := valueString(v.Value); s != "" {
					ct.Phones = append(ct.Phones, s)
				}
			}
		}
	}
	return ct
}

// SearchContacts runs GET /api/v4/contacts?query= and returns one full page
// (250): the query matches any field, so the caller compares phones itself.
func (c *Client) SearchContacts(ctx context.Context, query string) ([]domain.Contact, error) {
	if strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("amocrm: search contacts: empty query: %w", domain.ErrBadRequest)
	}
	q := url.Values{"query": {query}, "limit": {strconv.Itoa(pageLimit)}}
	emb, _, err := getOne[struct {
		Contacts []contactIn `json:"contacts"`
	}](ctx, c, "search contacts", "/api/v4/contacts", q)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Contact, 0, len(emb.Contacts))
	for _, in := range emb.Contacts {
		out = append(out, in.domain())
	}
	return out, nil
}

// CreateContacts creates contacts (first/last name or name, the phones as
// PHONE/MOB, plus any extra fields) and returns them with ID set.
func (c *Client) CreateContacts(ctx context.Context, contacts []domain.Contact) ([]domain.Contact, error) {
	const op = "create contacts"
	if err := checkBatch(op, len(contacts)); err != nil || len(contacts) == 0 {
		return nil, err
	}
	ids, err := requestIDs(len(contacts), func(i int) string { return contacts[i].RequestID })
	if err != nil {
		return nil, fmt.Errorf("amocrm: %s: %w", op, err)
	}
	body := make([]contactOut, len(contacts))
	for i, ct := range contacts {
		fields, err := fieldsOut(ct.Fields)
		if err != nil {
			return nil, fmt.Errorf("amocrm: %s: %w", op, err)
		}
		if len(ct.Phones) > 0 {
			phone := fieldValueOut{FieldCode: "PHONE"}
			for _, p := range ct.Phones {
				phone.Values = append(phone.Values, fieldItemOut{Value: p, EnumCode: "MOB"})
			}
			fields = append([]fieldValueOut{phone}, fields...)
		}
		body[i] = contactOut{Name: ct.Name, FirstName: ct.FirstName, LastName: ct.LastName,
			CustomFieldsValues: fields, RequestID: ids[i]}
	}
	var res page[struct {
		Contacts []created `json:"contacts"`
	}]
	if _, err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/api/v4/contacts",
		body: body, ids: ids, out: &res}); err != nil {
		return nil, err
	}
	got, err := matchCreated(res.Embedded.Contacts, ids)
	if err != nil {
		return nil, fmt.Errorf("amocrm: %s: %w", op, err)
	}
	out := make([]domain.Contact, len(contacts))
	for i, ct := range contacts {
		ct.RequestID, ct.ID = ids[i], got[ids[i]]
		out[i] = ct
	}
	return out, nil
}
