package kaspi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"kaspi-amocrm/pkg/domain"
)

// hostile serves GET /orders pages whose meta claims pageCount and
// totalCount, each page one order, and counts the requests.
func hostile(t *testing.T, pageCount, total string) (*Client, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", mediaType)
		if r.URL.Path != "/orders" {
			fmt.Fprint(w, `{"data":[]}`)
			return
		}
		i := n.Add(1)
		fmt.Fprintf(w, `{"data":[{"type":"orders","id":"aWQ%d","attributes":{"code":"70000%04d","state":"NEW","status":"APPROVED_BY_BANK"},
		  "relationships":{"entries":{"data":[]}}}],"included":[],"meta":{"pageCount":%s,"totalCount":%s}}`, i, i, pageCount, total)
	}))
	t.Cleanup(srv.Close)
	return New(Config{BaseURL: srv.URL, Token: "t", RetryBase: time.Millisecond}), &n
}

func TestPageLimit(t *testing.T) {
	for _, c := range []struct{ pages, total, want int }{
		{3, 250, 3}, {1_000_000_000, 150, 2}, {1_000_000_000, 0, MaxPages}, {5, 1_000_000_000, 5},
		{1_000_000_000, 1_000_000_000, MaxPages}, {0, 0, 0},
	} {
		if got := PageLimit(c.pages, c.total); got != c.want {
			t.Errorf("PageLimit(%d, %d) = %d, want %d", c.pages, c.total, got, c.want)
		}
	}
}

// A pageCount of 1e9 with 150 orders reads two pages, not a billion.
func TestListOrders_HostilePageCountIsCapped(t *testing.T) {
	c, n := hostile(t, "1e9", "150")
	var got int
	err := c.ListOrders(context.Background(), domain.StateNew, 0, 1000, func(domain.Order) error { got++; return nil })
	if err != nil || n.Load() != 2 || got != 2 {
		t.Fatalf("err %v, %d requests, %d orders", err, n.Load(), got)
	}
}

// The run's deadline is checked on every page: past it the listing stops
// with a transient error after the page under way.
func TestListOrders_DeadlineCheckedOnEveryPage(t *testing.T) {
	c, n := hostile(t, "1e9", "0")
	ctx := domain.WithWaitBound(context.Background(), time.Now().Add(-time.Second))
	err := c.ListOrders(ctx, domain.StateNew, 0, 1000, func(domain.Order) error { return nil })
	if !errors.Is(err, domain.ErrTransient) || n.Load() != 1 {
		t.Fatalf("err %v after %d requests", err, n.Load())
	}
}

// A page that does not decode is reported by endpoint and error; none of
// its bytes (buyers' names and phones) reach the error or the log.
func TestListOrders_DecodeErrorQuotesNoBuyerData(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"data":"Иванов Иван +77011234567","meta":{}}`)
	}))
	defer srv.Close()
	c := New(Config{BaseURL: srv.URL, Token: "t", MaxRetries: -1})
	err := c.ListOrders(context.Background(), domain.StateNew, 0, 1000, func(domain.Order) error { return nil })
	if err == nil || strings.Contains(err.Error(), "Иванов") || strings.Contains(err.Error(), "7011234567") || !strings.Contains(err.Error(), "GET /orders") {
		t.Fatalf("err %v", err)
	}
	// A cut JSON page is not quoted either.
	e := classify("GET /orders", 200, []byte(`{"data":[{"attributes":{"customer":{"name":"Иванов`))
	if e == nil || e.Body != "" {
		t.Fatalf("cut page quoted: %+v", e)
	}
}

func orderDoc(id, code, state, status, name string) []byte {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	return fmt.Appendf(nil, `{"data":[{"type":"orders","id":%s,"attributes":{"code":%s,"state":%s,"status":%s,
	  "customer":{"name":%s,"cellPhone":"7011234567"}}}],"meta":{"pageCount":1,"totalCount":1}}`, q(id), q(code), q(state), q(status), q(name))
}

// Orders with an id, code, state or status of the wrong shape come back
// rejected with a reason and nothing else of them; text fields of a good
// order lose control characters and are cut.
func TestDecodeOrders_ValidatesShapesAndCleansText(t *testing.T) {
	long := strings.Repeat("9", 5000)
	for _, c := range []struct{ name, id, code, state, status string }{
		{"NUL in code", "aWQx", "12345\x006789", "NEW", "APPROVED_BY_BANK"},
		{"5000-char code", "aWQx", long, "NEW", "APPROVED_BY_BANK"},
		{"code with a space", "aWQx", "123 456", "NEW", "APPROVED_BY_BANK"},
		{"id with a quote", "aWQ'x", "123456", "NEW", "APPROVED_BY_BANK"},
		{"id of 129", strings.Repeat("a", 129), "123456", "NEW", "APPROVED_BY_BANK"},
		{"long state", "aWQx", "123456", strings.Repeat("N", 33), "APPROVED_BY_BANK"},
		{"long status", "aWQx", "123456", "NEW", strings.Repeat("S", 65)},
		{"control char in status", "aWQx", "123456", "NEW", "APPROVED\x01"},
	} {
		p, err := decodeOrders(orderDoc(c.id, c.code, c.state, c.status, "Ким"))
		if err != nil || len(p.orders) != 1 {
			t.Fatalf("%s: %v %+v", c.name, err, p.orders)
		}
		o := p.orders[0]
		if o.Rejected == "" || o.Customer.Name != "" || o.State != "" {
			t.Errorf("%s: not rejected or fields kept: %+v", c.name, o)
		}
		if strings.Contains(o.Rejected, long) || strings.ContainsRune(o.Rejected, 0) {
			t.Errorf("%s: the reason carries the value: %q", c.name, o.Rejected)
		}
	}
	p, err := decodeOrders(orderDoc("aWQx", "123456", "NEW", "APPROVED_BY_BANK", "Ким\x00 Ан\x1bна\nМария"+strings.Repeat("я", 400)))
	if err != nil || len(p.orders) != 1 || p.orders[0].Rejected != "" {
		t.Fatalf("%v %+v", err, p.orders)
	}
	name := p.orders[0].Customer.Name
	if strings.ContainsAny(name, "\x00\x1b\n") || !strings.HasPrefix(name, "Ким Анна Мария") || utf8.RuneCountInString(name) != maxTextLen {
		t.Fatalf("name %q (%d runes)", name, utf8.RuneCountInString(name))
	}
}
