package kaspi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/kaspi"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
	"kaspi-amocrm/pkg/sandbox/orders"
)

// These tests run the client against the strict fake: every documented
// rule the client depends on, every error class and the retry rule.

const testToken = "dGVzdC10b2tlbi1mb3Ita2FzcGktZmFrZS0wMDAwMDA9"

// start is the fake's clock at the beginning of every test.
var start = time.Date(2025, 7, 8, 7, 0, 0, 0, time.UTC)

// clock is a settable clock for the fake.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type env struct {
	fake   *kaspifake.Server
	srv    *httptest.Server
	clock  *clock
	client *kaspi.Client
	cfg    kaspi.Config
}

type option func(*kaspifake.Options, *kaspi.Config)

func ignoreInclude(o *kaspifake.Options, _ *kaspi.Config) { o.IgnoreInclude = true }

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	clk := &clock{t: start}
	fo := kaspifake.Options{Token: testToken, Now: clk.Now, Seed: 7}
	cfg := kaspi.Config{Token: testToken, RetryBase: time.Millisecond, Timeout: 5 * time.Second}
	for _, o := range opts {
		o(&fo, &cfg)
	}
	fake := kaspifake.New(fo)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	if cfg.BaseURL == "" {
		cfg.BaseURL = srv.URL
	}
	return &env{fake: fake, srv: srv, clock: clk, client: kaspi.New(cfg), cfg: cfg}
}

func order(code string, created time.Time, state string, lines ...domain.Line) domain.Order {
	if len(lines) == 0 {
		lines = []domain.Line{{SKU: "SKU-" + code, Name: "Товар " + code, Quantity: 1, BasePrice: 1000}}
	}
	return domain.Order{
		Code: code, State: state, Status: domain.StatusApprovedByBank, CreationMs: created.UnixMilli(),
		PaymentMode: "PREPAID", DeliveryMode: "DELIVERY_PICKUP", PickupPointID: "30012345_PP1",
		Customer: domain.Customer{ID: "Q3VzdA", FirstName: "Айгерим", LastName: "Сапарова", Phone: "7011234567"},
		Lines:    lines,
	}
}

func list(c *kaspi.Client, state string, from, to time.Time) (map[string]domain.Order, error) {
	got := map[string]domain.Order{}
	var dup error
	err := c.ListOrders(context.Background(), state, from.UnixMilli(), to.UnixMilli(), func(o domain.Order) error {
		if _, ok := got[o.Code]; ok && dup == nil {
			dup = errors.New("order " + o.Code + " passed twice")
		}
		got[o.Code] = o
		return nil
	})
	if err == nil {
		err = dup
	}
	return got, err
}

func mustList(t *testing.T, c *kaspi.Client, state string, from, to time.Time) map[string]domain.Order {
	t.Helper()
	got, err := list(c, state, from, to)
	if err != nil {
		t.Fatalf("ListOrders: %v", err)
	}
	return got
}

func listRequests(f *kaspifake.Server) []kaspifake.Request {
	var out []kaspifake.Request
	for _, r := range f.Requests() {
		if r.Endpoint == kaspifake.EndpointList {
			out = append(out, r)
		}
	}
	return out
}

func qInt(t *testing.T, r kaspifake.Request, key string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(r.Query.Get(key), 10, 64)
	if err != nil {
		t.Fatalf("%s: %s is %q", r.Path, key, r.Query.Get(key))
	}
	return n
}

// Orders come back with their lines from include[orders]=entries, without
// one extra request per order.
func TestListOrders_LinesFromIncludedEntries(t *testing.T) {
	e := newEnv(t)
	e.fake.AddOrder(order("612345678", start.Add(-time.Hour), domain.StateNew,
		domain.Line{SKU: "TEF-PAN-28", Name: "Сковорода", Quantity: 1, BasePrice: 24990},
		domain.Line{SKU: "TEF-LID-28", Name: "Крышка", Quantity: 2, BasePrice: 3500}))
	got := mustList(t, e.client, domain.StateNew, start.Add(-24*time.Hour), start)
	o := got["612345678"]
	if !o.LinesLoaded || len(o.Lines) != 2 || o.Lines[1].SKU != "TEF-LID-28" || o.Lines[1].Quantity != 2 || o.TotalPrice != 31990 {
		t.Fatalf("got %+v", o)
	}
	for _, r := range e.fake.Requests() {
		if r.Endpoint != kaspifake.EndpointList || r.Query.Get("include[orders]") != "entries" {
			t.Errorf("unexpected request %s %s", r.Method, r.Path)
		}
	}
}

// Every request carries X-Auth-Token, Accept and Content-Type
// application/vnd.api+json and a User-Agent; the page size is 100.
func TestClient_SendsDocumentedHeadersAndPageSize(t *testing.T) {
	e := newEnv(t)
	e.fake.AddOrder(order("100000001", start.Add(-time.Hour), domain.StateNew))
	mustList(t, e.client, domain.StateNew, start.Add(-time.Hour*2), start)
	if _, err := e.client.OrderByCode(context.Background(), "100000001"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.client.Entries(context.Background(), orders.ID("100000001")); err != nil {
		t.Fatal(err)
	}
	reqs := e.fake.Requests()
	if len(reqs) < 3 {
		t.Fatalf("only %d requests", len(reqs))
	}
	for _, r := range reqs {
		if !r.TokenOK || r.Accept != "application/vnd.api+json" || r.ContentType != "application/vnd.api+json" || r.UserAgent == "" {
			t.Errorf("%s: token %v accept %q content-type %q ua %q", r.Path, r.TokenOK, r.Accept, r.ContentType, r.UserAgent)
		}
		if r.Endpoint == kaspifake.EndpointList && (r.Query.Get("page[size]") != "100" || r.Query.Get("page[number]") == "") {
			t.Errorf("%s: page params %v", r.Path, r.Query)
		}
	}
	if e.client.Requests() != len(reqs) {
		t.Errorf("client counted %d requests, fake saw %d", e.client.Requests(), len(reqs))
	}
}

// creationDate bounds are epoch milliseconds, and each request asks for one
// state only.
func TestListOrders_MillisecondBoundsAndOneStatePerRequest(t *testing.T) {
	e := newEnv(t)
	from, to := start.Add(-48*time.Hour), start
	mustList(t, e.client, domain.StatePickup, from, to)
	reqs := listRequests(e.fake)
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if qInt(t, r, "filter[orders][creationDate][$ge]") != from.UnixMilli() || qInt(t, r, "filter[orders][creationDate][$le]") != to.UnixMilli() {
		t.Errorf("bounds %v", r.Query)
	}
	if st := r.Query["filter[orders][state]"]; len(st) != 1 || st[0] != domain.StatePickup {
		t.Errorf("state filter %v", st)
	}
}

// A 30-day range is split into windows whose $le − $ge never exceeds 14
// days; the windows neither overlap nor leave gaps, and orders on window
// edges arrive exactly once.
func TestListOrders_SplitsThirtyDaysIntoFourteenDayWindows(t *testing.T) {
	e := newEnv(t)
	from, to := start.Add(-30*24*time.Hour), start
	var want []string
	for i := range 31 {
		ts := from.Add(time.Duration(i) * 24 * time.Hour)
		if ts.After(to) {
			break
		}
		code := strconv.Itoa(200000000 + i)
		e.fake.AddOrder(order(code, ts, domain.StateNew))
		want = append(want, code)
	}
	// Orders exactly on the edges of the second window.
	second := kaspi.Windows(from.UnixMilli(), to.UnixMilli())[1]
	for i, ms := range []int64{second.From - 1, second.From, second.To, second.To + 1} {
		code := strconv.Itoa(300000000 + i)
		e.fake.AddOrder(order(code, time.UnixMilli(ms), domain.StateNew))
		want = append(want, code)
	}
	got := mustList(t, e.client, domain.StateNew, from, to)
	for _, c := range want {
		if _, ok := got[c]; !ok {
			t.Errorf("order %s missing", c)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d orders, want %d", len(got), len(want))
	}
	reqs := listRequests(e.fake)
	if len(reqs) < 3 {
		t.Fatalf("30 days in %d requests", len(reqs))
	}
	next := from.UnixMilli()
	for _, r := range reqs {
		if r.Status != http.StatusOK {
			t.Errorf("%s: %d", r.Path, r.Status)
		}
		ge, le := qInt(t, r, "filter[orders][creationDate][$ge]"), qInt(t, r, "filter[orders][creationDate][$le]")
		if le-ge > (14 * 24 * time.Hour).Milliseconds() {
			t.Errorf("window of %v", time.Duration(le-ge)*time.Millisecond)
		}
		if ge != next {
			t.Errorf("window starts at %d, want %d", ge, next)
		}
		next = le + 1
	}
	if next != to.UnixMilli()+1 {
		t.Errorf("windows end at %d, want %d", next-1, to.UnixMilli())
	}
}

// Pages 0..meta.pageCount-1 are all read, even when a page in the middle is
// short: stopping at a short page would lose the orders of the last one.
func TestListOrders_ReadsEveryPageDespiteShortMiddlePage(t *testing.T) {
	clk := &clock{t: start}
	fake := kaspifake.New(kaspifake.Options{Token: testToken, Now: clk.Now, Seed: 3})
	for i := range 250 {
		fake.AddOrder(order(strconv.Itoa(400000000+i), start.Add(-time.Duration(i+1)*time.Minute), domain.StateNew))
	}
	// The middle page loses 60 of its orders on the way, as if they had
	// moved; its meta still promises three pages.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("page[number]") != "1" {
			fake.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		fake.ServeHTTP(rec, r)
		body := truncateData(t, rec.Body.Bytes(), 40)
		w.Header().Set("Content-Type", rec.Header().Get("Content-Type"))
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c := kaspi.New(kaspi.Config{BaseURL: srv.URL, Token: testToken, RetryBase: time.Millisecond})

	got := mustList(t, c, domain.StateNew, start.Add(-24*time.Hour), start)
	if len(got) != 190 {
		t.Fatalf("got %d orders, want 100 + 40 + 50", len(got))
	}
	var pages []string
	for _, r := range listRequests(fake) {
		pages = append(pages, r.Query.Get("page[number]"))
	}
	if !slices.Equal(pages, []string{"0", "1", "2"}) {
		t.Fatalf("pages requested %v", pages)
	}
}

// Results come in no particular order; listing 1000 orders over many pages
// still passes each exactly once.
func TestListOrders_ManyPagesAnyOrder(t *testing.T) {
	e := newEnv(t)
	gen := orders.Generate(orders.Spec{N: 1000, Phones: 300, Seed: 5, States: []string{domain.StateNew},
		From: start.Add(-10 * 24 * time.Hour), To: start})
	e.fake.AddOrders(gen)
	got := mustList(t, e.client, domain.StateNew, start.Add(-10*24*time.Hour), start)
	if len(got) != len(gen) {
		t.Fatalf("got %d of %d", len(got), len(gen))
	}
	for _, o := range gen {
		g, ok := got[o.Code]
		if !ok || g.ID != o.ID || g.TotalPrice != o.TotalPrice || len(g.Lines) != len(o.Lines) || g.Customer.Phone != o.Customer.Phone {
			t.Fatalf("order %s: got %+v want %+v", o.Code, g, o)
		}
	}
	if n := len(listRequests(e.fake)); n != 10 {
		t.Errorf("%d list requests for 1000 orders", n)
	}
}

// An order created at 10:00 may only become visible at 10:20: a later
// listing of the same range finds it.
func TestListOrders_LateVisibleOrderFoundOnRescan(t *testing.T) {
	e := newEnv(t)
	created := start.Add(-10 * time.Minute)
	e.fake.AddOrder(order("500000001", created, domain.StateNew))
	if err := e.fake.SetVisibleAt("500000001", start.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	from := start.Add(-time.Hour)
	if got := mustList(t, e.client, domain.StateNew, from, start); len(got) != 0 {
		t.Fatalf("hidden order listed: %v", got)
	}
	if _, err := e.client.OrderByCode(context.Background(), "500000001"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("hidden order by code: %v", err)
	}
	e.clock.Set(start.Add(20 * time.Minute))
	got := mustList(t, e.client, domain.StateNew, from, start.Add(20*time.Minute))
	if o, ok := got["500000001"]; !ok || o.CreationMs != created.UnixMilli() {
		t.Fatalf("late order not found: %v", got)
	}
}

// When the list answer carries no included lines, each order's lines come
// from GET /orders/{id}/entries, with the id URL-escaped.
func TestListOrders_FallsBackToEntriesWithEscapedIDs(t *testing.T) {
	e := newEnv(t, ignoreInclude)
	odd := order("600000001", start.Add(-time.Hour), domain.StateNew,
		domain.Line{SKU: "A-1", Name: "Товар А", Quantity: 3, BasePrice: 100})
	odd.ID = "ab/c+d=e_f-g=="
	e.fake.AddOrder(odd)
	e.fake.AddOrder(order("600000002", start.Add(-2*time.Hour), domain.StateNew))
	got := mustList(t, e.client, domain.StateNew, start.Add(-24*time.Hour), start)
	o := got["600000001"]
	if o.ID != odd.ID || !o.LinesLoaded || len(o.Lines) != 1 || o.Lines[0].SKU != "A-1" || o.Lines[0].Quantity != 3 {
		t.Fatalf("got %+v", o)
	}
	if !got["600000002"].LinesLoaded {
		t.Fatal("second order lines not loaded")
	}
	var entries []string
	for _, r := range e.fake.Requests() {
		if r.Endpoint == kaspifake.EndpointEntries {
			if r.Status != http.StatusOK {
				t.Errorf("%s: %d", r.Path, r.Status)
			}
			entries = append(entries, r.Path)
		}
	}
	if len(entries) != 2 || !slices.Contains(entries, "/orders/ab%2Fc+d=e_f-g==/entries") {
		t.Fatalf("entries requests %v", entries)
	}
}

// Looking an order up by code needs no date window, so an order older than
// any window is still found; an unknown code is ErrNotFound.
func TestOrderByCode_NoWindowAndNotFound(t *testing.T) {
	e := newEnv(t)
	e.fake.AddOrder(order("700000001", start.Add(-90*24*time.Hour), domain.StateArchive))
	if err := e.fake.SetStatus("700000001", domain.StateArchive, domain.StatusCancelled, "BUYER_NOT_REACHABLE"); err != nil {
		t.Fatal(err)
	}
	o, err := e.client.OrderByCode(context.Background(), "700000001")
	if err != nil {
		t.Fatal(err)
	}
	if o.Code != "700000001" || o.Status != domain.StatusCancelled || o.CancellationReason != "BUYER_NOT_REACHABLE" || !o.LinesLoaded || len(o.Lines) != 1 {
		t.Fatalf("got %+v", o)
	}
	_, err = e.client.OrderByCode(context.Background(), "799999999")
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
	for _, r := range listRequests(e.fake) {
		if r.Query.Has("filter[orders][creationDate][$ge]") || r.Query.Get("filter[orders][code]") == "" {
			t.Errorf("by-code request %s", r.Path)
		}
	}
}

// Changes made in the cabinet (status, partial cancellation) show in the
// next answer.
func TestOrderByCode_SeesStatusAndPartialCancellation(t *testing.T) {
	e := newEnv(t)
	e.fake.AddOrder(order("710000001", start.Add(-time.Hour), domain.StateNew,
		domain.Line{SKU: "A", Name: "А", Quantity: 1, BasePrice: 1000},
		domain.Line{SKU: "B", Name: "Б", Quantity: 2, BasePrice: 500}))
	if err := e.fake.RemoveLine("710000001", 1); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.SetStatus("710000001", domain.StateKaspiDelivery, domain.StatusAcceptedByMerchant, ""); err != nil {
		t.Fatal(err)
	}
	o, err := e.client.OrderByCode(context.Background(), "710000001")
	if err != nil {
		t.Fatal(err)
	}
	if o.TotalPrice != 1000 || len(o.Lines) != 1 || o.Lines[0].SKU != "A" || o.State != domain.StateKaspiDelivery {
		t.Fatalf("got %+v", o)
	}
}

// Links in answers are ignored: whether absolute or relative, URLs are
// built from ids under the configured base, production prefix included.
func TestClient_IgnoresLinksAndAcceptsBasePath(t *testing.T) {
	for _, rel := range []bool{false, true} {
		e := newEnv(t, ignoreInclude, func(o *kaspifake.Options, _ *kaspi.Config) { o.RelativeLinks = rel })
		c := kaspi.New(kaspi.Config{BaseURL: e.srv.URL + "/shop/api/v2/", Token: testToken, RetryBase: time.Millisecond})
		e.fake.AddOrder(order("720000001", start.Add(-time.Hour), domain.StateNew))
		got := mustList(t, c, domain.StateNew, start.Add(-2*time.Hour), start)
		if !got["720000001"].LinesLoaded {
			t.Fatalf("relative=%v: %+v", rel, got)
		}
		for _, r := range e.fake.Requests() {
			if !strings.HasPrefix(r.Path, "/shop/api/v2/orders") || r.Status != http.StatusOK {
				t.Errorf("relative=%v: %s %d", rel, r.Path, r.Status)
			}
		}
	}
}

// Decoding keeps a masked phone as is (the sync decides), and a pickup
// order has no address.
func TestListOrders_MaskedPhoneKeptRaw(t *testing.T) {
	e := newEnv(t)
	o := order("730000001", start.Add(-time.Hour), domain.StateArchive)
	o.Customer.Phone = orders.MaskedPhone
	e.fake.AddOrder(o)
	got := mustList(t, e.client, domain.StateArchive, start.Add(-2*time.Hour), start)
	if g := got["730000001"]; g.Customer.Phone != "+0(000)-000-00-00" || g.Address != nil {
		t.Fatalf("got %+v", g)
	}
}

// A wrong token is an auth error, never retried.
func TestErrors_AuthNotRetried(t *testing.T) {
	e := newEnv(t)
	c := kaspi.New(kaspi.Config{BaseURL: e.srv.URL, Token: "wrong", RetryBase: time.Millisecond})
	_, err := list(c, domain.StateNew, start.Add(-time.Hour), start)
	var apiErr *kaspi.APIError
	if !errors.Is(err, domain.ErrAuth) || !errors.As(err, &apiErr) || apiErr.Status != http.StatusUnauthorized || apiErr.Retryable() {
		t.Fatalf("got %v", err)
	}
	if n := e.fake.RequestCount(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
	e.fake.Fail(kaspifake.EndpointList, kaspifake.Fault{Status: http.StatusForbidden}, 1)
	if _, err := list(e.client, domain.StateNew, start.Add(-time.Hour), start); !errors.Is(err, domain.ErrAuth) {
		t.Fatalf("403: %v", err)
	}
}

// An HTML 403 (a firewall or an IP block in front of the API) is not a
// verdict on the token: it is reported as blocked, a temporary failure.
func TestErrors_HTML403IsBlockedNotABadToken(t *testing.T) {
	e := newEnv(t)
	e.fake.Fail(kaspifake.EndpointList, kaspifake.Fault{Status: http.StatusForbidden, HTML: true}, 10)
	_, err := list(e.client, domain.StateNew, start.Add(-time.Hour), start)
	if errors.Is(err, domain.ErrAuth) || !errors.Is(err, domain.ErrTransient) || !kaspi.IsBlocked(err) {
		t.Fatalf("got %v; want a blocked, temporary failure", err)
	}
	if !strings.Contains(err.Error(), "blocked") {
		t.Errorf("error %q does not say blocked", err)
	}
}

// A 400 is a bad request carrying errors[0].title, never retried.
func TestErrors_BadRequestWithTitleNotRetried(t *testing.T) {
	e := newEnv(t)
	e.fake.Fail(kaspifake.EndpointList, kaspifake.Fault{Status: http.StatusBadRequest}, 1)
	_, err := list(e.client, domain.StateNew, start.Add(-time.Hour), start)
	var apiErr *kaspi.APIError
	if !errors.Is(err, domain.ErrBadRequest) || !errors.As(err, &apiErr) || apiErr.Title != "Bad Request" {
		t.Fatalf("got %v", err)
	}
	if n := e.fake.RequestCount(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// An unknown order id on /entries is ErrNotFound, never retried.
func TestErrors_NotFoundNotRetried(t *testing.T) {
	e := newEnv(t)
	_, err := e.client.Entries(context.Background(), "bm9zdWNo")
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("got %v", err)
	}
	if n := e.fake.RequestCount(); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// 5xx, 429, an HTML page and cut-off JSON are retried and the listing then
// succeeds.
func TestErrors_RetryableFailuresAreRetried(t *testing.T) {
	faults := map[string]kaspifake.Fault{
		"503":       kaspifake.ServerError(),
		"500":       {Status: http.StatusInternalServerError},
		"429":       kaspifake.TooManyRequests(),
		"html":      kaspifake.HTMLPage(),
		"html 502":  {Status: http.StatusBadGateway, HTML: true},
		"malformed": kaspifake.MalformedJSON(),
	}
	for name, f := range faults {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, ignoreInclude)
			e.fake.AddOrder(order("800000001", start.Add(-time.Hour), domain.StateNew))
			e.fake.Fail(kaspifake.EndpointList, f, 2)
			e.fake.Fail(kaspifake.EndpointEntries, f, 1)
			got := mustList(t, e.client, domain.StateNew, start.Add(-2*time.Hour), start)
			if !got["800000001"].LinesLoaded {
				t.Fatalf("got %+v", got)
			}
			if n := e.fake.RequestCount(); n != 5 {
				t.Fatalf("%d requests, want 3 list + 2 entries", n)
			}
		})
	}
}

// Retries are bounded: a server that keeps failing gets 1 + MaxRetries
// requests, and the error is transient with the first bytes of the body.
func TestErrors_RetriesBounded(t *testing.T) {
	e := newEnv(t, func(_ *kaspifake.Options, c *kaspi.Config) { c.MaxRetries = 2 })
	e.fake.Fail(kaspifake.EndpointAny, kaspifake.Fault{Status: http.StatusBadGateway, HTML: true}, 100)
	_, err := list(e.client, domain.StateNew, start.Add(-time.Hour), start)
	var apiErr *kaspi.APIError
	if !errors.Is(err, domain.ErrTransient) || !errors.As(err, &apiErr) || !apiErr.Retryable() {
		t.Fatalf("got %v", err)
	}
	if apiErr.Status != http.StatusBadGateway || len(apiErr.Body) == 0 || len(apiErr.Body) > 200 || !strings.HasPrefix(apiErr.Body, "<!DOCTYPE html>") {
		t.Fatalf("status %d body %q", apiErr.Status, apiErr.Body)
	}
	if n := e.fake.RequestCount(); n != 3 {
		t.Fatalf("%d requests, want 3", n)
	}

	none := newEnv(t, func(_ *kaspifake.Options, c *kaspi.Config) { c.MaxRetries = -1 })
	none.fake.Fail(kaspifake.EndpointAny, kaspifake.ServerError(), 100)
	if _, err := list(none.client, domain.StateNew, start.Add(-time.Hour), start); !errors.Is(err, domain.ErrTransient) {
		t.Fatalf("got %v", err)
	}
	if n := none.fake.RequestCount(); n != 1 {
		t.Fatalf("MaxRetries -1: %d requests", n)
	}
}

// A request that outlives Timeout is a transient failure and is retried.
func TestErrors_TimeoutIsRetried(t *testing.T) {
	e := newEnv(t, func(_ *kaspifake.Options, c *kaspi.Config) { c.Timeout = 50 * time.Millisecond; c.MaxRetries = 1 })
	e.fake.AddOrder(order("810000001", start.Add(-time.Hour), domain.StateNew))
	e.fake.Fail(kaspifake.EndpointList, kaspifake.Slow(10*time.Second), 1)
	if got := mustList(t, e.client, domain.StateNew, start.Add(-2*time.Hour), start); len(got) != 1 {
		t.Fatalf("got %v", got)
	}
	e.fake.Fail(kaspifake.EndpointList, kaspifake.Slow(10*time.Second), 2)
	_, err := list(e.client, domain.StateNew, start.Add(-2*time.Hour), start)
	var apiErr *kaspi.APIError
	if !errors.Is(err, domain.ErrTransient) || !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &apiErr) || apiErr.Status != 0 {
		t.Fatalf("got %v", err)
	}
}

// A cancelled context stops the listing with the context's error, not a
// transient one.
func TestErrors_CallerCancellationIsNotTransient(t *testing.T) {
	e := newEnv(t)
	e.fake.Fail(kaspifake.EndpointList, kaspifake.Slow(10*time.Second), 5)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		// The request is under way once the client has counted it.
		for e.client.Requests() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	err := e.client.ListOrders(ctx, domain.StateNew, start.Add(-time.Hour).UnixMilli(), start.UnixMilli(), func(domain.Order) error { return nil })
	if !errors.Is(err, context.Canceled) || errors.Is(err, domain.ErrTransient) {
		t.Fatalf("got %v", err)
	}
}

// An error from the callback stops the listing and comes back unchanged.
func TestListOrders_CallbackErrorStops(t *testing.T) {
	e := newEnv(t)
	for i := range 150 {
		e.fake.AddOrder(order(strconv.Itoa(820000000+i), start.Add(-time.Duration(i+1)*time.Second), domain.StateNew))
	}
	stop := errors.New("stop")
	calls := 0
	err := e.client.ListOrders(context.Background(), domain.StateNew, start.Add(-time.Hour).UnixMilli(), start.UnixMilli(),
		func(domain.Order) error { calls++; return stop })
	if err != stop || calls != 1 || e.fake.RequestCount() != 1 {
		t.Fatalf("err %v, %d calls, %d requests", err, calls, e.fake.RequestCount())
	}
}

// The token never reaches the log, even at debug level with failures.
func TestClient_NeverLogsToken(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newEnv(t, func(_ *kaspifake.Options, c *kaspi.Config) { c.Logger = logger })
	e.fake.AddOrder(order("830000001", start.Add(-time.Hour), domain.StateNew))
	e.fake.Fail(kaspifake.EndpointList, kaspifake.ServerError(), 1)
	mustList(t, e.client, domain.StateNew, start.Add(-2*time.Hour), start)
	bad := kaspi.New(kaspi.Config{BaseURL: e.srv.URL, Token: "secret-wrong-token", Logger: logger})
	_, err := list(bad, domain.StateNew, start.Add(-time.Hour), start)
	if buf.Len() == 0 {
		t.Fatal("nothing logged")
	}
	if strings.Contains(buf.String(), testToken) || strings.Contains(buf.String(), "secret-wrong-token") || strings.Contains(err.Error(), "secret-wrong-token") {
		t.Fatalf("token leaked:\n%s", buf.String())
	}
}

// The client serves the documented example page: lines not included, so
// each order's entries are fetched.
func TestListOrders_DocumentedExampleDocuments(t *testing.T) {
	page, err := os.ReadFile("testdata/orders_page.json")
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadFile("testdata/entries.json")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.Path)
		w.Header().Set("Content-Type", "application/vnd.api+json")
		if strings.HasSuffix(r.URL.Path, "/entries") {
			_, _ = w.Write(entries)
			return
		}
		_, _ = w.Write(page)
	}))
	defer srv.Close()
	c := kaspi.New(kaspi.Config{BaseURL: srv.URL, Token: testToken})
	got, err := list(c, "", time.UnixMilli(1751310000000), time.UnixMilli(1751914799999))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got["611987654"].Lines) != 2 || got["611987654"].Lines[0].SKU != "TEF-PAN-28" {
		t.Fatalf("got %+v", got)
	}
	if !slices.Contains(paths, "/orders/NjExOTg3NjU0OnEy/entries") {
		t.Fatalf("paths %v", paths)
	}
}

func TestWindows(t *testing.T) {
	day := (24 * time.Hour).Milliseconds()
	cases := []struct {
		from, to int64
		n        int
	}{
		{0, 0, 1}, {0, 14*day - 1, 1}, {0, 14 * day, 2}, {0, 30 * day, 3}, {10, 5, 0},
	}
	for _, c := range cases {
		ws := kaspi.Windows(c.from, c.to)
		if len(ws) != c.n {
			t.Errorf("Windows(%d, %d) = %v, want %d windows", c.from, c.to, ws, c.n)
		}
		for i, w := range ws {
			if w.To-w.From > 14*day || w.To < w.From || (i > 0 && w.From != ws[i-1].To+1) {
				t.Errorf("bad window %v in %v", w, ws)
			}
		}
	}
}

// truncateData keeps the first n resources of a list document's data.
func truncateData(t *testing.T, body []byte, n int) []byte {
	t.Helper()
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	var data []json.RawMessage
	if err := json.Unmarshal(doc["data"], &data); err != nil {
		t.Fatal(err)
	}
	doc["data"], _ = json.Marshal(data[:min(n, len(data))])
	out, _ := json.Marshal(doc)
	return out
}

// An empty state leaves the filter out and lists every state.
func TestListOrders_EmptyStateListsAll(t *testing.T) {
	e := newEnv(t)
	for i, st := range domain.AllStates {
		e.fake.AddOrder(order(strconv.Itoa(840000000+i), start.Add(-time.Duration(i+1)*time.Minute), st))
	}
	got := mustList(t, e.client, "", start.Add(-time.Hour), start)
	if len(got) != len(domain.AllStates) {
		t.Fatalf("got %d orders", len(got))
	}
	for _, r := range listRequests(e.fake) {
		if r.Query.Has("filter[orders][state]") {
			t.Errorf("state filter sent: %s", r.Path)
		}
	}
}

// Lines without offer: the merchant's code comes from /entries when only
// the listing lacked it, else from the master product's merchantProduct;
// when both are empty the line stays without SKU. The master product's
// own code (Kaspi's) is never used.
func TestLinesWithoutOffer_FallBackToTheMerchantsCode(t *testing.T) {
	e := newEnv(t)
	e.fake.AddOrder(order("300000001", start.Add(-time.Hour), domain.StateNew,
		domain.Line{SKU: "A-1", Name: "Товар А", Quantity: 1, BasePrice: 100},
		domain.Line{SKU: "B-2", Name: "Товар Б", Quantity: 1, BasePrice: 200},
		domain.Line{SKU: "C-3", Name: "Товар В", Quantity: 2, BasePrice: 300}))
	e.fake.DropOffer("300000001", 0, false) // listing only: /entries has it
	e.fake.DropOffer("300000001", 1, true)  // nowhere; merchantProduct knows it
	e.fake.SetMerchantProduct("B-2", "B-2-MERCH")
	e.fake.DropOffer("300000001", 2, true) // nowhere, merchantProduct empty
	got, err := list(e.client, domain.StateNew, start.Add(-2*time.Hour), start)
	if err != nil {
		t.Fatal(err)
	}
	lines := got["300000001"].Lines
	if len(lines) != 3 || lines[0].SKU != "A-1" || lines[0].Name != "Товар А" || lines[1].SKU != "B-2-MERCH" || lines[2].SKU != "" {
		t.Fatalf("lines %+v", lines)
	}
	if lines[2].ProductID == "" {
		t.Fatal("the master product is not kept for the line")
	}
	var entries, merchant int
	for _, r := range e.fake.Requests() {
		switch r.Endpoint {
		case kaspifake.EndpointEntries:
			entries++
		case kaspifake.EndpointMerchantProduct:
			merchant++
		}
	}
	if entries != 1 || merchant != 2 {
		t.Fatalf("%d entries and %d merchantProduct requests; want 1 and 2", entries, merchant)
	}
}
