package kaspifake_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
	"kaspi-amocrm/pkg/sandbox/orders"
)

const token = "dGVzdC10b2tlbi1mb3Ita2FzcGktZmFrZS0wMDAwMDA9"

var now = time.Date(2025, 7, 8, 7, 0, 0, 0, time.UTC)

func newFake(t *testing.T, opts ...func(*kaspifake.Options)) (*kaspifake.Server, *httptest.Server) {
	t.Helper()
	o := kaspifake.Options{Token: token, Now: func() time.Time { return now }, Seed: 1}
	for _, f := range opts {
		f(&o)
	}
	fake := kaspifake.New(o)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	return fake, srv
}

// params builds a valid list query; pairs override or (with "") delete keys.
func params(pairs ...string) string {
	q := url.Values{
		"page[number]":                      {"0"},
		"page[size]":                        {"100"},
		"filter[orders][creationDate][$ge]": {strconv.FormatInt(now.Add(-7*24*time.Hour).UnixMilli(), 10)},
		"filter[orders][creationDate][$le]": {strconv.FormatInt(now.UnixMilli(), 10)},
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			q.Del(pairs[i])
		} else {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	return q.Encode()
}

type answer struct {
	status int
	ctype  string
	body   []byte
}

func get(t *testing.T, srv *httptest.Server, path string, header ...string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", token)
	req.Header.Set("Accept", "application/vnd.api+json")
	req.Header.Set("Content-Type", "application/vnd.api+json")
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
		} else {
			req.Header.Set(header[i], header[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), b}
}

type listDoc struct {
	Data []struct {
		ID            string         `json:"id"`
		Attributes    map[string]any `json:"attributes"`
		Relationships struct {
			Entries struct {
				Data []struct{ Type, ID string } `json:"data"`
			} `json:"entries"`
		} `json:"relationships"`
	} `json:"data"`
	Included []struct {
		Type, ID string
	} `json:"included"`
	Meta struct {
		PageCount  int `json:"pageCount"`
		TotalCount int `json:"totalCount"`
	} `json:"meta"`
	Errors []struct {
		Title string `json:"title"`
	} `json:"errors"`
}

func decode(t *testing.T, a answer) listDoc {
	t.Helper()
	var d listDoc
	if err := json.Unmarshal(a.body, &d); err != nil {
		t.Fatalf("body %q: %v", a.body, err)
	}
	return d
}

func codes(d listDoc) []string {
	var out []string
	for _, o := range d.Data {
		out = append(out, o.Attributes["code"].(string))
	}
	return out
}

func addN(f *kaspifake.Server, n int, state string) []domain.Order {
	gen := orders.Generate(orders.Spec{N: n, Seed: 9, From: now.Add(-6 * 24 * time.Hour), To: now.Add(-time.Minute), States: []string{state}})
	f.AddOrders(gen)
	return gen
}

// Requests the real API refuses are refused: missing or oversized page
// parameters, a missing or non-numeric $ge, a window over 14 days, an
// unknown state; each with a JSON:API error that has a title.
func TestList_RejectsWhatKaspiRejects(t *testing.T) {
	_, srv := newFake(t)
	ge := now.Add(-20 * 24 * time.Hour).UnixMilli()
	cases := map[string]string{
		"no page number":    params("page[number]", ""),
		"no page size":      params("page[size]", ""),
		"page size 101":     params("page[size]", "101"),
		"page size 1000":    params("page[size]", "1000"),
		"page size 0":       params("page[size]", "0"),
		"negative page":     params("page[number]", "-1"),
		"no $ge":            params("filter[orders][creationDate][$ge]", ""),
		"$ge not a number":  params("filter[orders][creationDate][$ge]", "2025-07-01"),
		"$le not a number":  params("filter[orders][creationDate][$le]", "now"),
		"window 14d + 1ms":  params("filter[orders][creationDate][$ge]", strconv.FormatInt(now.UnixMilli()-14*86400000-1, 10)),
		"window 20d":        params("filter[orders][creationDate][$ge]", strconv.FormatInt(ge, 10)),
		"window 20d no $le": params("filter[orders][creationDate][$ge]", strconv.FormatInt(ge, 10), "filter[orders][creationDate][$le]", ""),
		"unknown state":     params("filter[orders][state]", "OPEN"),
		"unknown include":   params("include[orders]", "everything"),
	}
	for name, q := range cases {
		t.Run(name, func(t *testing.T) {
			a := get(t, srv, "/orders?"+q)
			d := decode(t, a)
			if a.status != http.StatusBadRequest || len(d.Errors) == 0 || d.Errors[0].Title == "" {
				t.Fatalf("status %d body %s", a.status, a.body)
			}
		})
	}
}

// What the documented API accepts is accepted: exactly 14 days, only $ge
// ($le defaults to now), no state filter (all states), a code lookup with
// no window, and brackets sent raw instead of percent-encoded.
func TestList_AcceptsDocumentedForms(t *testing.T) {
	f, srv := newFake(t)
	addN(f, 3, domain.StateNew)
	addN2 := orders.Generate(orders.Spec{N: 2, Seed: 10, CodeBase: 300000000, From: now.Add(-24 * time.Hour), To: now, States: []string{domain.StateArchive}})
	f.AddOrders(addN2)
	old := orders.Generate(orders.Spec{N: 1, Seed: 11, CodeBase: 200000000, From: now.Add(-100 * 24 * time.Hour), To: now.Add(-99 * 24 * time.Hour)})[0]
	f.AddOrder(old)

	exact := params("filter[orders][creationDate][$ge]", strconv.FormatInt(now.UnixMilli()-14*86400000, 10))
	if a := get(t, srv, "/orders?"+exact); a.status != http.StatusOK || decode(t, a).Meta.TotalCount != 5 {
		t.Errorf("14 days exactly: %d %s", a.status, a.body)
	}
	onlyGe := params("filter[orders][creationDate][$le]", "")
	if a := get(t, srv, "/orders?"+onlyGe); a.status != http.StatusOK || decode(t, a).Meta.TotalCount != 5 {
		t.Errorf("only $ge: %d %s", a.status, a.body)
	}
	if d := decode(t, get(t, srv, "/orders?"+params("filter[orders][state]", domain.StateArchive))); d.Meta.TotalCount != 2 {
		t.Errorf("state filter: %d", d.Meta.TotalCount)
	}
	if d := decode(t, get(t, srv, "/orders?"+params("filter[orders][status]", domain.StatusApprovedByBank))); d.Meta.TotalCount != 3 {
		t.Errorf("status filter: %d", d.Meta.TotalCount)
	}
	byCode := "/orders?page[number]=0&page[size]=10&filter[orders][code]=" + old.Code
	if d := decode(t, get(t, srv, byCode)); len(d.Data) != 1 || d.Data[0].ID != old.ID {
		t.Errorf("by code: %+v", d)
	}
	raw := fmt.Sprintf("/orders?page[number]=0&page[size]=100&filter[orders][creationDate][$ge]=%d&filter[orders][state]=NEW", now.Add(-7*24*time.Hour).UnixMilli())
	if a := get(t, srv, raw); a.status != http.StatusOK || decode(t, a).Meta.TotalCount != 3 {
		t.Errorf("raw brackets: %d %s", a.status, a.body)
	}
}

// A wrong or missing X-Auth-Token (or a Bearer header) is a 401; a request
// without Accept gets the HTML 404 the real API gives.
func TestAuthAndAccept(t *testing.T) {
	_, srv := newFake(t)
	for name, h := range map[string][]string{
		"wrong token":  {"X-Auth-Token", "nope"},
		"no token":     {"X-Auth-Token", ""},
		"bearer token": {"X-Auth-Token", "", "Authorization", "Bearer " + token},
	} {
		a := get(t, srv, "/orders?"+params(), h...)
		if a.status != http.StatusUnauthorized || len(decode(t, a).Errors) == 0 {
			t.Errorf("%s: %d %s", name, a.status, a.body)
		}
	}
	a := get(t, srv, "/orders?"+params(), "Accept", "")
	if a.status != http.StatusNotFound || !strings.HasPrefix(a.ctype, "text/html") || json.Valid(a.body) {
		t.Errorf("no Accept: %d %s %q", a.status, a.ctype, a.body)
	}
	if a := get(t, srv, "/orders?"+params(), "Accept", "*/*"); a.status != http.StatusOK {
		t.Errorf("Accept */*: %d", a.status)
	}
}

// Pages split the result by page[size] with meta.pageCount/totalCount; the
// order is shuffled (not by creationDate) but stable across the pages of
// one listing, so the pages partition the result.
func TestList_PaginationAndShuffledOrder(t *testing.T) {
	f, srv := newFake(t)
	gen := addN(f, 250, domain.StateNew)
	var all []string
	for p := range 3 {
		d := decode(t, get(t, srv, "/orders?"+params("page[number]", strconv.Itoa(p))))
		if d.Meta.PageCount != 3 || d.Meta.TotalCount != 250 {
			t.Fatalf("meta %+v", d.Meta)
		}
		if want := []int{100, 100, 50}[p]; len(d.Data) != want {
			t.Fatalf("page %d has %d", p, len(d.Data))
		}
		all = append(all, codes(d)...)
	}
	if d := decode(t, get(t, srv, "/orders?"+params("page[number]", "3"))); len(d.Data) != 0 || d.Meta.PageCount != 3 {
		t.Errorf("page past the end: %+v", d.Meta)
	}
	var want []string
	for _, o := range gen {
		want = append(want, o.Code)
	}
	if slices.Equal(all, want) {
		t.Error("result is in creationDate order")
	}
	sorted := slices.Clone(all)
	sort.Strings(sorted)
	sort.Strings(want)
	if !slices.Equal(sorted, want) {
		t.Error("pages do not partition the result")
	}
	other := decode(t, get(t, srv, "/orders?"+params("page[size]", "50")))
	if slices.Equal(codes(other), all[:50]) {
		t.Error("another query got the same order")
	}
}

// include[orders]=entries puts the lines into included and their ids into
// relationships.entries.data; include[orders]=user adds customers.
func TestList_IncludeEntriesAndUser(t *testing.T) {
	f, srv := newFake(t)
	gen := addN(f, 5, domain.StateNew)
	lines := 0
	for _, o := range gen {
		lines += len(o.Lines)
	}
	d := decode(t, get(t, srv, "/orders?"+params("include[orders]", "entries")))
	if len(d.Included) != lines {
		t.Fatalf("%d included for %d lines", len(d.Included), lines)
	}
	ids := map[string]bool{}
	for _, inc := range d.Included {
		if inc.Type != "orderentries" {
			t.Fatalf("included type %s", inc.Type)
		}
		ids[inc.ID] = true
	}
	for _, o := range d.Data {
		if len(o.Relationships.Entries.Data) == 0 {
			t.Fatalf("order %s has no entry ids", o.ID)
		}
		for _, e := range o.Relationships.Entries.Data {
			if !ids[e.ID] || e.Type != "orderentries" {
				t.Fatalf("entry %v not included", e)
			}
		}
	}
	d = decode(t, get(t, srv, "/orders?"+params("include[orders]", "user")))
	if len(d.Included) != 5 || d.Included[0].Type != "customers" {
		t.Fatalf("user include %+v", d.Included)
	}
	d = decode(t, get(t, srv, "/orders?"+params()))
	if len(d.Included) != 0 || len(d.Data[0].Relationships.Entries.Data) != 0 {
		t.Fatal("lines included without include")
	}
}

// An order becomes visible only at its VisibleAt, on every endpoint.
func TestVisibleAt(t *testing.T) {
	clock := now
	f, srv := newFake(t, func(o *kaspifake.Options) { o.Now = func() time.Time { return clock } })
	o := addN(f, 1, domain.StateNew)[0]
	if err := f.SetVisibleAt(o.Code, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if d := decode(t, get(t, srv, "/orders?"+params())); len(d.Data) != 0 {
		t.Fatal("hidden order listed")
	}
	if a := get(t, srv, "/orders/"+url.PathEscape(o.ID)+"/entries"); a.status != http.StatusNotFound {
		t.Fatalf("hidden entries: %d", a.status)
	}
	clock = now.Add(time.Hour)
	if d := decode(t, get(t, srv, "/orders?"+params("filter[orders][creationDate][$le]", ""))); len(d.Data) != 1 {
		t.Fatal("visible order not listed")
	}
}

// GET /orders/{id} and /orders/{id}/entries resolve URL-escaped ids; an
// unknown id is a JSON 404.
func TestOrderAndEntriesByID(t *testing.T) {
	f, srv := newFake(t)
	o := addN(f, 1, domain.StateNew)[0]
	o.ID, o.Code = "a/b+c=", "123123123"
	f.AddOrder(o)
	a := get(t, srv, "/orders/"+url.PathEscape(o.ID))
	var single struct {
		Data struct {
			ID         string         `json:"id"`
			Attributes map[string]any `json:"attributes"`
		} `json:"data"`
	}
	if err := json.Unmarshal(a.body, &single); err != nil || a.status != 200 || single.Data.ID != o.ID {
		t.Fatalf("by id: %d %s", a.status, a.body)
	}
	a = get(t, srv, "/shop/api/v2/orders/"+url.PathEscape(o.ID)+"/entries")
	if d := decode(t, a); a.status != 200 || len(d.Data) != len(o.Lines) {
		t.Fatalf("entries: %d %s", a.status, a.body)
	}
	a = get(t, srv, "/orders/bm9uZQ/entries")
	if d := decode(t, a); a.status != http.StatusNotFound || len(d.Errors) == 0 {
		t.Fatalf("unknown id: %d %s", a.status, a.body)
	}
}

// Faults hit only their endpoint, in order, for the requested count, and
// the request log records them.
func TestFaults(t *testing.T) {
	f, srv := newFake(t)
	o := addN(f, 1, domain.StateNew)[0]
	f.Fail(kaspifake.EndpointEntries, kaspifake.ServerError(), 1)
	f.Fail(kaspifake.EndpointEntries, kaspifake.HTMLPage(), 1)
	f.Fail(kaspifake.EndpointList, kaspifake.TooManyRequests(), 1)
	f.Fail(kaspifake.EndpointList, kaspifake.MalformedJSON(), 1)
	entries := "/orders/" + url.PathEscape(o.ID) + "/entries"

	if a := get(t, srv, entries); a.status != 503 || !json.Valid(a.body) {
		t.Errorf("first entries: %d", a.status)
	}
	if a := get(t, srv, entries); a.status != 200 || json.Valid(a.body) {
		t.Errorf("second entries: %d %q", a.status, a.body)
	}
	if a := get(t, srv, entries); a.status != 200 || !json.Valid(a.body) {
		t.Errorf("third entries: %d", a.status)
	}
	if a := get(t, srv, "/orders?"+params()); a.status != 429 {
		t.Errorf("first list: %d", a.status)
	}
	if a := get(t, srv, "/orders?"+params()); a.status != 200 || json.Valid(a.body) {
		t.Errorf("second list: %d %q", a.status, a.body)
	}
	if a := get(t, srv, "/orders?"+params()); a.status != 200 || !json.Valid(a.body) {
		t.Errorf("third list: %d", a.status)
	}
	var got []string
	for _, r := range f.Requests() {
		got = append(got, fmt.Sprintf("%s %d %v", r.Endpoint, r.Status, r.Fault))
	}
	want := []string{"entries 503 true", "entries 200 true", "entries 200 false", "list 429 true", "list 200 true", "list 200 false"}
	if !slices.Equal(got, want) {
		t.Errorf("log %v", got)
	}
	if f.RequestCount() != 6 {
		t.Errorf("count %d", f.RequestCount())
	}
	f.ResetRequests()
	if f.RequestCount() != 0 {
		t.Error("log not reset")
	}
}

// Mutations change what the API answers: status, partial cancellation,
// total; Orders returns every stored order, oldest first.
func TestMutations(t *testing.T) {
	f, _ := newFake(t)
	gen := addN(f, 3, domain.StateNew)
	o := gen[1]
	if len(o.Lines) < 1 {
		t.Fatal("no lines")
	}
	if err := f.SetStatus(o.Code, domain.StateArchive, domain.StatusCancelled, "MERCHANT_OUT_OF_STOCK"); err != nil {
		t.Fatal(err)
	}
	before, _ := f.Order(o.Code)
	if err := f.RemoveLine(o.Code, before.Lines[0].EntryNumber); err != nil {
		t.Fatal(err)
	}
	after, _ := f.Order(o.Code)
	if after.State != domain.StateArchive || after.Status != domain.StatusCancelled || after.CancellationReason != "MERCHANT_OUT_OF_STOCK" ||
		len(after.Lines) != len(before.Lines)-1 || after.TotalPrice != before.TotalPrice-before.Lines[0].TotalPrice {
		t.Fatalf("after %+v", after)
	}
	if err := f.SetTotal(o.Code, 1.5); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Order(o.Code); got.TotalPrice != 1.5 {
		t.Fatal("total not set")
	}
	if err := f.SetStatus("000000000", "", "", ""); err == nil {
		t.Fatal("unknown code accepted")
	}
	all := f.Orders()
	if len(all) != 3 || all[0].Code != gen[0].Code || all[2].Code != gen[2].Code {
		t.Fatalf("orders %v", all)
	}
}

// The fake's documents have the shape of the documented examples: the same
// attribute and relationship names at every level, for a pickup order, a
// Kaspi Delivery order and an order entry.
func TestShapeMatchesDocumentedExamples(t *testing.T) {
	exPage := readJSON(t, "../../kaspi/testdata/orders_page.json")
	exEntries := readJSON(t, "../../kaspi/testdata/entries.json")

	f, srv := newFake(t)
	pickup := addN(f, 1, domain.StateNew)[0]
	pickup.DeliveryMode, pickup.IsKaspiDelivery, pickup.Address, pickup.Waybill = "DELIVERY_PICKUP", false, nil, ""
	f.AddOrder(pickup)
	kd := orders.Generate(orders.Spec{N: 1, Seed: 12, CodeBase: 300000000, From: now.Add(-2 * time.Hour), To: now.Add(-time.Hour), States: []string{domain.StateKaspiDelivery}})[0]
	kd.DeliveryMode, kd.IsKaspiDelivery, kd.Waybill, kd.WaybillNumber = "DELIVERY_REGIONAL_TODOOR", true, "https://kaspi.kz/shop/api/waybill/x.pdf", "101234567"
	kd.Address = &domain.Address{Town: "Астана", StreetName: "улица Кабанбай батыра", StreetNumber: "53", Apartment: "41", Formatted: "Астана, ..."}
	f.AddOrder(kd)

	page := readAnswer(t, get(t, srv, "/orders?"+params()))
	exOrders := exPage["data"].([]any)
	byCode := map[string]any{}
	for _, o := range page["data"].([]any) {
		byCode[o.(map[string]any)["attributes"].(map[string]any)["code"].(string)] = o
	}
	compareShape(t, "pickup order", exOrders[0], byCode[pickup.Code])
	compareShape(t, "kaspi delivery order", exOrders[1], byCode[kd.Code])
	compareShape(t, "list meta", exPage["meta"], page["meta"])

	entries := readAnswer(t, get(t, srv, "/orders/"+url.PathEscape(kd.ID)+"/entries"))
	compareShape(t, "entry", exEntries["data"].([]any)[0], entries["data"].([]any)[0])
}

func readJSON(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func readAnswer(t *testing.T, a answer) map[string]any {
	t.Helper()
	var v map[string]any
	if a.status != 200 || json.Unmarshal(a.body, &v) != nil {
		t.Fatalf("%d %s", a.status, a.body)
	}
	return v
}

// compareShape requires the same object keys at every level and the same
// JSON kinds where both sides are non-null (null stands for "any kind").
func compareShape(t *testing.T, path string, want, got any) {
	t.Helper()
	if want == nil || got == nil {
		return
	}
	if reflect.TypeOf(want) != reflect.TypeOf(got) {
		t.Errorf("%s: kind %T, example has %T", path, got, want)
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for k := range w {
			if _, ok := g[k]; !ok {
				t.Errorf("%s: missing %q", path, k)
			}
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				t.Errorf("%s: extra %q", path, k)
			}
		}
		for k := range w {
			compareShape(t, path+"."+k, w[k], g[k])
		}
	case []any:
		g := got.([]any)
		if len(w) > 0 && len(g) > 0 {
			compareShape(t, path+"[0]", w[0], g[0])
		}
	}
}

// One address serves several stores: each token lists only its own
// store's orders, and an unknown token is refused.
func TestStores_EachTokenSeesItsOwnOrders(t *testing.T) {
	one := kaspifake.New(kaspifake.Options{Token: "token-one"})
	two := kaspifake.New(kaspifake.Options{Token: "token-two"})
	one.AddOrder(domain.Order{Code: "100000001", State: domain.StateNew, Status: domain.StatusApprovedByBank, CreationMs: time.Now().Add(-time.Hour).UnixMilli()})
	two.AddOrder(domain.Order{Code: "200000001", State: domain.StateNew, Status: domain.StatusApprovedByBank, CreationMs: time.Now().Add(-time.Hour).UnixMilli()})
	srv := httptest.NewServer(kaspifake.Stores(one, two))
	defer srv.Close()
	get := func(token, code string) int {
		req, _ := http.NewRequest("GET", srv.URL+"/orders?filter%5Borders%5D%5Bcode%5D="+code+"&page%5Bnumber%5D=0&page%5Bsize%5D=10", nil)
		req.Header.Set("X-Auth-Token", token)
		req.Header.Set("Accept", "application/vnd.api+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc struct {
			Data []json.RawMessage `json:"data"`
		}
		if resp.StatusCode == http.StatusOK {
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			return len(doc.Data)
		}
		return -resp.StatusCode
	}
	if get("token-one", "100000001") != 1 || get("token-one", "200000001") != 0 {
		t.Error("store one sees another store's order or misses its own")
	}
	if get("token-two", "200000001") != 1 || get("token-two", "100000001") != 0 {
		t.Error("store two sees another store's order or misses its own")
	}
	if n := get("revoked", "100000001"); n != -http.StatusUnauthorized {
		t.Errorf("unknown token: %d", n)
	}
}
