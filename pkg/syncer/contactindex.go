package syncer

import (
	"context"
	"fmt"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/phone"
)

// The phone index: E.164 → contact id for every contact of the account,
// kept in the store next to the contact cache. A run that has orders
// whose phones are not cached brings it up to date once (lazily: an idle
// run or one whose customers are all known makes no request for it):
//
//   - while it is being built (GET /contacts?limit=250&order[id]=asc, page
//     after page, resumable across runs) the pages read so far answer what
//     they can, and the rest is searched per phone as without an index;
//   - once complete, one refresh reads what changed since the watermark
//     (filter[updated_at][from] with order[updated_at]=desc: an account
//     outside the filters alpha ignores the filter, so the answer is cut
//     where updated_at drops below the watermark); a phone the complete,
//     refreshed index does not hold has no contact, and one is created
//     without searching;
//   - an account whose listing honours neither the filter nor the order,
//     or that holds more than ContactIndexMax contacts, is searched per
//     phone as without an index, and looked at again later.

const (
	// indexOverlap is how far before the watermark a refresh starts: the
	// listing may show a change a little late.
	indexOverlap = 5 * 60
	// indexPage is the page size of the listing (amoCRM's largest).
	indexPage = 250
	// indexRecheck is how long an account in search mode waits before its
	// listing is tried again; a too large account waits indexRecheckLarge.
	indexRecheck      = 24 * 60 * 60
	indexRecheckLarge = 7 * 24 * 60 * 60
)

// DefaultContactIndexMax is AMO_CONTACT_INDEX_MAX's default: above this
// many contacts building the index costs more than it saves.
const DefaultContactIndexMax = 25000

// indexRun is what this run knows of the phone index.
type indexRun struct {
	checked bool
	// consult: the index may answer lookups (complete, or being built).
	consult bool
	// fresh: the index is complete and was refreshed in this run, so a
	// phone it does not hold has no contact.
	fresh bool
	pages int // listing requests made by this run
}

// ListContacts counts the call when the client does not count requests.
func (c *countingCRM) ListContacts(ctx context.Context, q domain.ContactQuery) (domain.ContactPage, error) {
	c.calls.Add(1)
	return c.CRM.(domain.ContactLister).ListContacts(ctx, q)
}

// contactIndex returns the index store and the lister, or false when the
// index is off (AMO_CONTACT_INDEX_MAX=0, a dry run) or not supported.
func (r *run) contactIndex() (domain.ContactIndex, bool) {
	if r.cfg.ContactIndexMax <= 0 || r.cfg.DryRun {
		return nil, false
	}
	idx, ok := r.ledger.(domain.ContactIndex)
	if !ok {
		return nil, false
	}
	_, ok = r.crm.CRM.(domain.ContactLister)
	return idx, ok
}

// prepareIndex brings the index up to date, once per run. Temporary
// amoCRM failures leave the index as it is (this run searches per
// phone); fatal ones stop the run.
func (r *run) prepareIndex(ctx context.Context) error {
	if r.index.checked {
		return nil
	}
	r.index.checked = true
	idx, ok := r.contactIndex()
	if !ok {
		return nil
	}
	st, err := idx.ContactIndexState(ctx)
	if err != nil {
		return lerr("read contact index state", err)
	}
	now := r.now().Unix()
	switch st.Mode {
	case domain.IndexModeTooLarge:
		if now-st.CheckedAt < indexRecheckLarge {
			return nil
		}
		st = domain.ContactIndexState{}
		if err := idx.ClearContactIndex(ctx, st); err != nil {
			return lerr("clear contact index", err)
		}
	case domain.IndexModeSearch:
		if now-st.CheckedAt < indexRecheck {
			return nil
		}
	}
	if !st.Complete {
		r.index.consult = st.NextPage > 0
		if st, err = r.buildIndex(ctx, idx, st); err != nil || !st.Complete {
			return err
		}
	}
	r.index.consult = true
	return r.refreshIndex(ctx, idx, st)
}

// listPage reads one page of the listing for the index.
func (r *run) listPage(ctx context.Context, q domain.ContactQuery) (domain.ContactPage, error) {
	r.index.pages++
	return r.crm.ListContacts(ctx, q)
}

// indexFailed handles a failed listing request: fatal errors stop the
// run, others leave the index for the next run.
func (r *run) indexFailed(err error, what string) error {
	if fatal(err) {
		return fmt.Errorf("amocrm: %s: %w", what, err)
	}
	r.noteTransient(err)
	r.log.Warn("contact index: "+what+" failed; searching per phone in this run", "err", err)
	return nil
}

// buildIndex reads the listing page after page until it is complete or
// the budget is spent; every page is saved with the page to read next, so
// a run killed in the middle resumes there.
func (r *run) buildIndex(ctx context.Context, idx domain.ContactIndex, st domain.ContactIndexState) (domain.ContactIndexState, error) {
	if st.NextPage == 0 {
		// Changes made while the build runs are caught by the first
		// refresh, which starts from here.
		st = domain.ContactIndexState{NextPage: 1, Watermark: r.now().Unix()}
	} else if st.NextPage > 1 {
		// A contact deleted since the last run shifts the pages: read the
		// last page again.
		st.NextPage--
		st.Contacts = max(st.Contacts-indexPage, 0)
	}
	probed := st.NextPage > 1
	for !r.expired() {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		pg, err := r.listPage(ctx, domain.ContactQuery{Page: st.NextPage})
		if err != nil {
			return st, r.indexFailed(err, "build")
		}
		if pg.More && !probed {
			// More than one page: one look past AMO_CONTACT_INDEX_MAX tells
			// whether the account is too large before reading it all.
			probed = true
			far, err := r.listPage(ctx, domain.ContactQuery{Page: r.cfg.ContactIndexMax/indexPage + 1})
			if err != nil {
				return st, r.indexFailed(err, "size check")
			}
			if len(far.Contacts) > 0 {
				return st, r.indexTooLarge(ctx, idx)
			}
		}
		st.Contacts += len(pg.Contacts)
		if st.Contacts > r.cfg.ContactIndexMax {
			return st, r.indexTooLarge(ctx, idx)
		}
		st.NextPage++
		if !pg.More {
			st.Complete, st.NextPage = true, 0
		}
		if err := idx.IndexContacts(ctx, r.indexed(pg.Contacts), st); err != nil {
			return st, lerr("index contacts", err)
		}
		r.index.consult = true
		if st.Complete {
			r.log.Info("contact index built", "contacts", st.Contacts)
			return st, nil
		}
	}
	r.log.Info("contact index: build continues next run (time budget spent)", "contacts", st.Contacts, "next_page", st.NextPage)
	return st, nil
}

func (r *run) indexTooLarge(ctx context.Context, idx domain.ContactIndex) error {
	r.index.consult = false
	r.log.Warn("contact index: the account has more contacts than AMO_CONTACT_INDEX_MAX; searching per phone",
		"max", r.cfg.ContactIndexMax, "mode", domain.IndexModeTooLarge)
	if err := idx.ClearContactIndex(ctx, domain.ContactIndexState{Mode: domain.IndexModeTooLarge, CheckedAt: r.now().Unix()}); err != nil {
		return lerr("clear contact index", err)
	}
	return nil
}

// refreshIndex reads the contacts changed since the watermark, newest
// first, keeping those not older than it (post-filter: an account outside
// the filters alpha ignores filter[updated_at] and lists every contact).
// What the account honoured is told by what comes back:
//
//   - nothing older than the watermark: the filter (mode filter);
//   - older contacts, and the list provably by updated_at (a lower id
//     after a higher one, updated_at never rising): the order; the
//     answer is cut at the first page that reaches below the watermark
//     (mode order);
//   - older contacts and updated_at rising along the list, or several
//     pages without proof of the order: neither; this run and the next
//     ones (until indexRecheck) search per phone (mode search).
func (r *run) refreshIndex(ctx context.Context, idx domain.ContactIndex, st domain.ContactIndexState) error {
	from := st.Watermark - indexOverlap
	newest := st.Watermark
	filtered, rising, byUpdated := true, false, false
	var last *domain.ListedContact
	var changed []domain.IndexedContact
	pages := 0
	for page := 1; ; page++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		pg, err := r.listPage(ctx, domain.ContactQuery{Page: page, UpdatedFrom: from, OrderByUpdated: true})
		if err != nil {
			return r.indexFailed(err, "refresh")
		}
		pages++
		var fresh []domain.ListedContact
		for i := range pg.Contacts {
			c := &pg.Contacts[i]
			if last != nil {
				rising = rising || c.UpdatedAt > last.UpdatedAt
				byUpdated = byUpdated || (c.ID < last.ID && c.UpdatedAt <= last.UpdatedAt)
			}
			last = c
			if c.UpdatedAt < from {
				filtered = false
				continue
			}
			fresh = append(fresh, *c)
			newest = max(newest, c.UpdatedAt)
		}
		changed = append(changed, r.indexed(fresh)...)
		if !pg.More || (!filtered && (rising || byUpdated)) {
			break
		}
	}
	mode := domain.IndexModeFilter
	switch {
	case filtered:
	case rising || (!byUpdated && pages > 1):
		mode = domain.IndexModeSearch
	default:
		mode = domain.IndexModeOrder
	}
	if mode != st.Mode {
		r.log.Info("contact index mode", "mode", mode)
		if mode == domain.IndexModeSearch {
			r.log.Warn("contact index: the contact listing honours neither filter[updated_at] nor order[updated_at]; searching per phone",
				"mode", mode)
		}
	}
	st.Mode, st.CheckedAt = mode, r.now().Unix()
	if mode == domain.IndexModeSearch {
		// What was read is not known to be every change: keep the
		// watermark, so that a later refresh starts early enough.
		if err := idx.SetContactIndexState(ctx, st); err != nil {
			return lerr("save contact index state", err)
		}
		r.index.consult = false
		return nil
	}
	st.Watermark = newest
	if err := idx.IndexContacts(ctx, changed, st); err != nil {
		return lerr("index contacts", err)
	}
	r.index.fresh = true
	r.log.Debug("contact index refreshed", "changed", len(changed), "mode", mode, "pages", pages)
	return nil
}

// indexed turns listed contacts into E.164 phone lists.
func (r *run) indexed(cs []domain.ListedContact) []domain.IndexedContact {
	out := make([]domain.IndexedContact, 0, len(cs))
	for _, c := range cs {
		ic := domain.IndexedContact{ID: c.ID}
		for _, raw := range c.Phones {
			if p, ok := phone.Normalize(raw, r.cfg.DefaultCountry); ok {
				ic.Phones = append(ic.Phones, p)
			}
		}
		out = append(out, ic)
	}
	return out
}

// indexedContacts looks the phones the cache does not hold up in the
// phone index, bringing the index up to date first (once per run).
func (r *run) indexedContacts(ctx context.Context, phones []string, cached map[string]int64) (map[string]int64, error) {
	var unresolved []string
	for _, p := range phones {
		if cached[p] == 0 {
			unresolved = append(unresolved, p)
		}
	}
	if len(unresolved) == 0 {
		return nil, nil
	}
	if !r.index.checked {
		if err := r.prepareIndex(ctx); err != nil {
			return nil, err
		}
		if r.index.fresh {
			// The refresh drops cached phones their contacts no longer have.
			again, err := r.ledger.ContactIDs(ctx, phones)
			if err != nil {
				return nil, lerr("look contacts up", err)
			}
			for _, p := range phones {
				if cached[p] != again[p] {
					delete(cached, p)
					unresolved = append(unresolved, p)
				}
			}
		}
	}
	idx, ok := r.contactIndex()
	if !ok || !r.index.consult {
		return nil, nil
	}
	m, err := idx.IndexedContactIDs(ctx, unresolved)
	if err != nil {
		return nil, lerr("look the phone index up", err)
	}
	return m, nil
}
