package syncer_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/kaspi"
	"kaspi-amocrm/pkg/ratelimit"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
	"kaspi-amocrm/pkg/syncer"
)

// The end-to-end tests run the engine against a real database (every
// driver storetest offers), the strict fakes of both APIs and the real
// clients, with the fakes' rate limits off and the clients' retries fast.

const kaspiToken = "dGVzdC10b2tlbi1mb3Ita2FzcGktZmFrZS0wMDAwMDA9"

// start is the clock at the beginning of every test.
var start = time.Date(2025, 7, 8, 7, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one shop: its database, its Kaspi and amoCRM accounts, and the
// clients the binaries would build.
type env struct {
	t     *testing.T
	db    *store.DB
	clock *clock
	amo   *amofake.Server
	kf    *kaspifake.Server
	crm   *amocrm.Client
	kc    *kaspi.Client
	// kaspiURL is the fake Kaspi's base URL.
	kaspiURL string
	cfg      syncer.Config
	out      bytes.Buffer
	logs     bytes.Buffer

	// crmOverride, when set, stands between the engine and the client
	// (fault injection on a single item).
	crmOverride domain.CRM
	// tick, when set, moves the engine's clock on at every reading.
	tick time.Duration
	// lim is the amoCRM client's limiter.
	lim *ratelimit.Limiter
	// stores are the Kaspi clients of stores 2 … 9 (multistore_test.go).
	stores map[int]syncer.StoreClient
}

// crmWith overrides CreateLeads of a CRM.
type crmWith struct {
	domain.CRM
	createLeads func(context.Context, []domain.Lead) ([]domain.Lead, error)
}

func (c crmWith) CreateLeads(ctx context.Context, leads []domain.Lead) ([]domain.Lead, error) {
	return c.createLeads(ctx, leads)
}

func forEachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	// Every test has its own databases and fakes: run them side by side.
	t.Parallel()
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		fn(t, newEnv(t, db))
	})
}

func newEnv(t *testing.T, db *store.DB) *env {
	t.Helper()
	e := &env{t: t, db: db, clock: &clock{t: start}}
	t.Cleanup(func() {
		if t.Failed() || testing.Verbose() {
			t.Logf("run output:\n%s", e.out.String())
			if os.Getenv("SYNCER_TEST_LOGS") != "" {
				t.Logf("log:\n%s", e.logs.String())
			}
		}
	})
	e.amo = amofake.New(amofake.Options{RPS: -1, Now: e.clock.Now})
	e.kf = kaspifake.New(kaspifake.Options{Token: kaspiToken, Now: e.clock.Now, Seed: 3})
	amoSrv := httptest.NewServer(e.amo)
	t.Cleanup(amoSrv.Close)
	kSrv := httptest.NewServer(e.kf)
	t.Cleanup(kSrv.Close)

	access, refresh, exp := e.amo.IssueTokens()
	if err := db.SaveToken(context.Background(), "amocrm", domain.Token{AccessToken: access, RefreshToken: refresh, ExpiresAt: exp.Unix()}); err != nil {
		t.Fatal(err)
	}
	e.lim = ratelimit.New("", 1000)
	crm, err := amocrm.New(amocrm.Config{
		BaseURL: amoSrv.URL, ClientID: amofake.DefaultClientID, ClientSecret: amofake.DefaultClientSecret,
		RedirectURI: amofake.DefaultRedirectURI, Tokens: db, Settings: db,
		Limiter: e.lim, LockDir: t.TempDir(),
		HTTPClient: &http.Client{Timeout: 5 * time.Second}, Now: e.clock.Now,
		Retries: 2, BackoffBase: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.crm = crm
	e.kaspiURL = kSrv.URL
	e.kc = kaspi.New(kaspi.Config{BaseURL: kSrv.URL, Token: kaspiToken, RetryBase: time.Millisecond, Timeout: 5 * time.Second})
	e.cfg = syncer.Config{
		PipelineID:                 amofake.PipelineID,
		StatusID:                   amofake.StatusNewOrder,
		ResponsibleUserID:          amofake.UserID,
		CatalogID:                  amofake.CatalogID,
		OrderCodeFieldID:           amofake.LeadOrderCodeFieldID,
		ContactAddressFieldID:      amofake.ContactAddressFieldID,
		LeadDeliveryAddressFieldID: amofake.LeadAddressFieldID,
		LeadOrderDateFieldID:       amofake.LeadOrderDateFieldID,
		DefaultCountry:             "KZ",
		ImportStates:               syncer.DefaultImportStates,
		Lookback:                   180 * time.Minute,
		Budget:                     time.Hour,
		SnapshotRetention:          90 * 24 * time.Hour,
	}
	return e
}

func (e *env) deps() syncer.Deps {
	var crm domain.CRM = e.crm
	if e.crmOverride != nil {
		crm = e.crmOverride
	}
	now := e.clock.Now
	if e.tick > 0 {
		now = func() time.Time { e.clock.Advance(e.tick); return e.clock.Now() }
	}
	return syncer.Deps{Ledger: e.db, CRM: crm, Kaspi: e.kc, Actions: e.db, Writer: e.kc, Stores: e.stores, Now: now, Out: &e.out,
		Logger: slog.New(slog.NewTextHandler(&e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
}

// fetch runs fetch_new and fails the test on a run error.
func (e *env) fetch() syncer.Summary {
	e.t.Helper()
	s, err := syncer.FetchNew(context.Background(), e.cfg, e.deps())
	if err != nil {
		e.t.Fatalf("fetch_new: %v\noutput:\n%s\nlog:\n%s", err, e.out.String(), e.logs.String())
	}
	return s
}

// reconcile runs reconcile and fails the test on a run error.
func (e *env) reconcile() syncer.Summary {
	e.t.Helper()
	s, err := syncer.Reconcile(context.Background(), e.cfg, e.deps())
	if err != nil {
		e.t.Fatalf("reconcile: %v\noutput:\n%s\nlog:\n%s", err, e.out.String(), e.logs.String())
	}
	return s
}

// order is a Kaspi order created ago before the clock, with one line.
func (e *env) order(code string, ago time.Duration, phone string, lines ...domain.Line) domain.Order {
	if len(lines) == 0 {
		lines = []domain.Line{{SKU: "SKU-" + code, Name: "Товар " + code, Quantity: 1, BasePrice: 1000}}
	}
	return domain.Order{
		Code: code, State: domain.StateNew, Status: domain.StatusApprovedByBank,
		CreationMs:  e.clock.Now().Add(-ago).UnixMilli(),
		PaymentMode: "PREPAID", DeliveryMode: "DELIVERY_LOCAL",
		Customer: domain.Customer{FirstName: "Айгерим", LastName: "Сапарова", Phone: phone},
		Address:  &domain.Address{Formatted: "Алматы, ул. Абая, 10, кв. 5"},
		Lines:    lines,
	}
}

func (e *env) add(orders ...domain.Order) {
	for _, o := range orders {
		e.kf.AddOrder(o)
	}
}

// leadsByCode maps order codes to the fake's leads named after them; it
// fails on a duplicate.
func (e *env) leadsByCode() map[string]amofake.Lead {
	e.t.Helper()
	out := map[string]amofake.Lead{}
	for _, l := range e.amo.Leads() {
		code, ok := strings.CutPrefix(l.Name, "Kaspi Order ")
		if !ok {
			continue
		}
		if _, dup := out[code]; dup {
			e.t.Fatalf("two deals for order %s", code)
		}
		out[code] = l
	}
	return out
}

func (e *env) lead(code string) amofake.Lead {
	e.t.Helper()
	l, ok := e.leadsByCode()[code]
	if !ok {
		e.t.Fatalf("no deal for order %s; output:\n%s", code, e.out.String())
	}
	return l
}

func (e *env) record(code string) domain.Record {
	e.t.Helper()
	r, err := e.db.Record(context.Background(), code)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) notesOf(leadID int64) []string {
	var out []string
	for _, n := range e.amo.Notes() {
		if n.LeadID == leadID {
			out = append(out, n.Text)
		}
	}
	return out
}

func (e *env) linksOf(leadID int64) map[int64]float64 {
	out := map[int64]float64{}
	for _, l := range e.amo.Links() {
		if l.LeadID == leadID && l.ToEntityType == "catalog_elements" {
			out[l.ToEntityID] = l.Quantity
		}
	}
	return out
}

func (e *env) elementBySKU(sku string) (amofake.Element, int) {
	var found amofake.Element
	n := 0
	for _, el := range e.amo.Elements() {
		if el.SKU() == sku {
			found = el
			n++
		}
	}
	return found, n
}

// amoRequests counts the API requests the fake has seen (token calls excluded).
func (e *env) amoRequests() int {
	n := 0
	for _, r := range e.amo.Requests() {
		if strings.HasPrefix(r.Path, "/api/") {
			n++
		}
	}
	return n
}
