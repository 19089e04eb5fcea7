package kaspi

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// MaxWindow is the widest creationDate range Kaspi accepts in one request
// ($le − $ge must not exceed 14 days).
const MaxWindow = 14 * 24 * time.Hour

// PageSize is the documented maximum page size.
const PageSize = 100

// Window is one inclusive creationDate range in epoch ms.
type Window struct{ From, To int64 }

// Windows splits the inclusive range [fromMs, toMs] into consecutive,
// non-overlapping inclusive windows whose $le − $ge stays below MaxWindow.
// An empty or inverted range gives none.
func Windows(fromMs, toMs int64) []Window {
	span := MaxWindow.Milliseconds() - 1
	var ws []Window
	for from := fromMs; from <= toMs; {
		to := min(from+span, toMs)
		ws = append(ws, Window{From: from, To: to})
		if to == toMs {
			break
		}
		from = to + 1
	}
	return ws
}

// ListOrders calls fn for every order in state created in [fromMs, toMs]
// (epoch ms), with lines, in no particular order. An empty state lists
// every state (the API allows leaving the filter out). The range is split into
// windows of at most 14 days, and every page 0..meta.pageCount-1 of each
// window is read: a short page in the middle does not end the listing. An
// order seen twice in one call (it moved between pages while they were
// read) is passed once. An error from fn stops the listing and is returned
// as is.
func (c *Client) ListOrders(ctx context.Context, state string, fromMs, toMs int64, fn func(domain.Order) error) error {
	seen := map[string]bool{}
	for _, w := range Windows(fromMs, toMs) {
		q := url.Values{}
		q.Set("filter[orders][creationDate][$ge]", strconv.FormatInt(w.From, 10))
		q.Set("filter[orders][creationDate][$le]", strconv.FormatInt(w.To, 10))
		if state != "" {
			q.Set("filter[orders][state]", state)
		}
		err := c.listPages(ctx, "list orders", q, func(o domain.Order) error {
			key := o.ID
			if key == "" {
				key = "code:" + o.Code
			}
			if seen[key] {
				return nil
			}
			seen[key] = true
			return fn(o)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// OrderByCode looks one order up by its code (no date window applies), with
// lines. An unknown code gives an error matching domain.ErrNotFound.
func (c *Client) OrderByCode(ctx context.Context, code string) (domain.Order, error) {
	q := url.Values{}
	q.Set("filter[orders][code]", code)
	var found *domain.Order
	err := c.listPages(ctx, "order by code", q, func(o domain.Order) error {
		if o.Code == code && o.Rejected == "" && found == nil {
			found = &o
		}
		return nil
	})
	if err != nil {
		return domain.Order{}, err
	}
	if found == nil {
		return domain.Order{}, fmt.Errorf("kaspi: order %s: %w", code, domain.ErrNotFound)
	}
	return *found, nil
}

// Entries returns the lines of the order with this API id.
func (c *Client) Entries(ctx context.Context, id string) ([]domain.Line, error) {
	op := "GET /orders/{id}/entries"
	body, err := c.get(ctx, op, "/orders/"+url.PathEscape(id)+"/entries", "")
	if err != nil {
		return nil, err
	}
	lines, derr := decodeEntries(body)
	if derr != nil {
		return nil, &APIError{Op: op, Status: 200, Kind: domain.ErrTransient, Err: derr}
	}
	return lines, nil
}

// MaxPages bounds the pages of one listing (100,000 orders).
const MaxPages = 1000

// PageLimit is how many pages a listing reads for an answer's pageCount
// and totalCount: no more than totalCount needs (totalCount/size + 1) and
// at most MaxPages, whatever pageCount claims. A missing totalCount (0)
// leaves only MaxPages.
func PageLimit(pageCount, total int) int {
	n := min(pageCount, MaxPages)
	if total > 0 {
		n = min(n, total/PageSize+1)
	}
	return n
}

// listPages reads every page of GET /orders for the filter q and calls fn
// for each order, lines loaded.
func (c *Client) listPages(ctx context.Context, what string, q url.Values, fn func(domain.Order) error) error {
	const op = "GET /orders"
	q.Set("page[size]", strconv.Itoa(PageSize))
	q.Set("include[orders]", "entries")
	pageCount := 1
	for n := 0; n < pageCount; n++ {
		// A run's deadline holds on every page: a listing that claims
		// endless pages must not keep the run lock.
		if by := domain.WaitBound(ctx); n > 0 && !by.IsZero() && !time.Now().Before(by) {
			return fmt.Errorf("kaspi: %s: run time budget spent after page %d of %d: %w", what, n, pageCount, domain.ErrTransient)
		}
		q.Set("page[number]", strconv.Itoa(n))
		body, err := c.get(ctx, op, "/orders", q.Encode())
		if err != nil {
			return fmt.Errorf("kaspi: %s page %d: %w", what, n, err)
		}
		p, derr := decodeOrders(body)
		if derr != nil {
			// The page holds buyers' data: the error names the endpoint
			// and the decode error only.
			return fmt.Errorf("kaspi: %s page %d: %w", what, n,
				&APIError{Op: op, Status: 200, Kind: domain.ErrTransient, Err: derr})
		}
		// The count may grow while we read (orders become visible late);
		// follow the latest answer, within what totalCount allows.
		pageCount = PageLimit(p.pageCount, p.total)
		for _, o := range p.orders {
			if !o.LinesLoaded && o.Rejected == "" {
				if o.ID == "" {
					return fmt.Errorf("kaspi: %s: order %s has no id to load its lines", what, o.Code)
				}
				lines, err := c.Entries(ctx, o.ID)
				if err != nil {
					return fmt.Errorf("kaspi: %s: lines of order %s: %w", what, o.Code, err)
				}
				o.Lines, o.LinesLoaded = lines, true
			} else if err := c.fillSKUs(ctx, &o, true); err != nil {
				return fmt.Errorf("kaspi: %s: lines of order %s: %w", what, o.Code, err)
			}
			if err := c.fillSKUs(ctx, &o, false); err != nil {
				return fmt.Errorf("kaspi: %s: lines of order %s: %w", what, o.Code, err)
			}
			if err := fn(o); err != nil {
				return err
			}
		}
	}
	return nil
}
