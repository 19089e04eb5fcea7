package amofake

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// Options configure a fake account.
type Options struct {
	// Subdomain is reported by GET /api/v4/account ("sandbox" when empty).
	Subdomain string
	// ClientID, ClientSecret and RedirectURI identify the integration at
	// the token endpoint (defaults are filled in when empty).
	ClientID, ClientSecret, RedirectURI string
	// RPS is the number of requests allowed in any one-second window:
	// 0 means 7 (the documented ceiling), a negative value disables the
	// limit (fast tests).
	RPS int
	// BanAfter429s bans the account after this many rate-limit 429s within
	// one minute (0 means 20). A banned account answers 403 HTML.
	BanAfter429s int
	// BanDuration is how long a ban lasts (0 means one hour).
	BanDuration time.Duration
	// AccessTTL is the access token lifetime (0 means 24 h).
	AccessTTL time.Duration
	// Now is the clock (time.Now when nil). Token expiry, timestamps and
	// the rate limit read it.
	Now func() time.Time
	// SearchLag keeps entities created through the API out of `query`
	// results for this long (the search index's freshness is undocumented;
	// a client must remember what it created instead of searching again).
	// Zero: searchable at once. Seeded entities are always searchable.
	SearchLag time.Duration
	// ListFilters is what the contact listing makes of
	// filter[updated_at] and order[...] (zero: the filter is ignored, the
	// order honoured).
	ListFilters ListFilters
	// Filters puts the account in the filters alpha: GET /api/v4/leads
	// honours filter[created_at][from|to]. Off (the default), such filters
	// are silently ignored and everything comes back, as on most accounts
	// (amocrm-api-php #348). order[created_at|id]=asc|desc is always honoured.
	Filters bool
	// NonAdmin makes the authorising user an ordinary user: admin-only
	// methods (GET /api/v4/users) answer a JSON 403 "Не хватает прав для
	// вызова данного метода", as amoCRM does.
	NonAdmin bool
	// Domain is the account's domain as GET
	// /oauth2/account/current/subdomain reports it (Subdomain +
	// ".amocrm.ru" when empty); a renamed account reports its new one.
	Domain string
	// Timezone is the account's time zone in datetime_settings
	// ("Asia/Almaty" when empty).
	Timezone string
}

// Default credentials used when Options leave them empty.
const (
	DefaultClientID     = "5b0f8d2e-2c1a-4f6e-9a77-0c3f1e2d4b61"
	DefaultClientSecret = "sandbox-client-secret-0123456789abcdef"
	DefaultRedirectURI  = "https://shop.example.kz/cgi-bin/oauth_callback.cgi"
)

// MaxBatch is the most items the fake accepts in one batch call. The
// reference confirms only "≤ 50 recommended"; rejecting more is the strict
// reading, and it is what the client must respect anyway.
const MaxBatch = 50

// Server is a fake amoCRM account. All methods are safe for concurrent use.
type Server struct {
	opts Options

	mu sync.Mutex

	// fixture
	users       []userDef
	pipelines   []pipelineDef
	lossReasons map[int64]string
	catalogs    []catalogDef
	fields      map[string][]*fieldDef // "leads", "contacts", "catalogs/{id}"

	// entities
	nextID   int64
	leads    map[int64]*lead
	contacts map[int64]*contact
	elements map[int64]*element
	links    []*link
	notes    map[int64]*note
	tags     map[string]int64 // tag name -> id

	// OAuth
	codes   map[string]time.Time // authorization code -> expiry
	access  map[string]accessToken
	refresh map[string]*refreshToken
	grants  int // successful token endpoint calls

	// traffic
	log        []RequestLog
	window     []time.Time // times of served requests in the last second
	recent429  []time.Time
	count429   int
	bannedTill time.Time
	unpaid     bool
	faults     []*Fault
}

// New builds a fake account with the default fixture.
func New(opts Options) *Server {
	if opts.Subdomain == "" {
		opts.Subdomain = "sandbox"
	}
	if opts.ClientID == "" {
		opts.ClientID = DefaultClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = DefaultClientSecret
	}
	if opts.RedirectURI == "" {
		opts.RedirectURI = DefaultRedirectURI
	}
	if opts.RPS == 0 {
		opts.RPS = 7
	}
	if opts.BanAfter429s == 0 {
		opts.BanAfter429s = 20
	}
	if opts.BanDuration == 0 {
		opts.BanDuration = time.Hour
	}
	if opts.AccessTTL == 0 {
		opts.AccessTTL = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:     opts,
		nextID:   40000000,
		leads:    map[int64]*lead{},
		contacts: map[int64]*contact{},
		elements: map[int64]*element{},
		notes:    map[int64]*note{},
		tags:     map[string]int64{},
		codes:    map[string]time.Time{},
		access:   map[string]accessToken{},
		refresh:  map[string]*refreshToken{},
	}
	s.seed()
	return s
}

// Options returns the effective options (defaults filled in).
func (s *Server) Options() Options { return s.opts }

func (s *Server) now() time.Time { return s.opts.Now() }

func (s *Server) newID() int64 {
	s.nextID++
	return s.nextID
}

// ServeHTTP answers like the account host: gateway checks first (ban, rate
// limit), then injected faults, then the API itself.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	arrived := s.now()
	rec := &statusRecorder{ResponseWriter: w}
	rec.Header().Set("X-Request-Id", newRequestID())
	fault := s.admit(rec, r)
	if fault != nil && fault.Kind == FaultGhostDrop {
		// The client sees the dropped connection at once, maybe before
		// this handler returns: log first, so that whoever reads the log
		// right after the error finds the request.
		s.record(r, 0, fault, arrived)
		s.serveWithFault(rec, r, fault)
		return
	}
	if rec.status == 0 {
		s.serveWithFault(rec, r, fault)
	}
	s.record(r, rec.status, fault, arrived)
}

// admit applies the gateway rules. It writes the answer itself when the
// request is refused, and returns the fault to apply otherwise.
func (s *Server) admit(w *statusRecorder, r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if now.Before(s.bannedTill) {
		nginxPage(w, http.StatusForbidden)
		return nil
	}
	if s.opts.RPS > 0 {
		cut := now.Add(-time.Second)
		kept := s.window[:0]
		for _, t := range s.window {
			if t.After(cut) {
				kept = append(kept, t)
			}
		}
		s.window = kept
		if len(s.window) >= s.opts.RPS {
			s.count429++
			s.recent429 = append(s.recent429, now)
			cut := now.Add(-time.Minute)
			n := 0
			for _, t := range s.recent429 {
				if t.After(cut) {
					s.recent429[n] = t
					n++
				}
			}
			s.recent429 = s.recent429[:n]
			if n >= s.opts.BanAfter429s {
				s.bannedTill = now.Add(s.opts.BanDuration)
				s.recent429 = nil
			}
			nginxPage(w, http.StatusTooManyRequests)
			return nil
		}
		s.window = append(s.window, now)
	}
	return s.takeFault(r)
}

// route dispatches to the API after the gateway has let a request in.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/oauth2/access_token" {
		if r.Method != http.MethodPost {
			problem(w, http.StatusMethodNotAllowed, "Method not allowed")
			return
		}
		s.handleToken(w, r)
		return
	}
	if r.URL.Path == "/oauth2/account/current/subdomain" {
		s.currentSubdomain(w, r)
		return
	}
	if !strings.HasPrefix(r.URL.Path, "/api/v4/") {
		problem(w, http.StatusNotFound, "Not found")
		return
	}
	if !s.authorize(w, r) {
		return
	}
	s.mu.Lock()
	unpaid := s.unpaid
	s.mu.Unlock()
	if unpaid {
		writeProblem(w, http.StatusPaymentRequired, map[string]any{
			"title":  "Payment Required",
			"type":   "https://httpstatus.es/402",
			"status": 402,
			"detail": "Аккаунт не оплачен",
		})
		return
	}
	s.api(w, r)
}

// statusRecorder remembers the status written, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// RequestLog is one request as the fake saw it.
type RequestLog struct {
	Method string
	Path   string
	Query  string
	Status int    // 0 when the connection was dropped
	Fault  string // the injected fault applied, if any
	Time   time.Time
}

func (s *Server) record(r *http.Request, status int, f *Fault, arrived time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	entry := RequestLog{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: status, Time: arrived}
	if f != nil {
		entry.Fault = string(f.Kind)
	}
	s.log = append(s.log, entry)
}
