package kaspi_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/kaspi"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
)

const testToken = "dGVzdC10b2tlbi1mb3Ita2FzcGktZmFrZS0wMDAwMDA9"

// now is the fake's clock in every test: 2025-07-08 12:00 Almaty.
var now = time.Date(2025, 7, 8, 7, 0, 0, 0, time.UTC)

type env struct {
	fake   *kaspifake.Server
	srv    *httptest.Server
	client *kaspi.Client
}

func newEnv(t *testing.T, mutate ...func(*kaspi.Config)) *env {
	t.Helper()
	fake := kaspifake.New(kaspifake.Options{Token: testToken, Now: func() time.Time { return now }, Seed: 7})
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	cfg := kaspi.Config{BaseURL: srv.URL, Token: testToken, RetryBase: time.Millisecond, Timeout: 5 * time.Second}
	for _, m := range mutate {
		m(&cfg)
	}
	return &env{fake: fake, srv: srv, client: kaspi.New(cfg)}
}

func order(code string, created time.Time, state string, lines ...domain.Line) domain.Order {
	if len(lines) == 0 {
		lines = []domain.Line{{SKU: "SKU-" + code, Name: "Товар " + code, Quantity: 1, BasePrice: 1000}}
	}
	return domain.Order{
		Code: code, State: state, Status: domain.StatusApprovedByBank, CreationMs: created.UnixMilli(),
		PaymentMode: "PREPAID", DeliveryMode: "DELIVERY_PICKUP",
		Customer: domain.Customer{ID: "Q3VzdA", FirstName: "Айгерим", LastName: "Сапарова", Phone: "7011234567"},
		Lines:    lines,
	}
}

func listAll(t *testing.T, c *kaspi.Client, state string, from, to time.Time) map[string]domain.Order {
	t.Helper()
	got := map[string]domain.Order{}
	err := c.ListOrders(context.Background(), state, from.UnixMilli(), to.UnixMilli(), func(o domain.Order) error {
		if _, dup := got[o.Code]; dup {
			t.Errorf("order %s passed twice", o.Code)
		}
		got[o.Code] = o
		return nil
	})
	if err != nil {
		t.Fatalf("ListOrders: %v", err)
	}
	return got
}

func TestListOrders_ReadsOrdersWithLines(t *testing.T) {
	e := newEnv(t)
	e.fake.AddOrder(order("612345678", now.Add(-time.Hour), domain.StateNew))
	got := listAll(t, e.client, domain.StateNew, now.Add(-24*time.Hour), now)
	o, ok := got["612345678"]
	if !ok || !o.LinesLoaded || len(o.Lines) != 1 || o.Lines[0].SKU != "SKU-612345678" {
		t.Fatalf("got %+v", got)
	}
}
