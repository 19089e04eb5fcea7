package amocrm

import (
	"errors"
	"testing"

	"kaspi-amocrm/pkg/domain"
)

func TestAPIError_MessageAndKinds(t *testing.T) {
	for _, tc := range []struct {
		err  *APIError
		want string
		kind error
	}{
		{&APIError{Status: 402, Method: "POST", Path: "/api/v4/leads", Title: "Payment Required", Detail: msgUnpaid, RequestID: "r1", Kind: domain.ErrPaymentRequired},
			"amocrm: POST /api/v4/leads: HTTP 402 Payment Required: аккаунт amoCRM не оплачен [request r1]", domain.ErrPaymentRequired},
		{&APIError{Detail: msgBanned, Kind: domain.ErrBanned},
			"amocrm: " + msgBanned, domain.ErrBanned},
		{&APIError{Method: "GET", Path: "/api/v4/users", Kind: domain.ErrTransient, Err: errors.New("timeout")},
			"amocrm: GET /api/v4/users: no answer: timeout", domain.ErrTransient},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q; want %q", got, tc.want)
		}
		if !errors.Is(tc.err, tc.kind) {
			t.Errorf("%q does not unwrap to %v", tc.want, tc.kind)
		}
	}
}

func TestValidationError_PositionsMapToKeys(t *testing.T) {
	entries := []validationEntry{
		{RequestID: []byte(`"1"`), Errors: []struct {
			Code   string `json:"code"`
			Path   string `json:"path"`
			Detail string `json:"detail"`
		}{{Code: "NotSupportedChoice", Path: "to_entity_id", Detail: "bad"}}},
	}
	// Items sent without request_ids, keyed by lead id: the server's
	// position "1" names the second item.
	ve := validationError(entries, []string{"31000001", "31000002"})
	if len(ve.Items["31000002"]) != 1 || ve.Items["31000002"][0] != "to_entity_id: bad (NotSupportedChoice)" {
		t.Fatalf("items %v", ve.Items)
	}
	// Our own request_ids are kept as they are.
	ve = validationError(entries, []string{"0", "1"})
	if len(ve.Items["1"]) != 1 {
		t.Fatalf("items %v", ve.Items)
	}
}

func TestDelay_GrowsWithJitterAndFloor(t *testing.T) {
	c := &Client{backoff: defaultBackoff}
	for n := 1; n <= 10; n++ {
		d := c.delay(n, min429Pause)
		if d < min429Pause || d > maxBackoff*5/4 {
			t.Fatalf("delay(%d) = %v", n, d)
		}
	}
	if d := c.delay(3, 0); d < 3*defaultBackoff || d > 5*defaultBackoff {
		t.Fatalf("delay(3) = %v; want about 4×base", d)
	}
}
