package amocrm

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"kaspi-amocrm/pkg/domain"
)

// pageLimit is the largest page amoCRM serves.
const pageLimit = 250

// getPages reads every page of a collection (page=1.. until there is no
// _links.next or the answer is 204) and hands each page's _embedded to each.
func getPages[T any](ctx context.Context, c *Client, op, path string, q url.Values, each func(T) error) error {
	if q == nil {
		q = url.Values{}
	}
	q.Set("limit", strconv.Itoa(pageLimit))
	for p := 1; p <= maxPages; p++ {
		q.Set("page", strconv.Itoa(p))
		var pg page[T]
		st, err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, query: q, out: &pg})
		if err != nil {
			return err
		}
		if st == http.StatusNoContent {
			return nil
		}
		if err := each(pg.Embedded); err != nil {
			return err
		}
		if pg.Links.Next == nil {
			return nil
		}
	}
	return fmt.Errorf("amocrm: %s: more than %d pages: %w", op, maxPages, domain.ErrBadRequest)
}

// getOne reads one page (a search: one full page is the contract).
func getOne[T any](ctx context.Context, c *Client, op, path string, q url.Values) (T, bool, error) {
	var pg page[T]
	st, err := c.do(ctx, call{op: op, method: http.MethodGet, path: path, query: q, out: &pg})
	if err != nil || st == http.StatusNoContent {
		return pg.Embedded, false, err
	}
	return pg.Embedded, true, nil
}
