package syncer

import (
	"context"
	"fmt"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/phone"
)

// resolveContacts finds the contact of each order's phone: the local
// cache, then the phone index (contactindex.go; a phone the complete,
// fresh index lacks is created without a search), then amoCRM's search by the last ten digits with the PHONE values
// compared in E.164 (a contact that merely holds the digits elsewhere is
// no match), then one batch create for the rest.
func (r *run) resolveContacts(ctx context.Context, items []*item) error {
	byPhone := map[string][]*item{}
	for _, it := range items {
		it.contactID = 0
		raw := it.o.Customer.Phone
		p, ok := phone.Normalize(raw, r.cfg.DefaultCountry)
		if !ok {
			it.phone, it.noContact = "", noContactReason(raw)
			continue
		}
		it.phone, it.noContact = p, ""
		byPhone[p] = append(byPhone[p], it)
	}
	if len(byPhone) == 0 {
		return nil
	}
	phones := sortedKeys(byPhone)
	cached, err := r.ledger.ContactIDs(ctx, phones)
	if err != nil {
		return lerr("look contacts up", err)
	}
	assign := func(p string, id int64) {
		for _, it := range byPhone[p] {
			it.contactID = id
		}
	}
	indexed, err := r.indexedContacts(ctx, phones, cached)
	if err != nil {
		return err
	}
	var missing []string
	for _, p := range phones {
		if id := cached[p]; id > 0 {
			assign(p, id)
			continue
		}
		if id := indexed[p]; id > 0 {
			if err := r.ledger.PutContact(ctx, p, id); err != nil {
				return lerr("cache contact", err)
			}
			assign(p, id)
			continue
		}
		if r.index.fresh {
			// The complete index, refreshed in this run, does not hold it:
			// no contact has this phone.
			missing = append(missing, p)
			continue
		}
		if r.expired() {
			// Searches are the slow part of a batch: stop at the budget and
			// leave the rest to the next run (what was found stays cached).
			for _, it := range byPhone[p] {
				r.postpone(it, errBudget)
			}
			continue
		}
		contacts, err := r.crm.SearchContacts(ctx, phone.Last10(p))
		if err != nil {
			if fatal(err) {
				return fmt.Errorf("amocrm: search contacts: %w", err)
			}
			r.noteTransient(err)
			for _, it := range byPhone[p] {
				r.postpone(it, fmt.Errorf("amocrm: search contact: %w", err))
			}
			continue
		}
		if id := matchContact(contacts, p, r.cfg.DefaultCountry); id > 0 {
			if err := r.ledger.PutContact(ctx, p, id); err != nil {
				return lerr("cache contact", err)
			}
			assign(p, id)
			continue
		}
		missing = append(missing, p)
	}

	var toCreate []string
	for _, p := range missing {
		if len(pick(byPhone[p], func(*item) bool { return true })) > 0 {
			toCreate = append(toCreate, p)
		}
	}
	if len(toCreate) > 0 {
		if r.cfg.DryRun {
			for _, p := range toCreate {
				c := newContact(byPhone[p][0].o, p, r.cfg.ContactAddressFieldID)
				r.printf("проверка без записи: был бы создан контакт %s (%s)", p, c.Name)
			}
		} else {
			if err := r.checkContactField(ctx); err != nil {
				return err
			}
			contacts := map[string]domain.Contact{}
			for _, p := range toCreate {
				contacts[p] = newContact(byPhone[p][0].o, p, r.cfg.ContactAddressFieldID)
			}
			res, err := r.createKeyed(ctx, toCreate, func(keys []string) (map[string]int64, error) {
				batch := make([]domain.Contact, 0, len(keys))
				for _, k := range keys {
					batch = append(batch, contacts[k])
				}
				created, err := r.crm.CreateContacts(ctx, batch)
				return idsByRequest(created, func(c domain.Contact) (string, int64) { return c.RequestID, c.ID }), err
			})
			if err != nil {
				return fmt.Errorf("amocrm: create contacts: %w", err)
			}
			for p, id := range res.ids {
				if err := r.ledger.PutContact(ctx, p, id); err != nil {
					return lerr("cache contact", err)
				}
				assign(p, id)
			}
			for p, reason := range res.rejected {
				for _, it := range byPhone[p] {
					if err := r.setAside(ctx, it, "amoCRM отклонил контакт: «"+reason+"»"); err != nil {
						return err
					}
				}
			}
			for p, err := range res.postponed {
				for _, it := range byPhone[p] {
					r.postpone(it, fmt.Errorf("amocrm: create contact: %w", err))
				}
			}
		}
	}

	if r.cfg.DryRun {
		return nil
	}
	for _, it := range items {
		if !it.out && it.contactID > 0 && (it.rec.ContactID != it.contactID || it.rec.Phone != it.phone) {
			if err := r.ledger.SetContact(ctx, it.code(), it.phone, it.contactID, r.now()); err != nil {
				return lerr("set contact "+it.code(), err)
			}
			it.rec.ContactID, it.rec.Phone = it.contactID, it.phone
		}
	}
	return nil
}

// matchContact returns the lowest id of a contact with a PHONE value equal
// to e164 once normalised.
func matchContact(contacts []domain.Contact, e164, country string) int64 {
	var best int64
	for _, c := range contacts {
		for _, raw := range c.Phones {
			if p, ok := phone.Normalize(raw, country); ok && p == e164 && c.ID > 0 && (best == 0 || c.ID < best) {
				best = c.ID
			}
		}
	}
	return best
}
