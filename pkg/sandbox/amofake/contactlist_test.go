package amofake_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"kaspi-amocrm/pkg/sandbox/amofake"
)

func listContactIDs(t *testing.T, f *fake, query string) []int64 {
	t.Helper()
	r := f.call("GET", "/api/v4/contacts?limit=250&"+query, "")
	if r.status == http.StatusNoContent {
		return nil
	}
	var ids []int64
	for _, c := range embedded(t, r, "contacts") {
		ids = append(ids, int64(c["id"].(float64)))
	}
	return ids
}

// Three contacts changed at t0, t0+10 s and t0+20 s; the first is then
// edited at t0+30 s, which moves its phones and its updated_at.
func listFixture(t *testing.T, mode amofake.ListFilters) (*fake, []int64, int64) {
	t.Helper()
	t0 := time.Date(2025, 7, 8, 7, 0, 0, 0, time.UTC)
	now := t0
	f := newFake(t, amofake.Options{ListFilters: mode, Now: func() time.Time { return now }})
	var ids []int64
	for i := range 3 {
		now = t0.Add(time.Duration(i) * 10 * time.Second)
		ids = append(ids, f.srv.AddContact(fmt.Sprintf("C%d", i), fmt.Sprintf("+7701000000%d", i)))
	}
	now = t0.Add(30 * time.Second)
	if err := f.srv.EditContactPhones(ids[0], "8 (702) 000-00-00"); err != nil {
		t.Fatal(err)
	}
	return f, ids, t0.Unix()
}

func TestListContacts_FilterHonouredOnlyInTheAlpha(t *testing.T) {
	f, ids, t0 := listFixture(t, amofake.FiltersHonoured)
	from := fmt.Sprintf("filter%%5Bupdated_at%%5D%%5Bfrom%%5D=%d", t0+15)
	if got := listContactIDs(t, f, from+"&order%5Bid%5D=asc"); !slices.Equal(got, []int64{ids[0], ids[2]}) {
		t.Fatalf("filter honoured: %v", got)
	}
	to := fmt.Sprintf("filter%%5Bupdated_at%%5D%%5Bto%%5D=%d", t0+15)
	if got := listContactIDs(t, f, to); !slices.Equal(got, []int64{ids[1]}) {
		t.Fatalf("filter to: %v", got)
	}
	if got := listContactIDs(t, f, fmt.Sprintf("filter%%5Bupdated_at%%5D%%5Bfrom%%5D=%d", t0+31)); got != nil {
		t.Fatalf("nothing changed since: %v", got)
	}
	// Outside the alpha the same request lists every contact.
	for _, mode := range []amofake.ListFilters{amofake.FiltersIgnored, amofake.OrderIgnored} {
		f.srv.SetListFilters(mode)
		if got := listContactIDs(t, f, from); !slices.Equal(got, ids) {
			t.Fatalf("%v: %v", mode, got)
		}
	}
}

func TestListContacts_OrderHonouredUnlessIgnored(t *testing.T) {
	f, ids, _ := listFixture(t, amofake.FiltersIgnored)
	if got := listContactIDs(t, f, "order%5Bupdated_at%5D=desc"); !slices.Equal(got, []int64{ids[0], ids[2], ids[1]}) {
		t.Fatalf("by updated_at desc: %v", got)
	}
	if got := listContactIDs(t, f, "order%5Bupdated_at%5D=asc"); !slices.Equal(got, []int64{ids[1], ids[2], ids[0]}) {
		t.Fatalf("by updated_at asc: %v", got)
	}
	if got := listContactIDs(t, f, "order%5Bid%5D=desc"); !slices.Equal(got, []int64{ids[2], ids[1], ids[0]}) {
		t.Fatalf("by id desc: %v", got)
	}
	f.srv.SetListFilters(amofake.OrderIgnored)
	if got := listContactIDs(t, f, "order%5Bupdated_at%5D=desc"); !slices.Equal(got, ids) {
		t.Fatalf("order ignored: %v", got)
	}
}

func TestEditContactPhones_MovesPhonesAndUpdatedAt(t *testing.T) {
	f, ids, t0 := listFixture(t, amofake.FiltersHonoured)
	r := f.call("GET", fmt.Sprintf("/api/v4/contacts/%d", ids[0]), "")
	c := r.json(t)
	if int64(c["updated_at"].(float64)) != t0+30 {
		t.Fatalf("updated_at %v", c["updated_at"])
	}
	if got := searchContactIDs(t, f, "7010000000"); len(got) != 0 {
		t.Fatalf("old phone still found: %v", got)
	}
	if got := searchContactIDs(t, f, "7020000000"); !slices.Equal(got, []int64{ids[0]}) {
		t.Fatalf("new phone: %v", got)
	}
	if err := f.srv.EditContactPhones(999); err == nil {
		t.Fatal("edit of an unknown contact accepted")
	}
}
