package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

func start(t *testing.T, cfg sandbox.Config) *sandbox.Sandbox {
	t.Helper()
	sb, err := sandbox.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close(context.Background()) })
	return sb
}

// env parses KEY=VALUE lines, skipping comments.
func env(lines string) map[string]string {
	m := map[string]string{}
	for _, l := range strings.Split(lines, "\n") {
		if k, v, ok := strings.Cut(l, "="); ok && !strings.HasPrefix(l, "#") {
			m[k] = v
		}
	}
	return m
}

func get(t *testing.T, u string, header map[string]string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", u, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func TestEnvLines_PointAtBothFakesWithWorkingCredentials(t *testing.T) {
	sb := start(t, sandbox.Config{SeedOrders: 5, Seed: 7, AmoRPS: -1})
	e := env(sb.EnvLines())
	for _, key := range []string{"KASPI_API_BASE", "KASPI_API_TOKEN", "AMO_SUBDOMAIN", "AMO_CLIENT_ID",
		"AMO_CLIENT_SECRET", "AMO_REDIRECT_URI", "AMO_ACCESS_TOKEN", "AMO_REFRESH_TOKEN", "AMO_PIPELINE_ID",
		"AMO_STATUS_ID", "AMO_CATALOG_ID", "AMO_LEAD_ORDER_CODE_FIELD_ID", "AMO_STATUS_MAP"} {
		if e[key] == "" {
			t.Errorf("%s missing", key)
		}
	}
	status, body := get(t, e["AMO_SUBDOMAIN"]+"/api/v4/account", map[string]string{"Authorization": "Bearer " + e["AMO_ACCESS_TOKEN"]})
	if status != http.StatusOK {
		t.Fatalf("amoCRM account: %d %s", status, body)
	}
	if n := len(sb.Kaspi.Orders()); n != 5 {
		t.Errorf("%d seeded orders", n)
	}
	code := sb.Kaspi.Orders()[0].Code
	status, body = get(t, e["KASPI_API_BASE"]+"/orders?page[number]=0&page[size]=20&filter[orders][code]="+code, map[string]string{
		"X-Auth-Token": e["KASPI_API_TOKEN"], "Accept": "application/vnd.api+json"})
	if status != http.StatusOK || !strings.Contains(string(body), code) {
		t.Errorf("kaspi lookup: %d %s", status, body)
	}
}

func TestAdmin_MovesKaspiOrdersAndShowsAmoEntities(t *testing.T) {
	sb := start(t, sandbox.Config{SeedOrders: 2, AmoRPS: -1})
	code := sb.Kaspi.Orders()[0].Code
	res, err := http.PostForm(sb.AmoURL+"/_sandbox/orders/status", url.Values{
		"code": {code}, "state": {domain.StateArchive}, "status": {domain.StatusCancelled}, "reason": {"BUYER_CANCELLATION_BY_MERCHANT"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status change: %d", res.StatusCode)
	}
	if o, _ := sb.Kaspi.Order(code); o.Status != domain.StatusCancelled || o.State != domain.StateArchive {
		t.Errorf("order %+v", o)
	}
	res, _ = http.PostForm(sb.AmoURL+"/_sandbox/orders/status", url.Values{"code": {code}, "status": {"LOST"}})
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown status accepted: %d", res.StatusCode)
	}
	res, _ = http.PostForm(sb.AmoURL+"/_sandbox/orders/new", url.Values{"n": {"3"}})
	res.Body.Close()
	if n := len(sb.Kaspi.Orders()); n != 5 {
		t.Errorf("%d orders after adding 3", n)
	}

	sb.Amo.AddContact("Покупатель", "8 (701) 123-45-67")
	status, body := get(t, sb.AmoURL+"/_sandbox/contacts", nil)
	var contacts []amofake.Contact
	if status != http.StatusOK || json.Unmarshal(body, &contacts) != nil || len(contacts) != 1 {
		t.Errorf("contacts: %d %s", status, body)
	}
	// Admin calls are neither rate limited nor counted as API requests.
	status, body = get(t, sb.AmoURL+"/_sandbox/stats", nil)
	var st sandbox.Stats
	if status != http.StatusOK || json.Unmarshal(body, &st) != nil || st.AmoRequests != 0 || st.KaspiOrders != 5 {
		t.Errorf("stats: %d %s", status, body)
	}
}

// The sandbox serves several Kaspi stores at one address: the .env lines
// name each store's token, the orders are dealt out among them, and each
// token lists only its own store's orders.
func TestSandbox_SeveralKaspiStores(t *testing.T) {
	sb := start(t, sandbox.Config{KaspiStores: 2, SeedOrders: 6})
	e := env(sb.EnvLines())
	if e["KASPI_API_TOKEN_2"] == "" || e["KASPI_API_TOKEN_2"] == e["KASPI_API_TOKEN"] || e["KASPI_STORE_NAME_2"] == "" {
		t.Fatalf("env lines: %q", e)
	}
	if len(sb.KaspiStores) != 2 || len(sb.KaspiStores[0].Orders()) != 3 || len(sb.KaspiStores[1].Orders()) != 3 {
		t.Fatalf("orders not dealt out: %d stores", len(sb.KaspiStores))
	}
	for i, tok := range []string{e["KASPI_API_TOKEN"], e["KASPI_API_TOKEN_2"]} {
		own := sb.KaspiStores[i].Orders()[0].Code
		other := sb.KaspiStores[1-i].Orders()[0].Code
		for code, want := range map[string]bool{own: true, other: false} {
			q := url.Values{"filter[orders][code]": {code}, "page[number]": {"0"}, "page[size]": {"10"}}
			status, body := get(t, sb.KaspiURL+"/orders?"+q.Encode(), map[string]string{"X-Auth-Token": tok, "Accept": "application/vnd.api+json"})
			var doc struct{ Data []json.RawMessage }
			if status != http.StatusOK || json.Unmarshal(body, &doc) != nil || (len(doc.Data) == 1) != want {
				t.Errorf("store %d, order %s: %d %s", i+1, code, status, body)
			}
		}
	}
}
