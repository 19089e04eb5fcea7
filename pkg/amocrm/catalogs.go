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

// Catalog is an amoCRM list (GET /api/v4/catalogs).
type Catalog struct {
	ID   int64
	Name string
	Type string // regular, invoices, products
}

type elementIn struct {
	ID                 int64          `json:"id"`
	Name               string         `json:"name"`
	CatalogID          int64          `json:"catalog_id"`
	CustomFieldsValues []fieldValueIn `json:"custom_fields_values"`
}

func (in elementIn) domain(catalogID int64) domain.Element {
	e := domain.Element{ID: in.ID, CatalogID: in.CatalogID, Name: in.Name}
	if e.CatalogID == 0 {
		e.CatalogID = catalogID
	}
	if v, ok := firstValue(in.CustomFieldsValues, "SKU"); ok {
		e.SKU = valueString(v)
	}
	if v, ok := firstValue(in.CustomFieldsValues, "PRICE"); ok {
		e.Price, _ = strconv.ParseFloat(strings.TrimSpace(valueString(v)), 64)
	}
	return e
}

type elementOut struct {
	Name               string          `json:"name"`
	CustomFieldsValues []fieldValueOut `json:"custom_fields_values,omitempty"`
	RequestID          string          `json:"request_id"`
}

func elementsPath(catalogID int64) string {
	return "/api/v4/catalogs/" + itoa(catalogID) + "/elements"
}

// SearchElements runs GET /api/v4/catalogs/{id}/elements?query= (one full
// page). The search is fuzzy: callers compare SKU exactly.
func (c *Client) SearchElements(ctx context.Context, catalogID int64, query string) ([]domain.Element, error) {
	if catalogID <= 0 || strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("amocrm: search elements: catalog %d, query %q: %w", catalogID, query, domain.ErrBadRequest)
	}
	q := url.Values{"query": {query}, "limit": {strconv.Itoa(pageLimit)}}
	emb, _, err := getOne[struct {
		Elements []elementIn `json:"elements"`
	}](ctx, c, "search elements", elementsPath(catalogID), q)
	if err != nil {
		return nil, err
	}
	out := make([]domain.Element, 0, len(emb.Elements))
	for _, in := range emb.Elements {
		out = append(out, in.domain(catalogID))
	}
	return out, nil
}

// CreateElements creates catalog elements with their SKU and PRICE (by
// field code) and returns them with ID set, matched by RequestID.
func (c *Client) CreateElements(ctx context.Context, catalogID int64, elements []domain.Element) ([]domain.Element, error) {
	const op = "create elements"
	if err := checkBatch(op, len(elements)); err != nil || len(elements) == 0 {
		return nil, err
	}
	if catalogID <= 0 {
		return nil, fmt.Errorf("amocrm: %s: catalog id %d: %w", op, catalogID, domain.ErrBadRequest)
	}
	ids, err := requestIDs(len(elements), func(i int) string { return elements[i].RequestID })
	if err != nil {
		return nil, fmt.Errorf("amocrm: %s: %w", op, err)
	}
	body := make([]elementOut, len(elements))
	for i, e := range elements {
		name := strings.TrimSpace(e.Name)
		if name == "" {
			name = e.SKU
		}
		if name == "" {
			return nil, fmt.Errorf("amocrm: %s: element %q has neither name nor SKU: %w", op, ids[i], domain.ErrBadRequest)
		}
		out := elementOut{Name: name, RequestID: ids[i]}
		if e.SKU != "" {
			out.CustomFieldsValues = append(out.CustomFieldsValues,
				fieldValueOut{FieldCode: "SKU", Values: []fieldItemOut{{Value: e.SKU}}})
		}
		if e.Price > 0 {
			out.CustomFieldsValues = append(out.CustomFieldsValues,
				fieldValueOut{FieldCode: "PRICE", Values: []fieldItemOut{{Value: e.Price}}})
		}
		body[i] = out
	}
	var res page[struct {
		Elements []created `json:"elements"`
	}]
	if _, err := c.do(ctx, call{op: op, method: http.MethodPost, path: elementsPath(catalogID),
		body: body, ids: ids, out: &res}); err != nil {
		return nil, err
	}
	got, err := matchCreated(res.Embedded.Elements, ids)
	if err != nil {
		return nil, fmt.Errorf("amocrm: %s: %w", op, err)
	}
	out := make([]domain.Element, len(elements))
	for i, e := range elements {
		e.RequestID, e.ID, e.CatalogID = ids[i], got[ids[i]], catalogID
		out[i] = e
	}
	return out, nil
}

// Catalogs lists the account's lists (every page).
func (c *Client) Catalogs(ctx context.Context) ([]Catalog, error) {
	var out []Catalog
	err := getPages(ctx, c, "catalogs", "/api/v4/catalogs", nil, func(emb struct {
		Catalogs []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
			Type string `json:"type"`
		} `json:"catalogs"`
	}) error {
		for _, ct := range emb.Catalogs {
			out = append(out, Catalog{ID: ct.ID, Name: ct.Name, Type: ct.Type})
		}
		return nil
	})
	return out, err
}
