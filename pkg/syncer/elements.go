package syncer

import (
	"context"
	"fmt"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// resolveElements finds the catalog element of every SKU of the orders:
// the local cache, then an exact SKU match among amoCRM's search hits,
// then one batch create for the rest. Orders whose SKU cannot be resolved
// are set aside or postponed.
func (r *run) resolveElements(ctx context.Context, items []*item) (map[string]int64, error) {
	bySKU := map[string][]*item{}
	lines := map[string]domain.Line{}
	for _, it := range items {
		for _, l := range it.o.Lines {
			if l.SKU == "" {
				r.log.Warn("order line without the merchant's code: not linked, named in the order note",
					"order", it.code(), "entry", l.EntryNumber)
				continue
			}
			if len(bySKU[l.SKU]) == 0 || bySKU[l.SKU][len(bySKU[l.SKU])-1] != it {
				bySKU[l.SKU] = append(bySKU[l.SKU], it)
			}
			if _, ok := lines[l.SKU]; !ok {
				lines[l.SKU] = l
			}
		}
	}
	ids := map[string]int64{}
	if len(bySKU) == 0 {
		return ids, nil
	}
	cat := r.cfg.CatalogID
	skus := sortedKeys(bySKU)
	cached, err := r.ledger.ElementIDs(ctx, cat, skus)
	if err != nil {
		return nil, lerr("look elements up", err)
	}
	var missing []string
	for _, sku := range skus {
		if id := cached[sku]; id > 0 {
			ids[sku] = id
			continue
		}
		if len(pick(bySKU[sku], func(*item) bool { return true })) == 0 {
			continue
		}
		if r.expired() {
			for _, it := range bySKU[sku] {
				r.postpone(it, errBudget)
			}
			continue
		}
		found, err := r.crm.SearchElements(ctx, cat, sku)
		if err != nil {
			if fatal(err) {
				return nil, fmt.Errorf("amocrm: search elements: %w", err)
			}
			r.noteTransient(err)
			for _, it := range bySKU[sku] {
				r.postpone(it, fmt.Errorf("amocrm: search product %s: %w", sku, err))
			}
			continue
		}
		if id := matchElement(found, sku); id > 0 {
			if err := r.ledger.PutElement(ctx, cat, sku, id); err != nil {
				return nil, lerr("cache element", err)
			}
			ids[sku] = id
			continue
		}
		missing = append(missing, sku)
	}
	if len(missing) == 0 {
		return ids, nil
	}
	if r.cfg.DryRun {
		for _, sku := range missing {
			r.printf("проверка без записи: был бы создан товар %s (%s)", sku, newElement(cat, lines[sku]).Name)
		}
		return ids, nil
	}
	res, err := r.createKeyed(ctx, missing, func(keys []string) (map[string]int64, error) {
		batch := make([]domain.Element, 0, len(keys))
		for _, k := range keys {
			batch = append(batch, newElement(cat, lines[k]))
		}
		created, err := r.crm.CreateElements(ctx, cat, batch)
		return idsByRequest(created, func(e domain.Element) (string, int64) { return e.RequestID, e.ID }), err
	})
	if err != nil {
		return nil, fmt.Errorf("amocrm: create elements: %w", err)
	}
	for sku, id := range res.ids {
		if err := r.ledger.PutElement(ctx, cat, sku, id); err != nil {
			return nil, lerr("cache element", err)
		}
		ids[sku] = id
	}
	for sku, reason := range res.rejected {
		for _, it := range bySKU[sku] {
			if !it.out {
				if err := r.setAside(ctx, it, fmt.Sprintf("amoCRM отклонил товар %s: «%s»", sku, reason)); err != nil {
					return nil, err
				}
			}
		}
	}
	for sku, err := range res.postponed {
		for _, it := range bySKU[sku] {
			r.postpone(it, fmt.Errorf("amocrm: create product %s: %w", sku, err))
		}
	}
	return ids, nil
}

// matchElement returns the lowest id of an element whose SKU is exactly sku.
func matchElement(found []domain.Element, sku string) int64 {
	var best int64
	for _, e := range found {
		if e.ID > 0 && strings.TrimSpace(e.SKU) == sku && (best == 0 || e.ID < best) {
			best = e.ID
		}
	}
	return best
}
