package amocrm_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/amocrm"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

func TestValidation400_KeyedByRequestID(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	_, err := c.CreateLeads(ctxT(t), []domain.Lead{
		{RequestID: "ok-1", Name: "good"},
		{RequestID: "bad-2", Name: "bad", Fields: []domain.FieldValue{{FieldID: 424242, Values: []domain.FieldItem{{Value: "x"}}}}},
	})
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v; want a *domain.ValidationError", err)
	}
	if len(ve.Items) != 1 || len(ve.Items["bad-2"]) == 0 {
		t.Fatalf("items %v; want only bad-2", ve.Items)
	}
	if !strings.Contains(ve.Items["bad-2"][0], "custom_fields_values.0") {
		t.Errorf("message %q does not name the path", ve.Items["bad-2"][0])
	}
	if p := ve.Problems["bad-2"]; len(p) != 1 || p[0].Code != "NotSupportedChoice" || p[0].Path != "custom_fields_values.0.field_id" {
		t.Errorf("problems %+v; want amoCRM's code and path", p)
	}
	var apiErr *amocrm.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.RequestID == "" {
		t.Fatalf("APIError = %+v", apiErr)
	}
	if !errors.Is(err, domain.ErrBadRequest) || errors.Is(err, domain.ErrTransient) {
		t.Fatalf("kinds of %v", err)
	}
	if n := len(h.fake.Leads()); n != 0 {
		t.Fatalf("%d leads stored after a rejected batch", n)
	}
}

func TestValidation400_LinksKeyedByLeadID(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	lead := h.fake.AddLead(amofake.Lead{Name: "x"})
	e1, _ := h.fake.AddElement(amofake.CatalogID, "Товар", "S1", "10")
	err := c.LinkElements(ctxT(t), []domain.Link{
		{LeadID: lead, ElementID: e1, CatalogID: amofake.CatalogID, Quantity: 1},
		{LeadID: 77777777, ElementID: e1, CatalogID: amofake.CatalogID, Quantity: 1},
	})
	var ve *domain.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v; want a validation error", err)
	}
	if _, ok := ve.Items["77777777"]; !ok || len(ve.Items) != 1 {
		t.Fatalf("items %v; want the unknown lead only", ve.Items)
	}
}

func TestUnauthorized_RefreshesOnceAndRetries(t *testing.T) {
	h := newHarness(t)
	c, old := h.authorized()
	h.fake.RevokeAccessTokens() // the access token dies; the refresh token lives
	if _, err := c.Account(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if g := h.fake.TokenGrants(); g != 1 {
		t.Fatalf("%d token grants; want 1", g)
	}
	if got := h.storedToken(); got.AccessToken == old.AccessToken || got.RefreshToken == old.RefreshToken {
		t.Fatal("the new pair was not stored")
	}
	if n := h.requests(http.MethodGet, "/api/v4/account"); n != 2 {
		t.Fatalf("%d account calls; want the 401 and one retry", n)
	}
}

func TestUnauthorized_SecondTimeIsReauthorization(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	h.fake.InjectFault(amofake.Fault{Method: http.MethodGet, Path: "/api/v4/account", Kind: amofake.FaultStatus, Status: 401, Times: 5})
	_, err := c.Account(ctxT(t))
	if !errors.Is(err, domain.ErrAuth) || !strings.Contains(err.Error(), "нужна повторная авторизация") {
		t.Fatalf("err = %v; want ErrAuth asking to re-authorize", err)
	}
	if g := h.fake.TokenGrants(); g != 1 {
		t.Fatalf("%d refreshes; want exactly one", g)
	}
	if n := h.requests(http.MethodGet, "/api/v4/account"); n != 2 {
		t.Fatalf("%d calls; want two", n)
	}
}

func TestPaymentRequired402_Plain(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	h.fake.SetPaymentRequired(true)
	_, err := c.CreateLeads(ctxT(t), []domain.Lead{{Name: "x"}})
	if !errors.Is(err, domain.ErrPaymentRequired) || !strings.Contains(err.Error(), "не оплачен") {
		t.Fatalf("err = %v", err)
	}
	if n := h.requests(http.MethodPost, "/api/v4/leads"); n != 1 {
		t.Fatalf("%d POSTs; a 402 is not retried", n)
	}
}

func TestBan403_OpensBreakerAndPersistsIt(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)
	h.fake.Ban(time.Hour)
	_, err := c.Account(ctx)
	if !errors.Is(err, domain.ErrBanned) {
		t.Fatalf("err = %v; want ErrBanned", err)
	}
	v, ok, _ := h.db.Setting(ctx, "amocrm_banned_until")
	until, _ := strconv.ParseInt(v, 10, 64)
	if !ok || time.Until(time.Unix(until, 0)) < 29*time.Minute {
		t.Fatalf("ban recorded as %q", v)
	}
	sent := h.fake.RequestCount()

	h.fake.Unban() // even if amoCRM lifted it, we keep away for 30 minutes
	if _, err := c.SearchContacts(ctx, "7011234567"); !errors.Is(err, domain.ErrBanned) {
		t.Fatalf("second call err = %v", err)
	}
	next := h.client(h.config()) // the next run
	if _, err := next.Account(ctx); !errors.Is(err, domain.ErrBanned) {
		t.Fatalf("next run err = %v", err)
	}
	if got := h.fake.RequestCount(); got != sent {
		t.Fatalf("%d requests sent while the breaker was open", got-sent)
	}

	// Once the ban time has passed, calls go through again.
	later := h.config()
	later.Now = func() time.Time { return time.Now().Add(31 * time.Minute) }
	if _, err := h.client(later).Users(ctx); err != nil {
		t.Fatalf("after the ban: %v", err)
	}
}

func TestTooManyRequests429_PausesBacksOffAndSucceeds(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	h.fake.InjectFault(amofake.Fault{Method: http.MethodPost, Path: "/api/v4/leads", Kind: amofake.Fault429, Times: 1})
	start := time.Now()
	leads, err := c.CreateLeads(ctxT(t), []domain.Lead{{Name: "после 429"}})
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < time.Second {
		t.Errorf("retried after %v; a 429 pauses at least 1 s", time.Since(start))
	}
	if c.Count429() != 1 || len(leads) != 1 || len(h.fake.Leads()) != 1 {
		t.Fatalf("429s %d, leads %d stored %d", c.Count429(), len(leads), len(h.fake.Leads()))
	}
}

func TestTooManyRequests429_GivesUpAsTransient(t *testing.T) {
	h := newHarness(t)
	cfg := h.config()
	cfg.Retries = -1 // no retry: the give-up path without waiting
	h.authorized()
	c := h.client(cfg)
	h.fake.InjectFault(amofake.Fault{Path: "/api/v4/account", Kind: amofake.Fault429, Times: 3})
	if _, err := c.Account(ctxT(t)); !errors.Is(err, domain.ErrTransient) {
		t.Fatalf("err = %v", err)
	}
}

func TestServerError5xx_GETRetried(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	h.fake.InjectFault(amofake.Fault{Method: http.MethodGet, Path: "/api/v4/users", Kind: amofake.FaultStatus, Status: 502, Times: 2})
	if _, err := c.Users(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if n := h.requests(http.MethodGet, "/api/v4/users"); n != 3 {
		t.Fatalf("%d GETs; want 2 failures and a success", n)
	}
}

func TestServerError5xx_GETGivesUpBounded(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	h.fake.InjectFault(amofake.Fault{Method: http.MethodGet, Path: "/api/v4/users", Kind: amofake.FaultStatus, Status: 503, Times: 10})
	_, err := c.Users(ctxT(t))
	if !errors.Is(err, domain.ErrTransient) {
		t.Fatalf("err = %v", err)
	}
	if n := h.requests(http.MethodGet, "/api/v4/users"); n != 4 {
		t.Fatalf("%d GETs; want 1 + 3 retries", n)
	}
}

func TestServerError5xx_POSTNotRetried(t *testing.T) {
	for _, kind := range []amofake.FaultKind{amofake.FaultStatus, amofake.FaultGhost, amofake.FaultGhostDrop} {
		t.Run(string(kind), func(t *testing.T) {
			h := newHarness(t)
			c, _ := h.authorized()
			h.fake.InjectFault(amofake.Fault{Method: http.MethodPost, Path: "/api/v4/leads", Kind: kind})
			_, err := c.CreateLeads(ctxT(t), []domain.Lead{{RequestID: "512", Name: "Kaspi заказ 512"}})
			if !errors.Is(err, domain.ErrTransient) {
				t.Fatalf("err = %v; want ErrTransient (outcome unknown)", err)
			}
			if n := h.requests(http.MethodPost, "/api/v4/leads"); n != 1 {
				t.Fatalf("%d POSTs; a create is never blindly repeated", n)
			}
		})
	}
}

func TestServerError5xx_PATCHRetried(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	lead := h.fake.AddLead(amofake.Lead{Name: "x"})
	h.fake.InjectFault(amofake.Fault{Method: http.MethodPatch, Path: "/api/v4/leads", Kind: amofake.FaultStatus, Status: 500})
	err := c.UpdateLeads(ctxT(t), []domain.LeadUpdate{{ID: lead, PipelineID: amofake.PipelineID, StatusID: amofake.StatusConfirmed}})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := h.fake.Lead(lead); got.StatusID != amofake.StatusConfirmed {
		t.Fatalf("status %d", got.StatusID)
	}
}

func TestMalformedJSON_GETRetriedPOSTTransient(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	ctx := ctxT(t)
	h.fake.InjectFault(amofake.Fault{Method: http.MethodGet, Path: "/api/v4/users", Kind: amofake.FaultMalformed})
	if _, err := c.Users(ctx); err != nil {
		t.Fatalf("GET after a garbled answer: %v", err)
	}
	h.fake.InjectFault(amofake.Fault{Method: http.MethodPost, Path: "/api/v4/contacts", Kind: amofake.FaultMalformed})
	_, err := c.CreateContacts(ctx, []domain.Contact{{Name: "x"}})
	if !errors.Is(err, domain.ErrTransient) || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("err = %v", err)
	}
	if n := h.requests(http.MethodPost, "/api/v4/contacts"); n != 1 {
		t.Fatalf("%d POSTs", n)
	}
}

func TestTimeout_GETRetriedAsTransient(t *testing.T) {
	h := newHarness(t)
	cfg := h.config()
	cfg.HTTPClient = &http.Client{Timeout: 100 * time.Millisecond}
	h.authorized()
	c := h.client(cfg)
	h.fake.InjectFault(amofake.Fault{Method: http.MethodGet, Path: "/api/v4/users", Kind: amofake.FaultDelay, Delay: time.Second})
	if _, err := c.Users(ctxT(t)); err != nil {
		t.Fatalf("GET after a timeout: %v", err)
	}
	h.fake.InjectFault(amofake.Fault{Method: http.MethodPost, Path: "/api/v4/leads/notes", Kind: amofake.FaultDelay, Delay: time.Second})
	lead := h.fake.AddLead(amofake.Lead{Name: "x"})
	err := c.AddNotes(ctxT(t), []domain.Note{{LeadID: lead, Text: "x"}})
	if !errors.Is(err, domain.ErrTransient) {
		t.Fatalf("POST timeout err = %v", err)
	}
}

func TestNotFound404(t *testing.T) {
	h := newHarness(t)
	c, _ := h.authorized()
	_, err := c.SearchElements(ctxT(t), 999, "x") // no such catalog
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("err = %v", err)
	}
}

func TestForbiddenJSON_IsMissingRightsNotABanNorABadToken(t *testing.T) {
	h := newHarness(t)
	_, tok := h.authorized()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"title":"Forbidden","status":403,"detail":"Access denied"}`))
	}))
	defer srv.Close()
	cfg := h.config()
	cfg.BaseURL = srv.URL
	ctx := ctxT(t)
	_, err := h.client(cfg).Account(ctx)
	if !errors.Is(err, domain.ErrForbidden) || errors.Is(err, domain.ErrAuth) || errors.Is(err, domain.ErrBanned) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "не хватает прав на GET /api/v4/account") {
		t.Errorf("err %q does not name the method", err)
	}
	if _, ok, _ := h.db.Setting(ctx, "amocrm_banned_until"); ok {
		t.Fatal("a JSON 403 opened the ban breaker")
	}
	if !samePair(h.storedToken(), tok) {
		t.Fatal("a JSON 403 touched the tokens")
	}
}

// A non-admin user may not list users: the account lists skip the users
// with a reason, the tokens stay and nothing is refreshed.
func TestUsersForbiddenForANonAdmin(t *testing.T) {
	h := newHarnessWith(t, "sqlite", amofake.Options{RPS: -1, NonAdmin: true})
	c, tok := h.authorized()
	ctx := ctxT(t)
	if _, err := c.Users(ctx); !errors.Is(err, domain.ErrForbidden) {
		t.Fatalf("Users err = %v; want ErrForbidden", err)
	}
	lists, err := c.AccountLists(ctx)
	if err != nil || lists.UsersSkipped == "" || len(lists.Pipelines) == 0 {
		t.Fatalf("AccountLists = %+v, %v", lists, err)
	}
	if g := h.fake.TokenGrants(); g != 0 || !samePair(h.storedToken(), tok) {
		t.Fatalf("%d refreshes after a 403; tokens must be kept", g)
	}
}
