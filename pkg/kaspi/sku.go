package kaspi

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"

	"kaspi-amocrm/pkg/domain"
)

// A line may come without offer (the merchant's own code). fillSKUs looks
// for that code elsewhere: in the order's /entries (when the line came
// from the listing's included entries), then in the master product's
// merchantProduct, which is often empty. The master product's own code is
// Kaspi's product code and is never used as the SKU. A line that stays
// without SKU is left so; the sync names it in the order note.
func (c *Client) fillSKUs(ctx context.Context, o *domain.Order, fromListing bool) error {
	missing := func() bool {
		for _, l := range o.Lines {
			if l.SKU == "" {
				return true
			}
		}
		return false
	}
	if !missing() {
		return nil
	}
	if fromListing {
		if o.ID == "" {
			return nil
		}
		lines, err := c.Entries(ctx, o.ID)
		if err != nil {
			return err
		}
		byEntry := map[string]domain.Line{}
		for _, l := range lines {
			byEntry[lineKey(l)] = l
		}
		for i, l := range o.Lines {
			if e, ok := byEntry[lineKey(l)]; ok && l.SKU == "" && e.SKU != "" {
				o.Lines[i].SKU = e.SKU
				if o.Lines[i].Name == "" {
					o.Lines[i].Name = e.Name
				}
			}
		}
		return nil
	}
	for i, l := range o.Lines {
		if l.SKU != "" || l.ProductID == "" {
			continue
		}
		code, err := c.merchantCode(ctx, l.ProductID)
		if err != nil {
			return err
		}
		o.Lines[i].SKU = code
	}
	return nil
}

func lineKey(l domain.Line) string {
	if l.EntryID != "" {
		return "id:" + l.EntryID
	}
	return "n:" + strconv.Itoa(l.EntryNumber)
}

// merchantCode reads GET /masterproducts/{id}/merchantProduct: the
// merchant's code, "" when the relationship is empty.
func (c *Client) merchantCode(ctx context.Context, productID string) (string, error) {
	const op = "GET /masterproducts/{id}/merchantProduct"
	body, err := c.get(ctx, op, "/masterproducts/"+url.PathEscape(productID)+"/merchantProduct", "")
	if errors.Is(err, domain.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var doc struct {
		Data *struct {
			Attributes struct {
				Code str `json:"code"`
			} `json:"attributes"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &doc) != nil || doc.Data == nil {
		return "", nil
	}
	return string(doc.Data.Attributes.Code), nil
}
