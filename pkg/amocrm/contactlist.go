package amocrm

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"kaspi-amocrm/pkg/domain"
)

// listedIn is a contact of the listing: only what the phone index keeps.
type listedIn struct {
	ID                 int64          `json:"id"`
	UpdatedAt          int64          `json:"updated_at"`
	CustomFieldsValues []fieldValueIn `json:"custom_fields_values"`
}

// ListContacts reads one page (250) of GET /api/v4/contacts for the phone
// index: by id ascending, or by updated_at descending, optionally with
// filter[updated_at][from]. amoCRM ignores a filter an account is not
// allowed (the filters API is alpha), so the caller checks updated_at.
func (c *Client) ListContacts(ctx context.Context, q domain.ContactQuery) (domain.ContactPage, error) {
	const op = "list contacts"
	if q.Page < 1 {
		return domain.ContactPage{}, fmt.Errorf("amocrm: %s: page %d: %w", op, q.Page, domain.ErrBadRequest)
	}
	v := url.Values{"limit": {strconv.Itoa(pageLimit)}, "page": {strconv.Itoa(q.Page)}}
	if q.OrderByUpdated {
		v.Set("order[updated_at]", "desc")
	} else {
		v.Set("order[id]", "asc")
	}
	if q.UpdatedFrom > 0 {
		v.Set("filter[updated_at][from]", strconv.FormatInt(q.UpdatedFrom, 10))
	}
	var pg page[struct {
		Contacts []listedIn `json:"contacts"`
	}]
	st, err := c.do(ctx, call{op: op, method: http.MethodGet, path: "/api/v4/contacts", query: v, out: &pg})
	if err != nil || st == http.StatusNoContent {
		return domain.ContactPage{}, err
	}
	out := domain.ContactPage{More: pg.Links.Next != nil, Contacts: make([]domain.ListedContact, 0, len(pg.Embedded.Contacts))}
	for _, in := range pg.Embedded.Contacts {
		ct := contactIn{ID: in.ID, CustomFieldsValues: in.CustomFieldsValues}.domain()
		out.Contacts = append(out.Contacts, domain.ListedContact{ID: in.ID, UpdatedAt: in.UpdatedAt, Phones: ct.Phones})
	}
	return out, nil
}
