package storetest

import (
	"context"
	"fmt"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
	"testing"
)

// runCaches is the contract of the amoCRM id caches: phone → contact,
// SKU → catalog element, and the contact index.
func runCaches(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("Caches_ContactsAndElements", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		must(t, db.PutContact(ctx, "+77011234567", 1))
		must(t, db.PutContact(ctx, "+77011234567", 2)) // replaced
		must(t, db.PutContact(ctx, "+77020000000", 3))
		m, err := db.ContactIDs(ctx, []string{"+77011234567", "+77020000000", "+70000000000"})
		must(t, err)
		if len(m) != 2 || m["+77011234567"] != 2 || m["+77020000000"] != 3 {
			t.Fatalf("contacts %v", m)
		}
		must(t, db.ForgetContact(ctx, 2))
		if m, _ := db.ContactIDs(ctx, []string{"+77011234567"}); len(m) != 0 {
			t.Fatalf("forgotten contact still there: %v", m)
		}
		must(t, db.PutElement(ctx, 10, "SKU-1", 100))
		must(t, db.PutElement(ctx, 10, "SKU-1", 101))
		must(t, db.PutElement(ctx, 20, "SKU-1", 200))
		must(t, db.PutElement(ctx, 10, "Артикул 2", 102))
		e, err := db.ElementIDs(ctx, 10, []string{"SKU-1", "Артикул 2", "none"})
		must(t, err)
		if len(e) != 2 || e["SKU-1"] != 101 || e["Артикул 2"] != 102 {
			t.Fatalf("elements %v", e)
		}
		must(t, db.ForgetElement(ctx, 10, 101))
		e, _ = db.ElementIDs(ctx, 10, []string{"SKU-1"})
		e20, _ := db.ElementIDs(ctx, 20, []string{"SKU-1"})
		if len(e) != 0 || e20["SKU-1"] != 200 {
			t.Fatalf("forget element: %v %v", e, e20)
		}
	})

	t.Run("ContactIndex_LowestIDEditsForgetAndState", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		const a, b, c = "+77011234567", "+77020000000", "+77030000000"
		if st, err := db.ContactIndexState(ctx); err != nil || st != (domain.ContactIndexState{}) {
			t.Fatalf("fresh state %+v %v", st, err)
		}
		st := domain.ContactIndexState{NextPage: 2, Contacts: 250, Watermark: 1700000000}
		must(t, db.IndexContacts(ctx, []domain.IndexedContact{
			{ID: 30, Phones: []string{a, a}}, {ID: 10, Phones: []string{a, b}}, {ID: 20}}, st))
		got, err := db.ContactIndexState(ctx)
		must(t, err)
		if got != st {
			t.Fatalf("state %+v, want %+v", got, st)
		}
		m, err := db.IndexedContactIDs(ctx, []string{a, b, c})
		must(t, err)
		if len(m) != 2 || m[a] != 10 || m[b] != 10 {
			t.Fatalf("lowest id wins: %v", m)
		}
		// Contact 10 is edited: a moves out, c moves in; its cached phone
		// a no longer points at it, its cached c stays.
		must(t, db.PutContact(ctx, a, 10))
		must(t, db.PutContact(ctx, c, 10))
		must(t, db.PutContact(ctx, b, 99))
		st.Complete, st.Mode = true, domain.IndexModeFilter
		must(t, db.IndexContacts(ctx, []domain.IndexedContact{{ID: 10, Phones: []string{b, c}}}, st))
		m, _ = db.IndexedContactIDs(ctx, []string{a, b, c})
		if m[a] != 30 || m[b] != 10 || m[c] != 10 {
			t.Fatalf("after edit: %v", m)
		}
		cached, _ := db.ContactIDs(ctx, []string{a, b, c})
		if len(cached) != 2 || cached[c] != 10 || cached[b] != 99 {
			t.Fatalf("cache after edit: %v", cached)
		}
		// amoCRM refuses 30: gone from both.
		must(t, db.ForgetContact(ctx, 30))
		if m, _ := db.IndexedContactIDs(ctx, []string{a}); len(m) != 0 {
			t.Fatalf("forgotten contact still indexed: %v", m)
		}
		// Many contacts in one call (more than one statement's worth).
		var many []domain.IndexedContact
		for i := range 450 {
			many = append(many, domain.IndexedContact{ID: int64(1000 + i), Phones: []string{fmt.Sprintf("+7705%07d", i)}})
		}
		must(t, db.IndexContacts(ctx, many, st))
		m, _ = db.IndexedContactIDs(ctx, []string{"+77050000000", "+77050000449"})
		if m["+77050000000"] != 1000 || m["+77050000449"] != 1449 {
			t.Fatalf("many: %v", m)
		}
		tooLarge := domain.ContactIndexState{Mode: domain.IndexModeTooLarge, CheckedAt: 5}
		must(t, db.ClearContactIndex(ctx, tooLarge))
		if m, _ := db.IndexedContactIDs(ctx, []string{b, "+77050000000"}); len(m) != 0 {
			t.Fatalf("cleared index: %v", m)
		}
		if got, _ := db.ContactIndexState(ctx); got != tooLarge {
			t.Fatalf("state after clear %+v", got)
		}
		if cached, _ := db.ContactIDs(ctx, []string{c}); cached[c] != 10 {
			t.Fatalf("clearing the index dropped the cache: %v", cached)
		}
	})
}
