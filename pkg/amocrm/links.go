package amocrm

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"kaspi-amocrm/pkg/domain"
)

type linkMetadata struct {
	CatalogID int64   `json:"catalog_id"`
	Quantity  float64 `json:"quantity"`
}

type linkOut struct {
	EntityID     int64        `json:"entity_id"`
	EntityType   string       `json:"entity_type"`
	ToEntityID   int64        `json:"to_entity_id"`
	ToEntityType string       `json:"to_entity_type"`
	Metadata     linkMetadata `json:"metadata"`
}

type linkIn struct {
	EntityID     int64  `json:"entity_id"`
	ToEntityID   int64  `json:"to_entity_id"`
	ToEntityType string `json:"to_entity_type"`
	Metadata     *struct {
		CatalogID int64  `json:"catalog_id"`
		Quantity  number `json:"quantity"`
	} `json:"metadata"`
}

// LinkElements links catalog elements to leads in one POST
// /api/v4/leads/link (metadata: catalog_id, quantity). Validation errors
// are keyed by the lead id.
func (c *Client) LinkElements(ctx context.Context, links []domain.Link) error {
	const op = "link elements"
	if err := checkBatch(op, len(links)); err != nil || len(links) == 0 {
		return err
	}
	body := make([]linkOut, len(links))
	ids := make([]string, len(links))
	for i, l := range links {
		if l.LeadID <= 0 || l.ElementID <= 0 || l.CatalogID <= 0 || l.Quantity <= 0 {
			return fmt.Errorf("amocrm: %s: incomplete link %+v: %w", op, l, domain.ErrBadRequest)
		}
		body[i] = linkOut{EntityID: l.LeadID, EntityType: "leads", ToEntityID: l.ElementID,
			ToEntityType: "catalog_elements", Metadata: linkMetadata{CatalogID: l.CatalogID, Quantity: l.Quantity}}
		ids[i] = itoa(l.LeadID)
	}
	_, err := c.do(ctx, call{op: op, method: http.MethodPost, path: "/api/v4/leads/link", body: body, ids: ids})
	return err
}

// LeadLinks lists the catalog elements linked to a lead (every page).
func (c *Client) LeadLinks(ctx context.Context, leadID int64) ([]domain.Link, error) {
	if leadID <= 0 {
		return nil, fmt.Errorf("amocrm: lead links: lead id %d: %w", leadID, domain.ErrBadRequest)
	}
	q := url.Values{"filter[to_entity_type]": {"catalog_elements"}}
	var out []domain.Link
	err := getPages(ctx, c, "lead links", "/api/v4/leads/"+itoa(leadID)+"/links", q, func(emb struct {
		Links []linkIn `json:"links"`
	}) error {
		for _, l := range emb.Links {
			if l.ToEntityType != "catalog_elements" {
				continue
			}
			link := domain.Link{LeadID: leadID, ElementID: l.ToEntityID}
			if l.Metadata != nil {
				link.CatalogID, link.Quantity = l.Metadata.CatalogID, float64(l.Metadata.Quantity)
			}
			out = append(out, link)
		}
		return nil
	})
	return out, err
}
