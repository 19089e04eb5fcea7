package amocrm_test

import (
	"fmt"
	"net/url"
	"testing"

	"kaspi-amocrm/pkg/domain"
)

func TestListContacts_PagesWithPhonesUpdatedAtAndQuery(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)
	var ids []int64
	for i := range 260 {
		ids = append(ids, h.fake.AddContact(fmt.Sprintf("C%d", i), fmt.Sprintf("8 (701) 000-%02d-%02d", i/100, i%100)))
	}
	p1, err := c.ListContacts(ctx, domain.ContactQuery{Page: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Contacts) != 250 || !p1.More || p1.Contacts[0].ID != ids[0] || p1.Contacts[0].UpdatedAt == 0 ||
		len(p1.Contacts[0].Phones) != 1 || p1.Contacts[0].Phones[0] != "8 (701) 000-00-00" {
		t.Fatalf("page 1: %d contacts, more %v, first %+v", len(p1.Contacts), p1.More, p1.Contacts[0])
	}
	p2, err := c.ListContacts(ctx, domain.ContactQuery{Page: 2})
	if err != nil || len(p2.Contacts) != 10 || p2.More {
		t.Fatalf("page 2: %d contacts, more %v, %v", len(p2.Contacts), p2.More, err)
	}
	p3, err := c.ListContacts(ctx, domain.ContactQuery{Page: 3})
	if err != nil || len(p3.Contacts) != 0 || p3.More {
		t.Fatalf("past the end (204): %+v %v", p3, err)
	}
	if _, err := c.ListContacts(ctx, domain.ContactQuery{}); err == nil {
		t.Fatal("page 0 accepted")
	}
	// What went on the wire: a full page, the order and the filter.
	h.fake.ResetStats()
	if _, err := c.ListContacts(ctx, domain.ContactQuery{Page: 1, UpdatedFrom: 1700000000, OrderByUpdated: true}); err != nil {
		t.Fatal(err)
	}
	reqs := h.fake.Requests()
	q, _ := url.ParseQuery(reqs[len(reqs)-1].Query)
	if q.Get("limit") != "250" || q.Get("page") != "1" || q.Get("order[updated_at]") != "desc" ||
		q.Get("filter[updated_at][from]") != "1700000000" || q.Has("order[id]") {
		t.Fatalf("query %v", q)
	}
}
