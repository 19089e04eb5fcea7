package kaspifake_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
)

// post sends a raw status change as any client could.
func post(t *testing.T, srv string, ctype, body string, hdr ...string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, srv+"/orders", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Accept", "application/vnd.api+json")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header[http.CanonicalHeaderKey(hdr[i])] = []string{hdr[i+1]}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func change(id, status, extra string) string {
	return `{"data":{"type":"orders","id":"` + id + `","attributes":{"code":"700100","status":"` + status + `"` + extra + `}}}`
}

// The fake refuses what is not a well-formed status change the way the
// documented API does (docs/kaspi-api.md §1, §6.2), so a client that
// drifts from the shape fails here first.
func TestStatusChangeShapeIsStrict(t *testing.T) {
	fake, srv := newFake(t)
	o := fake.AddOrder(domain.Order{Code: "700100", State: domain.StateNew, Status: domain.StatusApprovedByBank,
		CreationMs: now.Add(-time.Hour).UnixMilli(), DeliveryMode: "DELIVERY_LOCAL", IsKaspiDelivery: true,
		Lines: []domain.Line{{SKU: "A", Name: "A", Quantity: 1, BasePrice: 10}}})
	const api = "application/vnd.api+json"
	cases := []struct {
		name   string
		ctype  string
		body   string
		status int
		want   string
	}{
		{"no JSON:API content type", "application/x-www-form-urlencoded", change(o.ID, "ACCEPTED_BY_MERCHANT", ""), 415, "Content-Type"},
		{"not JSON", api, "status=ACCEPTED_BY_MERCHANT", 400, "JSON:API"},
		{"no data", api, `{"id":"x"}`, 400, "JSON:API"},
		{"wrong type", api, strings.Replace(change(o.ID, "ACCEPTED_BY_MERCHANT", ""), `"orders"`, `"order"`, 1), 400, "data.type"},
		{"no id", api, change("", "ACCEPTED_BY_MERCHANT", ""), 400, "data.id"},
		{"unknown id", api, change("bm9wZQ", "ACCEPTED_BY_MERCHANT", ""), 404, "not found"},
		{"code of another order", api, strings.Replace(change(o.ID, "ACCEPTED_BY_MERCHANT", ""), "700100", "700999", 1), 400, "code"},
		{"no status", api, change(o.ID, "", ""), 400, "status"},
		{"unknown status", api, change(o.ID, "SHIPPED", ""), 400, "unknown status"},
		{"cancel without a reason", api, change(o.ID, "CANCELLED", ""), 400, kaspifake.TitleBadReason},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := post(t, srv.URL, c.ctype, c.body)
			if status != c.status || !strings.Contains(body, c.want) || !strings.Contains(body, `"errors"`) {
				t.Fatalf("answer %d %s, want %d with errors[] naming %q", status, body, c.status, c.want)
			}
		})
	}
	if got, _ := fake.Order("700100"); got.Status != domain.StatusApprovedByBank {
		t.Fatalf("a refused change moved the order to %s", got.Status)
	}

	// numberOfSpace may come as a string or a number (§6.2), but must be a
	// positive whole number.
	if status, body := post(t, srv.URL, api, change(o.ID, "ACCEPTED_BY_MERCHANT", "")); status != 200 {
		t.Fatalf("accept: %d %s", status, body)
	}
	for _, bad := range []string{`"0"`, `-1`, `1.5`, `"два"`, `null`} {
		if status, body := post(t, srv.URL, api, change(o.ID, "ASSEMBLE", `,"numberOfSpace":`+bad)); status != 400 {
			t.Fatalf("numberOfSpace %s: %d %s, want 400", bad, status, body)
		}
	}
	if status, body := post(t, srv.URL, api, change(o.ID, "ASSEMBLE", `,"numberOfSpace":"3"`)); status != 200 {
		t.Fatalf("numberOfSpace as a string: %d %s", status, body)
	}
	if n := fake.Parcels("700100"); n != 3 {
		t.Fatalf("parcels %d, want 3", n)
	}
}

// The completion steps need both headers: X-Send-Code: true always, and
// X-Security-Code present (empty to send the buyer a code).
func TestCompletionHeadersAreRequired(t *testing.T) {
	fake, srv := newFake(t)
	o := fake.AddOrder(domain.Order{Code: "700100", State: domain.StatePickup, Status: domain.StatusAcceptedByMerchant,
		CreationMs: now.Add(-time.Hour).UnixMilli(), DeliveryMode: "DELIVERY_PICKUP",
		Lines: []domain.Line{{SKU: "A", Name: "A", Quantity: 1, BasePrice: 10}}})
	const api = "application/vnd.api+json"
	body := change(o.ID, "COMPLETED", "")
	if status, _ := post(t, srv.URL, api, body); status != 400 {
		t.Fatalf("no headers: %d, want 400", status)
	}
	if status, _ := post(t, srv.URL, api, body, "X-Send-Code", "true"); status != 400 {
		t.Fatalf("no X-Security-Code: %d, want 400", status)
	}
	if _, ok := fake.SentCode("700100"); ok {
		t.Fatal("a refused request sent a code")
	}
	if status, b := post(t, srv.URL, api, body, "X-Send-Code", "true", "X-Security-Code", ""); status != 200 {
		t.Fatalf("send code: %d %s", status, b)
	}
	code, ok := fake.SentCode("700100")
	if !ok || len(code) != 4 {
		t.Fatalf("sent code %q", code)
	}
	if status, _ := post(t, srv.URL, api, body, "X-Security-Code", code); status != 400 {
		t.Fatalf("the right code without X-Send-Code: %d, want 400", status)
	}
	if status, b := post(t, srv.URL, api, body, "X-Send-Code", "true", "X-Security-Code", code); status != 200 {
		t.Fatalf("complete: %d %s", status, b)
	}
	if got, _ := fake.Order("700100"); got.Status != domain.StatusCompleted || got.State != domain.StateArchive {
		t.Fatalf("order %s/%s after completion", got.State, got.Status)
	}
}

// Every status change is logged with its order and answer, a refused one
// too: a second cancel of the same order is visible as such.
func TestChanges_LogsEveryStatusChangeWithItsAnswer(t *testing.T) {
	fake, srv := newFake(t)
	o := fake.AddOrder(domain.Order{Code: "700100", State: domain.StateNew, Status: domain.StatusApprovedByBank,
		CreationMs: now.Add(-time.Hour).UnixMilli(), DeliveryMode: "DELIVERY_PICKUP",
		Lines: []domain.Line{{SKU: "A", Name: "A", Quantity: 1, BasePrice: 10}}})
	const api = "application/vnd.api+json"
	cancel := change(o.ID, "CANCELLED", `,"cancellationReason":"BUYER_CANCELLATION_BY_MERCHANT"`)
	if st, body := post(t, srv.URL, api, cancel); st != 200 {
		t.Fatalf("first cancel: %d %s", st, body)
	}
	if st, _ := post(t, srv.URL, api, cancel); st != 400 {
		t.Fatalf("second cancel: %d", st)
	}
	post(t, srv.URL, api, change("nope", "CANCELLED", ""))
	got := fake.Changes()
	want := []kaspifake.Change{
		{OrderID: o.ID, Code: "700100", Status: "CANCELLED", Answer: 200},
		{OrderID: o.ID, Code: "700100", Status: "CANCELLED", Answer: 400},
		{OrderID: "nope", Status: "CANCELLED", Answer: 404},
	}
	if len(got) != len(want) {
		t.Fatalf("changes: %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("change %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
