package syncer

import (
	"context"
	"errors"
	"fmt"

	"kaspi-amocrm/pkg/domain"
)

// linkProducts links each deal's products with their quantities, in bulk
// calls of at most MaxBatch links, and moves the orders to linked.
func (r *run) linkProducts(ctx context.Context, items []*item, elements map[string]int64) error {
	if len(items) == 0 {
		return nil
	}
	if r.cfg.DryRun {
		for _, it := range items {
			r.printf("проверка без записи: заказ %s — к сделке #%d были бы привязаны товары (%d)", it.code(), it.rec.LeadID, len(it.o.Lines))
		}
		return nil
	}
	var chunk []*item
	var links []domain.Link
	flush := func() error {
		if len(chunk) == 0 {
			return nil
		}
		err := r.linkChunk(ctx, chunk, links, elements)
		chunk, links = nil, nil
		return err
	}
	for _, it := range items {
		ls := []domain.Link(nil)
		if r.cfg.CatalogID != 0 {
			ls = productLinks(it.rec.LeadID, r.cfg.CatalogID, it.o.Lines, elements)
			if missingElement(it.o.Lines, elements) {
				r.postpone(it, errors.New("a product of the order is not resolved yet"))
				continue
			}
		}
		if len(links)+len(ls) > domain.MaxBatch {
			if err := flush(); err != nil {
				return err
			}
		}
		chunk = append(chunk, it)
		links = append(links, ls...)
	}
	return flush()
}

func missingElement(lines []domain.Line, elements map[string]int64) bool {
	for _, l := range lines {
		if l.SKU != "" && elements[l.SKU] == 0 {
			return true
		}
	}
	return false
}

// linkChunk sends one bulk link call (split further only when an order
// alone has more than MaxBatch links) and handles its failure: deleted
// deals are dropped, the rest is retried order by order so that one bad
// order is set aside alone.
func (r *run) linkChunk(ctx context.Context, chunk []*item, links []domain.Link, elements map[string]int64) error {
	return batchWrite[*item]{
		what: "link products",
		send: func(items []*item) error {
			if len(items) == len(chunk) {
				return r.sendLinks(ctx, links)
			}
			var ls []domain.Link
			for _, it := range items {
				ls = append(ls, productLinks(it.rec.LeadID, r.cfg.CatalogID, it.o.Lines, elements)...)
			}
			return r.sendLinks(ctx, ls)
		},
		live:      func(items []*item) ([]*item, error) { return r.dropDeletedLeads(ctx, items) },
		done:      func(items []*item) error { return r.markStep(ctx, items, domain.StepLinked) },
		transient: r.noteTransient,
		later:     func(it *item, err error) { r.postpone(it, fmt.Errorf("amocrm: link products: %w", err)) },
		refused: func(it *item, err error) error {
			// An element deleted or merged by a manager: forget the order's
			// cached elements so the next attempt resolves them again.
			for _, l := range productLinks(it.rec.LeadID, r.cfg.CatalogID, it.o.Lines, elements) {
				if err := r.ledger.ForgetElement(ctx, r.cfg.CatalogID, l.ElementID); err != nil {
					return lerr("forget element", err)
				}
			}
			return r.setAside(ctx, it, "amoCRM отклонил привязку товаров: «"+apiText(err)+"»")
		},
	}.run(chunk)
}

func (r *run) sendLinks(ctx context.Context, links []domain.Link) error {
	for len(links) > 0 {
		n := min(len(links), domain.MaxBatch)
		if err := r.crm.LinkElements(ctx, links[:n]); err != nil {
			return err
		}
		links = links[n:]
	}
	return nil
}
