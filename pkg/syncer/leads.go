package syncer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// createLeads records the intent (lead_requested) and creates the deals in
// one batch, storing each lead id the moment it is known. A deal rejected
// because its contact no longer exists gets the contact resolved again
// once (retry=true is that second pass).
func (r *run) createLeads(ctx context.Context, items []*item, retry bool) error {
	if len(items) == 0 {
		return nil
	}
	f, err := r.leadFields(ctx)
	if err != nil {
		if fatal(err) {
			return fmt.Errorf("amocrm: lead custom fields: %w", err)
		}
		r.noteTransient(err)
		for _, it := range items {
			r.postpone(it, fmt.Errorf("amocrm: lead custom fields: %w", err))
		}
		return nil
	}
	byCode := map[string]*item{}
	leads := map[string]domain.Lead{}
	var codes []string
	for _, it := range items {
		byCode[it.code()] = it
		f.AccountZone = r.accountZone
		leads[it.code()] = r.buildLead(it, f)
		codes = append(codes, it.code())
	}
	if r.cfg.DryRun {
		for _, it := range items {
			r.printf("проверка без записи: была бы создана сделка «%s», бюджет %d, %s, строк товаров: %d",
				leads[it.code()].Name, leads[it.code()].Price, r.contactDesc(it), len(it.o.Lines))
			it.out = true
		}
		return nil
	}
	res, err := r.createKeyed(ctx, codes, func(keys []string) (map[string]int64, error) {
		if err := r.ledger.SetStep(ctx, keys, domain.StepLeadRequested, r.now()); err != nil {
			return nil, lerr("record lead intent", err)
		}
		batch := make([]domain.Lead, 0, len(keys))
		for _, k := range keys {
			byCode[k].rec.Step = domain.StepLeadRequested
			batch = append(batch, leads[k])
		}
		created, err := r.crm.CreateLeads(ctx, batch)
		return idsByRequest(created, func(l domain.Lead) (string, int64) { return l.RequestID, l.ID }), err
	})
	if err != nil {
		return fmt.Errorf("amocrm: create leads: %w", err)
	}
	for _, code := range codes {
		id, ok := res.ids[code]
		if !ok {
			continue
		}
		if err := r.ledger.SetLead(ctx, code, id, r.now()); err != nil {
			return lerr("set lead "+code, err)
		}
		it := byCode[code]
		it.rec.LeadID, it.rec.Step = id, domain.StepLeadCreated
		r.created(it)
	}
	var refused []string
	for _, code := range codes {
		if _, ok := res.rejected[code]; ok && settingRefused(res.problems[code]) {
			refused = append(refused, code)
		}
	}
	if len(refused) > 0 {
		if err := r.refusedSetting(ctx, refused); err != nil {
			return err
		}
	}
	var again []*item
	for _, code := range codes {
		reason, ok := res.rejected[code]
		if !ok {
			continue
		}
		it := byCode[code]
		if !retry && it.contactID > 0 && contactProblem(res.problems[code]) {
			// The contact was deleted or merged in amoCRM: forget it and
			// resolve the phone again.
			r.log.Info("contact no longer known to amoCRM; resolving again", "order", code, "contact", it.contactID)
			if err := r.ledger.ForgetContact(ctx, it.contactID); err != nil {
				return lerr("forget contact", err)
			}
			again = append(again, it)
			continue
		}
		if err := r.setAside(ctx, it, "amoCRM отклонил сделку: «"+reason+"»"); err != nil {
			return err
		}
	}
	var notSent []string
	for code, err := range res.postponed {
		// The create may have happened: the row stays in lead_requested and
		// the next attempt searches amoCRM for it first, unless the request
		// was never sent (the run's time was up before a rate-limit slot).
		if errors.Is(err, domain.ErrNotSent) {
			notSent = append(notSent, code)
		}
		r.postpone(byCode[code], fmt.Errorf("amocrm: create lead: %w", err))
	}
	if len(notSent) > 0 {
		sort.Strings(notSent)
		if err := r.ledger.SetStep(ctx, notSent, domain.StepNew, r.now()); err != nil {
			return lerr("undo lead intent", err)
		}
	}
	if len(again) > 0 {
		if err := r.resolveContacts(ctx, again); err != nil {
			return err
		}
		return r.createLeads(ctx, pick(again, func(*item) bool { return true }), true)
	}
	return nil
}

func (r *run) contactDesc(it *item) string {
	switch {
	case it.contactID > 0:
		return fmt.Sprintf("contact #%d", it.contactID)
	case it.phone != "":
		return "new contact " + it.phone
	}
	return "no contact (" + it.noContact + ")"
}

// contactProblem tells a rejection caused by the deal's contact (deleted
// or merged in amoCRM) from other rejections, by the paths amoCRM named
// (never by its message text).
func contactProblem(problems []domain.FieldProblem) bool {
	for _, p := range problems {
		if p.Path == "_embedded.contacts" || strings.HasPrefix(p.Path, "_embedded.contacts.") {
			return true
		}
	}
	return false
}

// leadFields reads the lead custom field definitions once per run, only
// when fields are configured, and learns the order date field's type. A
// configured field amoCRM does not have is a configuration error
// (*domain.SettingError naming the key): the run stops before any create,
// rather than rejecting every deal or leaving the field out silently.
func (r *run) leadFields(ctx context.Context) (leadFieldSet, error) {
	if r.fields != nil {
		return *r.fields, nil
	}
	f := leadFieldSet{OrderCodeID: r.cfg.OrderCodeFieldID, OrderDateID: r.cfg.LeadOrderDateFieldID,
		DeliveryAddressID: r.cfg.LeadDeliveryAddressFieldID}
	if f.OrderCodeID == 0 && f.OrderDateID == 0 && f.DeliveryAddressID == 0 {
		r.fields = &f
		return f, nil
	}
	defs, err := r.crm.CustomFields(ctx, "leads")
	if err != nil {
		return f, err
	}
	types := map[int64]string{}
	for _, d := range defs {
		types[d.ID] = d.Type
	}
	for _, c := range []struct {
		key string
		id  int64
	}{{"AMO_LEAD_ORDER_CODE_FIELD_ID", f.OrderCodeID}, {"AMO_LEAD_ORDER_DATE_FIELD_ID", f.OrderDateID},
		{"AMO_LEAD_DELIVERY_ADDRESS_FIELD_ID", f.DeliveryAddressID}} {
		if _, ok := types[c.id]; c.id != 0 && !ok {
			return f, missingField(c.key, c.id, "сделок", defs)
		}
	}
	f.OrderDateType = types[f.OrderDateID]
	r.fields = &f
	return f, nil
}
