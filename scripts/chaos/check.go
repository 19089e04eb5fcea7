package main

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"kaspi-amocrm/pkg/phone"
)

// verdict is what the checks found: failures break an invariant, remarks
// are worth knowing but break none.
type verdict struct {
	failures []string
	remarks  []string
	deals    int
}

func (v *verdict) fail(format string, args ...any) {
	v.failures = append(v.failures, fmt.Sprintf(format, args...))
}

func (v *verdict) remark(format string, args ...any) {
	v.remarks = append(v.remarks, fmt.Sprintf(format, args...))
}

// check asserts the invariants on what the fake amoCRM holds: one deal per
// order code and none for unknown codes, no two contacts for one phone,
// no two products for one SKU, every deal complete (the buyer's contact
// when the phone is usable, every product linked with its quantity, the
// order note), every ledger row done, the account not banned and never
// rate-limited.
func (w *world) check(ctx context.Context) verdict {
	var v verdict
	amo := w.sb.Amo
	leads := map[string][]int64{}
	for _, l := range amo.Leads() {
		code, ok := strings.CutPrefix(l.Name, "Kaspi Order ")
		if !ok {
			continue
		}
		leads[code] = append(leads[code], l.ID)
		if _, known := w.byKey[code]; !known {
			v.fail("a deal for unknown order %s", code)
		}
	}
	var missing, dups []string
	for _, code := range w.codes {
		switch n := len(leads[code]); {
		case n == 0:
			missing = append(missing, code)
		case n > 1:
			dups = append(dups, fmt.Sprintf("%s×%d", code, n))
		}
	}
	if len(missing) > 0 {
		v.fail("%d orders without a deal (%s)", len(missing), sample(missing))
	}
	if len(dups) > 0 {
		v.fail("%d orders with more than one deal (%s)", len(dups), sample(dups))
	}
	v.deals = len(w.codes) - len(missing)

	// Contacts: one per phone.
	contacts := map[int64][]string{} // id → E.164 phones
	owners := map[string][]int64{}
	for _, c := range amo.Contacts() {
		for _, raw := range c.Phones() {
			if p, ok := phone.Normalize(raw, "KZ"); ok {
				contacts[c.ID] = append(contacts[c.ID], p)
				owners[p] = append(owners[p], c.ID)
			}
		}
	}
	var dupPhones []string
	for p, ids := range owners {
		if len(ids) > 1 {
			dupPhones = append(dupPhones, fmt.Sprintf("%s×%d", p, len(ids)))
		}
	}
	if len(dupPhones) > 0 {
		v.fail("%d phones with more than one contact (%s)", len(dupPhones), sample(dupPhones))
	}

	// Products: one per SKU.
	elementOf := map[string]int64{}
	var dupSKUs []string
	for _, e := range amo.Elements() {
		if _, seen := elementOf[e.SKU()]; seen {
			dupSKUs = append(dupSKUs, e.SKU())
		}
		elementOf[e.SKU()] = e.ID
	}
	if len(dupSKUs) > 0 {
		v.fail("%d SKUs with more than one product (%s)", len(dupSKUs), sample(dupSKUs))
	}

	// Every deal complete.
	links := map[int64]map[int64][]float64{} // lead → element → quantities
	for _, l := range amo.Links() {
		if l.ToEntityType != "catalog_elements" {
			continue
		}
		if links[l.LeadID] == nil {
			links[l.LeadID] = map[int64][]float64{}
		}
		links[l.LeadID][l.ToEntityID] = append(links[l.LeadID][l.ToEntityID], l.Quantity)
	}
	notes := map[int64]int{}
	for _, n := range amo.Notes() {
		// An order note's first line is "Заказ Kaspi № <code>" alone; a note
		// about a later change goes on after the code on that line.
		if first, _, _ := strings.Cut(n.Text, "\n"); strings.HasPrefix(first, "Заказ Kaspi №") && !strings.Contains(first, " — ") {
			notes[n.LeadID]++
		}
	}
	var noContact, wrongContact, noLinks, badQty, noNote, twoNotes, twoLinks []string
	for _, code := range w.codes {
		ids := leads[code]
		if len(ids) != 1 {
			continue
		}
		o := w.byKey[code]
		lead, _ := amo.Lead(ids[0])
		if p, ok := phone.Normalize(o.Customer.Phone, "KZ"); ok {
			main := lead.MainContactID()
			switch {
			case main == 0:
				noContact = append(noContact, code)
			case !contains(contacts[main], p):
				wrongContact = append(wrongContact, code)
			}
		}
		want := map[int64]float64{}
		for _, line := range o.Lines {
			want[elementOf[line.SKU]] += line.Quantity
		}
		for el, q := range want {
			got := links[lead.ID][el]
			switch {
			case el == 0 || len(got) == 0:
				noLinks = append(noLinks, code)
			case len(got) > 1:
				twoLinks = append(twoLinks, code)
			case got[0] != q:
				badQty = append(badQty, fmt.Sprintf("%s(%v≠%v)", code, got[0], q))
			}
		}
		switch n := notes[lead.ID]; {
		case n == 0:
			noNote = append(noNote, code)
		case n > 1:
			twoNotes = append(twoNotes, code)
		}
	}
	if len(noContact) > 0 {
		v.fail("%d deals without the buyer's contact (%s)", len(noContact), sample(noContact))
	}
	if len(wrongContact) > 0 {
		v.fail("%d deals with a contact of another phone (%s)", len(wrongContact), sample(wrongContact))
	}
	if len(noLinks) > 0 {
		v.fail("%d deals missing a product link (%s)", len(uniq(noLinks)), sample(uniq(noLinks)))
	}
	if len(badQty) > 0 {
		v.fail("%d links with a wrong quantity (%s)", len(badQty), sample(badQty))
	}
	if len(noNote) > 0 {
		v.fail("%d deals without the order note (%s)", len(noNote), sample(noNote))
	}
	if len(twoNotes) > 0 {
		v.remark("%d deals carry the order note twice (%s)", len(twoNotes), sample(twoNotes))
	}
	if len(twoLinks) > 0 {
		v.remark("%d deals have a product linked twice (%s)", len(uniq(twoLinks)), sample(uniq(twoLinks)))
	}

	// The ledger agrees, and the account is in good standing.
	if n, why, err := w.pending(ctx); err != nil {
		v.fail("read the ledger: %v", err)
	} else if n > 0 {
		v.fail("%d ledger rows not done: %s", n, why)
	}
	if amo.Banned() {
		v.fail("the amoCRM account is banned")
	}
	limited := 0
	for _, r := range amo.Requests() {
		if r.Status == 429 && r.Fault == "" {
			limited++
		}
	}
	if limited > 0 {
		v.fail("%d requests refused by amoCRM's rate limit (most in one second: %d)", limited, amo.MaxPerSecond())
	}
	return v
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func uniq(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func sample(list []string) string {
	list = append([]string(nil), list...)
	sort.Strings(list)
	if len(list) > 5 {
		return strings.Join(list[:5], ", ") + ", …"
	}
	return strings.Join(list, ", ")
}
