package kaspi_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/kaspi"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
)

// The status changes of docs/kaspi-api.md §6.2 against the fake's model of
// §4.4–4.5: what moves an order, what Kaspi refuses and how the client
// reports it, and that a change is never sent twice on its own.

func actionOrder(code, deliveryMode string, kaspiDelivery bool) domain.Order {
	o := order(code, start.Add(-time.Hour), domain.StateNew)
	o.DeliveryMode, o.IsKaspiDelivery = deliveryMode, kaspiDelivery
	return o
}

// refusal asserts err is Kaspi's refusal with a title containing want.
func refusal(t *testing.T, err error, want string) {
	t.Helper()
	var ae *kaspi.APIError
	if !errors.As(err, &ae) || !errors.Is(err, domain.ErrBadRequest) {
		t.Fatalf("want a refusal (ErrBadRequest), got %v", err)
	}
	if !strings.Contains(ae.Title, want) {
		t.Fatalf("refusal title %q, want it to contain %q", ae.Title, want)
	}
}

func TestAcceptMovesToTheDeliveryState(t *testing.T) {
	cases := []struct {
		mode  string
		kd    bool
		state string
	}{
		{"DELIVERY_PICKUP", false, domain.StatePickup},
		{"DELIVERY_LOCAL", false, domain.StateDelivery},
		{"DELIVERY_LOCAL", true, domain.StateKaspiDelivery},
		{"DELIVERY_REGIONAL_TODOOR", true, domain.StateKaspiDelivery},
	}
	for _, c := range cases {
		t.Run(c.mode+"/"+c.state, func(t *testing.T) {
			e := newEnv(t)
			o := e.fake.AddOrder(actionOrder("500100", c.mode, c.kd))
			got, err := e.client.Accept(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			if got.State != c.state || got.Status != domain.StatusAcceptedByMerchant {
				t.Fatalf("echo %s/%s, want %s/ACCEPTED_BY_MERCHANT", got.State, got.Status, c.state)
			}
			if stored, _ := e.fake.Order("500100"); stored.State != c.state {
				t.Fatalf("fake holds %s", stored.State)
			}
			// Accepting twice is refused: only from APPROVED_BY_BANK.
			_, err = e.client.Accept(context.Background(), o)
			refusal(t, err, kaspifake.TitleNotAllowed)
		})
	}
}

func TestActionRequestShape(t *testing.T) {
	e := newEnv(t)
	o := e.fake.AddOrder(actionOrder("500101", "DELIVERY_PICKUP", false))
	if _, err := e.client.Accept(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	reqs := e.fake.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != "POST" || last.Endpoint != kaspifake.EndpointAction || !last.TokenOK ||
		last.ContentType != "application/vnd.api+json" || last.Accept == "" {
		t.Fatalf("request %+v: want POST /orders with the token, JSON:API Content-Type and an Accept", last)
	}
}

func TestCancelNeedsAReasonTheMerchantMaySend(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	o := e.fake.AddOrder(actionOrder("500102", "DELIVERY_LOCAL", true))

	_, err := e.client.Cancel(ctx, o, "BUYER_CANCELLATION_HIMSELF", "")
	refusal(t, err, kaspifake.TitleBadReason)
	// BUYER_NOT_REACHABLE only for the merchant's own delivery or pickup.
	_, err = e.client.Cancel(ctx, o, "BUYER_NOT_REACHABLE", "")
	refusal(t, err, kaspifake.TitleBadReason)

	got, err := e.client.Cancel(ctx, o, "MERCHANT_OUT_OF_STOCK", strings.Repeat("я", 1500))
	if err != nil {
		t.Fatalf("a comment over 1,000 characters is cut, not refused: %v", err)
	}
	if got.State != domain.StateArchive || got.Status != domain.StatusCancelled || got.CancellationReason != "MERCHANT_OUT_OF_STOCK" {
		t.Fatalf("echo %+v", got)
	}
	// A cancelled order is final.
	_, err = e.client.Accept(ctx, o)
	refusal(t, err, kaspifake.TitleNotAllowed)
}

func TestAssembleThenTheWaybillAppearsLater(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	o := e.fake.AddOrder(actionOrder("500103", "DELIVERY_LOCAL", true))

	// Only an accepted Kaspi Delivery order can be assembled.
	_, err := e.client.Assemble(ctx, o, 2)
	refusal(t, err, kaspifake.TitleNotAllowed)
	if _, err := e.client.Accept(ctx, o); err != nil {
		t.Fatal(err)
	}
	got, err := e.client.Assemble(ctx, o, 2)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Assembled || got.Waybill != "" {
		t.Fatalf("right after ASSEMBLE: assembled %v, waybill %q; want assembled and no waybill yet", got.Assembled, got.Waybill)
	}
	if n := e.fake.Parcels("500103"); n != 2 {
		t.Fatalf("numberOfSpace %d reached Kaspi, want 2", n)
	}
	e.clock.Set(start.Add(kaspifake.DefaultWaybillDelay))
	later, err := e.client.OrderByCode(ctx, "500103")
	if err != nil {
		t.Fatal(err)
	}
	if !later.Assembled || !strings.HasPrefix(later.Waybill, "https://") {
		t.Fatalf("after the delay: assembled %v, waybill %q", later.Assembled, later.Waybill)
	}
	_, err = e.client.Assemble(ctx, o, 1)
	refusal(t, err, kaspifake.TitleNotAllowed)

	// A pickup order cannot be assembled.
	p := e.fake.AddOrder(actionOrder("500104", "DELIVERY_PICKUP", false))
	if _, err := e.client.Accept(ctx, p); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.Assemble(ctx, p, 1)
	refusal(t, err, kaspifake.TitleNotAllowed)
}

func TestCompleteInTwoStepsWithTheBuyersCode(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	o := e.fake.AddOrder(actionOrder("500105", "DELIVERY_PICKUP", false))
	if _, err := e.client.Accept(ctx, o); err != nil {
		t.Fatal(err)
	}
	// A code that was never requested is refused.
	_, err := e.client.Complete(ctx, o, "1234")
	refusal(t, err, kaspifake.TitleNoCodeSent)

	got, err := e.client.SendCompletionCode(ctx, o)
	if err != nil {
		t.Fatalf("send code: %v", err)
	}
	if got.Status != domain.StatusAcceptedByMerchant {
		t.Fatalf("sending the code must not complete the order: %s", got.Status)
	}
	code, ok := e.fake.SentCode("500105")
	if !ok {
		t.Fatal("the buyer got no code")
	}
	wrong := "0000"
	if code == wrong {
		wrong = "1111"
	}
	_, err = e.client.Complete(ctx, o, wrong)
	refusal(t, err, kaspifake.TitleWrongCode)

	got, err = e.client.Complete(ctx, o, code)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != domain.StateArchive || got.Status != domain.StatusCompleted {
		t.Fatalf("echo %s/%s, want ARCHIVE/COMPLETED", got.State, got.Status)
	}
}

func TestKaspiDeliveryIsCompletedByKaspi(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	o := e.fake.AddOrder(actionOrder("500106", "DELIVERY_LOCAL", true))
	if _, err := e.client.Accept(ctx, o); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.SendCompletionCode(ctx, o)
	refusal(t, err, kaspifake.TitleKaspiDeliver)
}

func TestBuyerCancelledBeforeTheMerchantActs(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	o := e.fake.AddOrder(actionOrder("500107", "DELIVERY_PICKUP", false))
	if err := e.fake.BuyerCancel("500107"); err != nil {
		t.Fatal(err)
	}
	_, err := e.client.Accept(ctx, o)
	refusal(t, err, kaspifake.TitleNotAllowed)
	_, err = e.client.Cancel(ctx, o, "BUYER_CANCELLATION_BY_MERCHANT", "")
	refusal(t, err, kaspifake.TitleNotAllowed)
}

// A 5xx leaves the outcome unknown: the client reports ErrTransient after
// one request and does not send the change again; a 429 (nothing done) is
// retried.
func TestAmbiguousFailureIsNotRetried(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	o := e.fake.AddOrder(actionOrder("500108", "DELIVERY_PICKUP", false))

	e.fake.Fail(kaspifake.EndpointAction, kaspifake.ServerError(), 1)
	before := e.fake.RequestCount()
	_, err := e.client.Accept(ctx, o)
	if !errors.Is(err, domain.ErrTransient) {
		t.Fatalf("want ErrTransient, got %v", err)
	}
	if n := e.fake.RequestCount() - before; n != 1 {
		t.Fatalf("a 5xx on a status change was sent %d times, want once", n)
	}

	e.fake.Fail(kaspifake.EndpointAction, kaspifake.TooManyRequests(), 1)
	before = e.fake.RequestCount()
	got, err := e.client.Accept(ctx, o)
	if err != nil {
		t.Fatalf("a 429 is retried: %v", err)
	}
	if n := e.fake.RequestCount() - before; n != 2 || got.Status != domain.StatusAcceptedByMerchant {
		t.Fatalf("%d requests, status %s; want 2 and ACCEPTED_BY_MERCHANT", n, got.Status)
	}
}

func TestActionWithABadToken(t *testing.T) {
	e := newEnv(t, func(_ *kaspifake.Options, c *kaspi.Config) { c.Token = "wrong" })
	o := e.fake.AddOrder(actionOrder("500109", "DELIVERY_PICKUP", false))
	_, err := e.client.Accept(context.Background(), o)
	if !errors.Is(err, domain.ErrAuth) {
		t.Fatalf("want ErrAuth, got %v", err)
	}
}
