package syncer

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/phone"
)

// errBudget postpones the rest of a batch when the run's time is spent.
var errBudget = errors.New("run time budget spent")

// item is one order on its way through a batch.
type item struct {
	rec       domain.Record
	o         *domain.Order
	phone     string // E.164, "" when the order has no usable phone
	noContact string // why the deal has no contact
	contactID int64
	out       bool // set aside, postponed or finished elsewhere: no further step this run
	// resumed: the row came in at step linked, so an earlier run may have
	// written its note before losing amoCRM's answer.
	resumed bool
}

func (it *item) code() string { return it.rec.Code }

// processDue works through the due ledger rows, oldest first, in batches
// of at most domain.MaxBatch, until none is left, the budget is spent, the
// limit is reached or amoCRM keeps failing.
func (r *run) processDue(ctx context.Context, withQuarantined bool) error {
	if r.adoptPending {
		return nil
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, ok := r.nextBatchSize()
		if !ok {
			return nil
		}
		recs, err := r.ledger.Due(ctx, r.now(), n+len(r.seen), withQuarantined)
		if err != nil {
			return lerr("list due orders", err)
		}
		var batch []domain.Record
		for _, rec := range recs {
			if !r.seen[rec.Code] && len(batch) < n {
				batch = append(batch, rec)
			}
		}
		if len(batch) == 0 {
			break
		}
		for _, rec := range batch {
			r.seen[rec.Code] = true
		}
		r.processed += len(batch)
		if err := r.processBatch(ctx, batch); err != nil {
			return err
		}
	}
	// A dry run also shows what the listed orders the ledger lacks would become.
	for len(r.dryNew) > 0 {
		n, ok := r.nextBatchSize()
		if !ok {
			return nil
		}
		n = min(n, len(r.dryNew))
		var batch []domain.Record
		for _, o := range r.dryNew[:n] {
			batch = append(batch, domain.Record{Code: o.Code, State: o.State, Status: o.Status,
				CreationMs: o.CreationMs, Step: domain.StepNew, Order: &o, Tracked: true, StoreNo: storeNo(o.StoreNo)})
		}
		r.dryNew = r.dryNew[n:]
		r.processed += len(batch)
		if err := r.processBatch(ctx, batch); err != nil {
			return err
		}
	}
	return nil
}

// nextBatchSize is how many orders the next batch may take (false: stop).
func (r *run) nextBatchSize() (int, bool) {
	if r.expired() || r.transient >= maxTransient {
		return 0, false
	}
	n := domain.MaxBatch
	if r.cfg.Limit > 0 {
		if r.processed >= r.cfg.Limit {
			return 0, false
		}
		n = min(n, r.cfg.Limit-r.processed)
	}
	return n, true
}

// processBatch takes up to MaxBatch ledger rows one step further each,
// as far as they go: snapshot, adoption of a lead that may exist,
// contacts, products, leads, links, notes.
func (r *run) processBatch(ctx context.Context, recs []domain.Record) error {
	items := make([]*item, 0, len(recs))
	for _, rec := range recs {
		items = append(items, &item{rec: rec, o: rec.Order, resumed: rec.Step == domain.StepLinked})
	}
	if err := r.loadSnapshots(ctx, items); err != nil {
		return err
	}
	if err := r.adoptLeads(ctx, items); err != nil {
		return err
	}
	if len(pick(items, func(it *item) bool { return it.rec.LeadID == 0 && !it.out })) > 0 {
		if err := r.checkSettings(ctx, false); err != nil {
			return err
		}
		if err := r.checkFieldSettings(ctx); err != nil {
			return err
		}
	}
	needLead := pick(items, func(it *item) bool { return it.rec.LeadID == 0 })
	if err := r.resolveContacts(ctx, needLead); err != nil {
		return err
	}
	elements := map[string]int64{}
	if r.cfg.CatalogID != 0 {
		var err error
		elements, err = r.resolveElements(ctx, pick(items, func(it *item) bool { return beforeLinked(it.rec.Step) }))
		if err != nil {
			return err
		}
	}
	if err := r.createLeads(ctx, pick(items, func(it *item) bool { return it.rec.LeadID == 0 }), false); err != nil {
		return err
	}
	if err := r.linkProducts(ctx, pick(items, func(it *item) bool {
		return it.rec.LeadID > 0 && beforeLinked(it.rec.Step)
	}), elements); err != nil {
		return err
	}
	return r.addOrderNotes(ctx, pick(items, func(it *item) bool {
		return it.rec.LeadID > 0 && it.rec.Step == domain.StepLinked
	}))
}

func beforeLinked(s domain.Step) bool {
	return s == domain.StepNew || s == domain.StepLeadRequested || s == domain.StepLeadCreated || s == ""
}

// pick returns the items still in play that match.
func pick(items []*item, match func(*item) bool) []*item {
	var out []*item
	for _, it := range items {
		if !it.out && match(it) {
			out = append(out, it)
		}
	}
	return out
}

// loadSnapshots asks Kaspi for orders the ledger holds no usable snapshot
// of (rows adopted from the PHP version, snapshots dropped by retention).
func (r *run) loadSnapshots(ctx context.Context, items []*item) error {
	for _, it := range items {
		if it.o != nil && it.o.LinesLoaded {
			continue
		}
		o, err := r.kaspiOf(it.rec.StoreNo).OrderByCode(ctx, it.code())
		switch {
		case err == nil:
			o.StoreNo = it.rec.StoreNo
			it.o = &o
			if !r.cfg.DryRun {
				if err := r.ledger.UpdateOrder(ctx, o, r.now()); err != nil {
					return lerr("update order "+it.code(), err)
				}
			}
		case fatal(err):
			return fmt.Errorf("kaspi: order %s: %w", it.code(), err)
		case errors.Is(err, domain.ErrNotFound):
			if err := r.setAside(ctx, it, "Kaspi не знает заказа с таким кодом"); err != nil {
				return err
			}
		default:
			r.postpone(it, fmt.Errorf("kaspi: order by code: %w", err))
		}
	}
	return nil
}

// adoptLeads looks amoCRM up for orders whose lead may already exist: a
// create whose outcome was unknown (step lead_requested) and rows the PHP
// version reserved without a lead id. A lead named "Kaspi Order <code>" or
// carrying the code in the order code field is adopted, never created again.
func (r *run) adoptLeads(ctx context.Context, items []*item) error {
	for _, it := range pick(items, func(it *item) bool { return it.rec.LeadID == 0 && mayHaveLead(it.rec) }) {
		if r.expired() {
			r.postpone(it, errBudget)
			continue
		}
		leads, err := r.crm.SearchLeads(ctx, it.code())
		if err != nil {
			if fatal(err) {
				return fmt.Errorf("amocrm: search lead %s: %w", it.code(), err)
			}
			r.noteTransient(err)
			r.postpone(it, fmt.Errorf("amocrm: search lead: %w", err))
			continue
		}
		id := matchLead(leads, it.code(), r.storeLeadName(it.code(), it.rec.StoreNo), r.cfg.OrderCodeFieldID)
		if id == 0 {
			continue
		}
		r.log.Info("adopted an existing deal", "order", it.code(), "lead", id)
		if r.cfg.DryRun {
			r.printf("проверка без записи: заказ %s — нашлась сделка #%d, она была бы взята", it.code(), id)
			it.out = true
			continue
		}
		if err := r.ledger.SetLead(ctx, it.code(), id, r.now()); err != nil {
			return lerr("set lead "+it.code(), err)
		}
		it.rec.LeadID, it.rec.Step = id, domain.StepLeadCreated
		r.created(it)
	}
	return nil
}

// mayHaveLead: the row's lead may exist in amoCRM although no id is known.
func mayHaveLead(rec domain.Record) bool {
	if rec.Step == domain.StepLeadRequested {
		return true
	}
	// A PHP row (no Kaspi status, no creation time) with lead_id 0 was
	// reserved by the PHP version, which may have created the lead.
	return rec.Status == "" && rec.CreationMs == 0 && rec.Order == nil
}

// matchLead returns the lowest id of a live lead that is this order's deal.
func matchLead(leads []domain.Lead, code, storeName string, codeFieldID int64) int64 {
	var best int64
	for _, l := range leads {
		if l.IsDeleted || l.ID == 0 {
			continue
		}
		ok := l.Name == LeadName(code) || (storeName != "" && l.Name == storeName)
		if !ok && codeFieldID != 0 {
			for _, f := range l.Fields {
				if f.FieldID != codeFieldID {
					continue
				}
				for _, v := range f.Values {
					if strings.TrimSpace(fmt.Sprint(v.Value)) == code {
						ok = true
					}
				}
			}
		}
		if ok && (best == 0 || l.ID < best) {
			best = l.ID
		}
	}
	return best
}

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
			if !r.cfg.DryRun {
				if err := r.ledger.PutContact(ctx, p, id); err != nil {
					return lerr("cache contact", err)
				}
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
				c := BuildContact(byPhone[p][0].o, p, r.cfg.ContactAddressFieldID)
				r.printf("проверка без записи: был бы создан контакт %s (%s)", p, c.Name)
			}
		} else {
			if err := r.checkContactField(ctx); err != nil {
				return err
			}
			contacts := map[string]domain.Contact{}
			for _, p := range toCreate {
				contacts[p] = BuildContact(byPhone[p][0].o, p, r.cfg.ContactAddressFieldID)
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
			if !r.cfg.DryRun {
				if err := r.ledger.PutElement(ctx, cat, sku, id); err != nil {
					return nil, lerr("cache element", err)
				}
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
			r.printf("проверка без записи: был бы создан товар %s (%s)", sku, BuildElement(cat, lines[sku]).Name)
		}
		return ids, nil
	}
	res, err := r.createKeyed(ctx, missing, func(keys []string) (map[string]int64, error) {
		batch := make([]domain.Element, 0, len(keys))
		for _, k := range keys {
			batch = append(batch, BuildElement(cat, lines[k]))
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
	if len(notSent) > 0 && !r.cfg.DryRun {
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
func (r *run) leadFields(ctx context.Context) (LeadFields, error) {
	if r.fields != nil {
		return *r.fields, nil
	}
	f := LeadFields{OrderCodeID: r.cfg.OrderCodeFieldID, OrderDateID: r.cfg.LeadOrderDateFieldID,
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
			ls = Links(it.rec.LeadID, r.cfg.CatalogID, it.o.Lines, elements)
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
				ls = append(ls, Links(it.rec.LeadID, r.cfg.CatalogID, it.o.Lines, elements)...)
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
			for _, l := range Links(it.rec.LeadID, r.cfg.CatalogID, it.o.Lines, elements) {
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

// addOrderNotes writes each deal's order note in bulk calls and finishes
// the orders (done).
func (r *run) addOrderNotes(ctx context.Context, items []*item) error {
	if len(items) == 0 {
		return nil
	}
	notes := map[string]domain.Note{}
	for _, it := range items {
		why := ""
		if _, ok := phone.Normalize(it.o.Customer.Phone, r.cfg.DefaultCountry); !ok {
			why = noContactReason(it.o.Customer.Phone)
		}
		notes[it.code()] = domain.Note{LeadID: it.rec.LeadID, RequestID: it.code(), Text: StoreOrderNote(it.o, r.storeOf(it.rec.StoreNo).Name, why, r.loc)}
	}
	if r.cfg.DryRun {
		for _, it := range items {
			r.printf("проверка без записи: заказ %s — к сделке #%d было бы добавлено примечание", it.code(), it.rec.LeadID)
		}
		return nil
	}
	items, err := r.skipWrittenNotes(ctx, items)
	if err != nil || len(items) == 0 {
		return err
	}
	return batchWrite[*item]{
		what: "add notes",
		send: func(chunk []*item) error {
			batch := make([]domain.Note, 0, len(chunk))
			for _, it := range chunk {
				batch = append(batch, notes[it.code()])
			}
			return r.crm.AddNotes(ctx, batch)
		},
		live:      func(items []*item) ([]*item, error) { return r.dropDeletedLeads(ctx, items) },
		done:      func(items []*item) error { return r.markStep(ctx, items, domain.StepDone) },
		transient: r.noteTransient,
		later:     func(it *item, err error) { r.postpone(it, fmt.Errorf("amocrm: add note: %w", err)) },
		refused: func(it *item, err error) error {
			return r.setAside(ctx, it, "amoCRM отклонил примечание: «"+apiText(err)+"»")
		},
	}.run(items)
}

// skipWrittenNotes finishes resumed orders whose note is already on the
// deal (an earlier AddNotes was applied but its answer lost), so a note is
// never written twice; it returns the items that still need theirs.
func (r *run) skipWrittenNotes(ctx context.Context, items []*item) ([]*item, error) {
	var rest, written []*item
	for _, it := range items {
		if !it.resumed {
			rest = append(rest, it)
			continue
		}
		notes, err := r.crm.LeadNotes(ctx, it.rec.LeadID)
		switch {
		case err == nil:
		case fatal(err):
			return nil, fmt.Errorf("amocrm: lead notes: %w", err)
		case errors.Is(err, domain.ErrNotFound):
			if err := r.leadGone(ctx, it); err != nil {
				return nil, err
			}
			continue
		default:
			r.noteTransient(err)
			r.postpone(it, fmt.Errorf("amocrm: lead notes: %w", err))
			continue
		}
		head := "Заказ Kaspi № " + it.code() + "\n"
		if slices.ContainsFunc(notes, func(n domain.Note) bool { return strings.HasPrefix(n.Text+"\n", head) }) {
			written = append(written, it)
		} else {
			rest = append(rest, it)
		}
	}
	if len(written) > 0 {
		if err := r.markStep(ctx, written, domain.StepDone); err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// dropDeletedLeads asks amoCRM which of the items' deals still exist. A
// deal deleted by a manager is reported once and its order is no longer
// tracked; the live items are returned.
func (r *run) dropDeletedLeads(ctx context.Context, items []*item) ([]*item, error) {
	ids := make([]int64, 0, len(items))
	for _, it := range items {
		ids = append(ids, it.rec.LeadID)
	}
	leads, err := r.crm.GetLeads(ctx, ids)
	if err != nil {
		if fatal(err) {
			return nil, fmt.Errorf("amocrm: get leads: %w", err)
		}
		// Cannot tell: treat them all as live; the per-order retry decides.
		return items, nil
	}
	exists := map[int64]bool{}
	for _, l := range leads {
		if !l.IsDeleted {
			exists[l.ID] = true
		}
	}
	var live []*item
	for _, it := range items {
		if exists[it.rec.LeadID] {
			live = append(live, it)
			continue
		}
		if err := r.leadGone(ctx, it); err != nil {
			return nil, err
		}
	}
	return live, nil
}

// leadGone stops tracking an order whose deal was deleted in amoCRM.
func (r *run) leadGone(ctx context.Context, it *item) error {
	r.printf("заказ %s: сделку #%d удалили в amoCRM — заказ больше не отслеживается", it.code(), it.rec.LeadID)
	r.log.Warn("deal deleted in amoCRM; order no longer tracked", "order", it.code(), "lead", it.rec.LeadID)
	it.out = true
	if r.cfg.DryRun {
		return nil
	}
	if it.rec.Step != domain.StepDone {
		if err := r.ledger.SetStep(ctx, []string{it.code()}, domain.StepDone, r.now()); err != nil {
			return lerr("finish order "+it.code(), err)
		}
	}
	state, status := it.rec.State, it.rec.Status
	if it.o != nil {
		state, status = it.o.State, it.o.Status
	}
	return lerr("untrack order "+it.code(), r.ledger.SetSynced(ctx, it.code(), state, status, 0, false, r.now()))
}

func (r *run) markStep(ctx context.Context, items []*item, step domain.Step) error {
	codes := make([]string, 0, len(items))
	for _, it := range items {
		codes = append(codes, it.code())
		it.rec.Step = step
	}
	return lerr("set step "+string(step), r.ledger.SetStep(ctx, codes, step, r.now()))
}

// setAside records an order's failure with its backoff, names it in the
// run's output and takes it out of this run.
func (r *run) setAside(ctx context.Context, it *item, reason string) error {
	it.out = true
	reason = oneLine(reason)
	r.sum.Failed++
	why := ""
	if len(r.sum.Reasons) < maxReasons {
		why = fmt.Sprintf("заказ %s отложен: %s", it.code(), reason)
	}
	r.sum.AddWarning(why)
	if r.cfg.DryRun {
		r.printf("проверка без записи: заказ %s был бы отложен: %s", it.code(), reason)
		return nil
	}
	attempts := it.rec.Attempts + 1
	quarantined := attempts >= QuarantineAfter
	next := r.now().Add(Backoff(attempts))
	r.printf("заказ %s отложен (попытка %d): %s", it.code(), attempts, reason)
	r.log.Warn("order set aside", "order", it.code(), "attempts", attempts, "quarantined", quarantined, "reason", reason)
	return lerr("set aside "+it.code(), r.ledger.SetAside(ctx, it.code(), reason, next, quarantined, r.now()))
}

// postpone leaves an order for a later run without counting an attempt:
// the failure was not the order's (amoCRM or Kaspi did not answer).
func (r *run) postpone(it *item, err error) {
	if it == nil || it.out {
		return
	}
	it.out = true
	r.log.Info("order postponed", "order", it.code(), "err", err)
}

// maxReasons bounds the reasons a run keeps (the first one is shown).
const maxReasons = 5

// created counts a deal made (or adopted) by this run; an order an earlier
// run found counts as retried too.
func (r *run) created(it *item) {
	r.sum.Created++
	if !r.foundNow[it.code()] {
		r.sum.Retried++
	}
	r.log.Info("deal created", "order", it.code(), "lead", it.rec.LeadID)
}

func (r *run) noteTransient(err error) {
	if errors.Is(err, domain.ErrTransient) {
		r.transient++
	}
}

// createResult is the outcome of createKeyed, per key.
type createResult struct {
	ids       map[string]int64
	rejected  map[string]string                // amoCRM refused the item: set its orders aside
	postponed map[string]error                 // outcome unknown or not tried: search first next time
	plain     map[string]bool                  // rejected by a refusal that named no item
	problems  map[string][]domain.FieldProblem // code and path of each rejection amoCRM detailed
}

// createKeyed creates the items named by keys (request ids) in one call,
// and handles a partial refusal: the items a validation error names are
// rejected and the others sent again (a 400 creates nothing); a refusal
// that names no item is narrowed down by sending the items one by one. An
// ambiguous failure is never retried here: those keys are postponed.
// Only a fatal error is returned.
func (r *run) createKeyed(ctx context.Context, keys []string, create func([]string) (map[string]int64, error)) (createResult, error) {
	res := createResult{ids: map[string]int64{}, rejected: map[string]string{}, postponed: map[string]error{}, plain: map[string]bool{},
		problems: map[string][]domain.FieldProblem{}}
	if len(keys) > domain.MaxBatch {
		// amoCRM refuses a batch over the limit without naming an item;
		// sent whole, it would fall back to one request per item.
		for len(keys) > 0 {
			n := min(len(keys), domain.MaxBatch)
			chunk, err := r.createKeyed(ctx, keys[:n], create)
			merge(res, chunk)
			if err != nil {
				return res, err
			}
			keys = keys[n:]
		}
		return res, nil
	}
	pending := keys
	for round := 0; len(pending) > 0 && round < 3; round++ {
		ids, err := create(pending)
		if err == nil {
			for _, k := range pending {
				if id := ids[k]; id > 0 {
					res.ids[k] = id
				} else {
					res.postponed[k] = errors.New("amoCRM answered without this item's id")
				}
			}
			return res, nil
		}
		if fatal(err) {
			return res, err
		}
		if errors.Is(err, domain.ErrTransient) {
			r.noteTransient(err)
			for _, k := range pending {
				res.postponed[k] = err
			}
			return res, nil
		}
		var ve *domain.ValidationError
		if errors.As(err, &ve) {
			var rest []string
			for _, k := range pending {
				if msgs, ok := ve.Items[k]; ok {
					res.rejected[k] = oneLine(strings.Join(msgs, "; "))
					res.problems[k] = ve.Problems[k]
				} else {
					rest = append(rest, k)
				}
			}
			if len(rest) < len(pending) {
				pending = rest
				continue
			}
		}
		// Refused without naming an item we sent.
		if len(pending) == 1 {
			res.rejected[pending[0]] = oneLine(err.Error())
			res.plain[pending[0]] = true
			return res, nil
		}
		// A refusal that every item meets alike (account rights, a setting
		// of the account) must not cost one request per item: after two
		// items refused alone in a row with none accepted, the rest share
		// their fate (set aside, retried after the backoff).
		plainRefusals, accepted := 0, false
		for i, k := range pending {
			if plainRefusals >= 2 && !accepted {
				for _, rest := range pending[i:] {
					res.rejected[rest] = oneLine(err.Error())
				}
				break
			}
			one, ferr := r.createKeyed(ctx, []string{k}, create)
			if ferr != nil {
				return res, ferr
			}
			merge(res, one)
			if len(one.ids) > 0 {
				accepted = true
			} else if one.plain[k] {
				plainRefusals++
			}
		}
		return res, nil
	}
	for _, k := range pending {
		res.postponed[k] = errors.New("amoCRM kept refusing the batch")
	}
	return res, nil
}

func merge(dst, src createResult) {
	for k, v := range src.ids {
		dst.ids[k] = v
	}
	for k, v := range src.rejected {
		dst.rejected[k] = v
	}
	for k, v := range src.postponed {
		dst.postponed[k] = v
	}
	for k, v := range src.problems {
		dst.problems[k] = v
	}
	for k, v := range src.plain {
		dst.plain[k] = v
	}
}

func idsByRequest[T any](items []T, get func(T) (string, int64)) map[string]int64 {
	m := make(map[string]int64, len(items))
	for _, it := range items {
		if k, id := get(it); k != "" && id > 0 {
			m[k] = id
		}
	}
	return m
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// parseMs reads an epoch-ms setting (0 when absent or malformed).
func parseMs(s string) int64 {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || v < 0 {
		return 0
	}
	return v
}
