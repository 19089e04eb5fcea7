package kaspifake

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// MaxWindow is the widest creationDate range accepted ($le − $ge).
const MaxWindow = 14 * 24 * time.Hour

// MaxPageSize is the largest accepted page[size].
const MaxPageSize = 100

// Endpoint names an API endpoint for fault injection and the request log.
type Endpoint string

const (
	EndpointList    Endpoint = "list"    // GET /orders
	EndpointOrder   Endpoint = "order"   // GET /orders/{id}
	EndpointEntries Endpoint = "entries" // GET /orders/{id}/entries
	EndpointAction  Endpoint = "action"  // POST /orders (status changes)
	// EndpointMerchantProduct is GET /masterproducts/{id}/merchantProduct.
	EndpointMerchantProduct Endpoint = "merchantProduct"
	EndpointOther           Endpoint = "other" // anything else
	// EndpointAny in Fail matches every endpoint.
	EndpointAny Endpoint = "*"
)

// Options configure a Server.
type Options struct {
	Token string           // the valid X-Auth-Token; "" accepts none
	Now   func() time.Time // the fake's clock (visibility, default $le); default time.Now
	Seed  int64            // seeds the result order of lists
	// RelativeLinks makes links relative (/v2/orders/...) as older answers
	// were; by default they are absolute, as newer ones are.
	RelativeLinks bool
	// IgnoreInclude makes lists ignore include[orders]=entries, as older
	// API versions did, so clients must load lines from /entries.
	IgnoreInclude bool
	// WaybillDelay is how long (by the fake's clock) after an accepted
	// ASSEMBLE the Kaspi Delivery waybill appears; Kaspi makes it
	// asynchronously. 0 means DefaultWaybillDelay, negative means at once.
	WaybillDelay time.Duration
}

// Request is one logged request.
type Request struct {
	Method   string
	Endpoint Endpoint
	Path     string     // path and raw query as received
	Query    url.Values // decoded query
	Status   int
	// Headers as received (the token only as TokenOK).
	Accept, ContentType, UserAgent string
	TokenOK                        bool
	Fault                          bool // answered by an injected fault
}

// Server is the fake API. Its methods are safe for concurrent use.
type Server struct {
	token    string
	now      func() time.Time
	seed     int64
	relLinks bool
	noInc    bool
	waybill  time.Duration

	mu       sync.Mutex
	orders   map[string]*order // by API id
	byCode   map[string]string // code → id
	faults   map[Endpoint][]Fault
	requests []Request
	changes  []Change // every status change POSTed, refused ones too
	// noOffer: order code + "#" + entry number → where the entry comes
	// without offer (offerMissingInListing, offerMissingEverywhere).
	noOffer map[string]int
	// merchantCodes: master product id → the merchant's code that
	// /masterproducts/{id}/merchantProduct serves (absent: data null).
	merchantCodes map[string]string
	// unlisted: codes left out of creationDate listings (still found by
	// code), as a returned order can be.
	unlisted map[string]bool
}

// order is a stored order plus what only the fake knows.
type order struct {
	o         domain.Order
	visibleAt time.Time
	// waybillAt is when an assembled Kaspi Delivery order gets its waybill.
	waybillAt time.Time
	// cancelComment is the cancellationComment of the merchant's cancel.
	cancelComment string
	// sentCode is the code last sent to the buyer for completion ("" when
	// none was requested); codeTries counts wrong codes since.
	sentCode  string
	codeTries int
	codesSent int
	parcels   int // numberOfSpace of the accepted ASSEMBLE
}

var _ http.Handler = (*Server)(nil)

// New returns an empty fake.
func New(opts Options) *Server {
	s := &Server{
		token:    opts.Token,
		now:      opts.Now,
		seed:     opts.Seed,
		relLinks: opts.RelativeLinks,
		noInc:    opts.IgnoreInclude,
		waybill:  opts.WaybillDelay,
		orders:   map[string]*order{},
		byCode:   map[string]string{},
		faults:   map[Endpoint][]Fault{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	switch {
	case s.waybill == 0:
		s.waybill = DefaultWaybillDelay
	case s.waybill < 0:
		s.waybill = 0
	}
	return s
}

// ServeHTTP answers one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ep, id := route(r)
	rec := Request{
		Method: r.Method, Endpoint: ep, Path: r.URL.RequestURI(), Query: r.URL.Query(),
		Accept: r.Header.Get("Accept"), ContentType: r.Header.Get("Content-Type"),
		UserAgent: r.Header.Get("User-Agent"),
		TokenOK:   s.token != "" && r.Header.Get("X-Auth-Token") == s.token,
	}
	rw := &statusWriter{ResponseWriter: w}
	defer func() {
		rec.Status = rw.status
		if rec.Status == 0 {
			rec.Status = http.StatusOK
		}
		s.mu.Lock()
		s.requests = append(s.requests, rec)
		s.mu.Unlock()
	}()

	if f, ok := s.takeFault(ep); ok {
		rec.Fault = true
		if f.serve(rw, r) {
			return
		}
	}
	if !acceptable(rec.Accept) {
		// What the real API does when Accept is missing: an HTML 404.
		htmlPage(rw, http.StatusNotFound, "404 Not Found")
		return
	}
	if !rec.TokenOK {
		jsonError(rw, http.StatusUnauthorized, "Unauthorized", "invalid or missing X-Auth-Token")
		return
	}
	if ep == EndpointAction {
		s.serveAction(rw, r)
		return
	}
	if r.Method != http.MethodGet {
		jsonError(rw, http.StatusMethodNotAllowed, "Method not allowed", r.Method+" is not supported by this fake")
		return
	}
	switch ep {
	case EndpointList:
		s.serveList(rw, r)
	case EndpointOrder, EndpointEntries:
		s.serveOrder(rw, ep, id)
	case EndpointMerchantProduct:
		s.serveMerchantProduct(rw, id)
	default:
		jsonError(rw, http.StatusNotFound, "Not found", "unknown resource")
	}
}

// route names the endpoint and extracts the unescaped order id. The
// production prefix /shop/api/v2 is optional so both base URLs work.
func route(r *http.Request) (Endpoint, string) {
	p := r.URL.EscapedPath()
	p = strings.TrimPrefix(p, "/shop/api/v2")
	p = strings.TrimPrefix(p, "/v2")
	parts := strings.Split(strings.Trim(p, "/"), "/")
	if len(parts) == 3 && parts[0] == "masterproducts" && parts[2] == "merchantProduct" {
		if id, err := url.PathUnescape(parts[1]); err == nil && id != "" {
			return EndpointMerchantProduct, id
		}
	}
	if len(parts) == 0 || parts[0] != "orders" {
		return EndpointOther, ""
	}
	switch len(parts) {
	case 1:
		if r.Method == http.MethodPost {
			return EndpointAction, ""
		}
		return EndpointList, ""
	case 2, 3:
		id, err := url.PathUnescape(parts[1])
		if err != nil || id == "" {
			return EndpointOther, ""
		}
		if len(parts) == 2 {
			return EndpointOrder, id
		}
		if parts[2] == "entries" {
			return EndpointEntries, id
		}
	}
	return EndpointOther, ""
}

// acceptable reports whether an Accept header gets a JSON:API answer.
func acceptable(accept string) bool {
	if accept == "" {
		return false
	}
	for _, part := range strings.Split(accept, ",") {
		mt := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		switch mt {
		case "application/vnd.api+json", "application/json", "application/*", "*/*":
			return true
		}
	}
	return false
}

// serveList answers GET /orders.
func (s *Server) serveList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	pageNum, ok := intParam(q, "page[number]")
	if !ok || pageNum < 0 {
		jsonError(w, http.StatusBadRequest, "Bad request", "page[number] is required and must be a non-negative integer")
		return
	}
	pageSize, ok := intParam(q, "page[size]")
	if !ok || pageSize < 1 {
		jsonError(w, http.StatusBadRequest, "Bad request", "page[size] is required and must be a positive integer")
		return
	}
	if pageSize > MaxPageSize {
		jsonError(w, http.StatusBadRequest, "Bad request", fmt.Sprintf("page[size] must not exceed %d", MaxPageSize))
		return
	}
	includeEntries, includeUser := false, false
	if inc := q.Get("include[orders]"); inc != "" {
		for _, v := range strings.Split(inc, ",") {
			switch v {
			case "entries":
				includeEntries = true
			case "user":
				includeUser = true
			default:
				jsonError(w, http.StatusBadRequest, "Bad request", "unknown include "+v)
				return
			}
		}
	}
	if s.noInc {
		includeEntries = false
	}
	state := q.Get("filter[orders][state]")
	if state != "" && !slices.Contains(domain.AllStates, state) {
		jsonError(w, http.StatusBadRequest, "Bad request", "unknown state "+state)
		return
	}
	status := q.Get("filter[orders][status]")
	code, byCode := q.Get("filter[orders][code]"), q.Has("filter[orders][code]")

	now := s.now()
	var ge, le int64
	if !byCode {
		var ok bool
		ge, ok = int64Param(q, "filter[orders][creationDate][$ge]")
		if !ok {
			jsonError(w, http.StatusBadRequest, "Bad request", "filter[orders][creationDate][$ge] is required (epoch milliseconds)")
			return
		}
		le = now.UnixMilli()
		if q.Has("filter[orders][creationDate][$le]") {
			le, ok = int64Param(q, "filter[orders][creationDate][$le]")
			if !ok {
				jsonError(w, http.StatusBadRequest, "Bad request", "filter[orders][creationDate][$le] must be epoch milliseconds")
				return
			}
		}
		if le-ge > MaxWindow.Milliseconds() {
			jsonError(w, http.StatusBadRequest, "Bad request", "creationDate range must not exceed 14 days")
			return
		}
	}

	s.mu.Lock()
	var match []domain.Order
	for _, so := range s.orders {
		so.settle(now)
		o := so.o
		if !so.visible(now) {
			continue
		}
		if byCode && o.Code != code {
			continue
		}
		if !byCode && (o.CreationMs < ge || o.CreationMs > le || s.unlisted[o.Code]) {
			continue
		}
		if (state != "" && o.State != state) || (status != "" && o.Status != status) {
			continue
		}
		match = append(match, cloneOrder(o))
	}
	s.mu.Unlock()

	s.shuffle(match, q)
	total := len(match)
	pageCount := (total + pageSize - 1) / pageSize
	lo := min(pageNum*pageSize, total)
	hi := min(lo+pageSize, total)
	pg := match[lo:hi]

	doc := listDoc{Data: []orderResource{}, Included: []any{}, Meta: meta{PageCount: pageCount, TotalCount: total}}
	for _, o := range pg {
		doc.Data = append(doc.Data, s.orderResource(o, includeEntries))
		if includeEntries {
			for _, l := range o.Lines {
				doc.Included = append(doc.Included, s.offerless(o.Code, l, true, s.entryResource(l, o.PickupPointID)))
			}
		}
		if includeUser {
			doc.Included = append(doc.Included, newCustomerResource(o.Customer))
		}
	}
	writeJSON(w, http.StatusOK, doc)
}

// shuffle puts a result into an order that has nothing to do with
// creationDate: a permutation seeded by the fake's seed and the filter (not
// the page number, so the pages of one listing partition the result).
func (s *Server) shuffle(orders []domain.Order, q url.Values) {
	key := url.Values{}
	for k, v := range q {
		if k != "page[number]" {
			key[k] = v
		}
	}
	salt := fmt.Sprintf("%d|%s", s.seed, key.Encode())
	rank := make(map[string]uint64, len(orders))
	for _, o := range orders {
		h := fnv.New64a()
		h.Write([]byte(salt))
		h.Write([]byte(o.ID))
		rank[o.ID] = h.Sum64()
	}
	sort.Slice(orders, func(i, j int) bool { return rank[orders[i].ID] < rank[orders[j].ID] })
}

// serveOrder answers GET /orders/{id} and GET /orders/{id}/entries.
func (s *Server) serveOrder(w http.ResponseWriter, ep Endpoint, id string) {
	s.mu.Lock()
	so, ok := s.orders[id]
	var o domain.Order
	if ok && so.visible(s.now()) {
		so.settle(s.now())
		o = cloneOrder(so.o)
	} else {
		ok = false
	}
	s.mu.Unlock()
	if !ok {
		jsonError(w, http.StatusNotFound, "Not found", "order "+id+" not found")
		return
	}
	if ep == EndpointOrder {
		writeJSON(w, http.StatusOK, singleDoc{Data: s.orderResource(o, false), Included: []any{}})
		return
	}
	doc := entriesDoc{Data: []entryResource{}, Included: []any{}}
	for _, l := range o.Lines {
		doc.Data = append(doc.Data, s.offerless(o.Code, l, false, s.entryResource(l, o.PickupPointID)))
	}
	writeJSON(w, http.StatusOK, doc)
}

func (so *order) visible(now time.Time) bool {
	return so.visibleAt.IsZero() || !so.visibleAt.After(now)
}

func intParam(q url.Values, key string) (int, bool) {
	n, ok := int64Param(q, key)
	if !ok || n > 1<<31 {
		return 0, false
	}
	return int(n), true
}

func int64Param(q url.Values, key string) (int64, bool) {
	if !q.Has(key) {
		return 0, false
	}
	n, err := strconv.ParseInt(q.Get(key), 10, 64)
	return n, err == nil
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// b64 is the look of Kaspi ids: unpadded standard base64.
func b64(s string) string { return base64.RawStdEncoding.EncodeToString([]byte(s)) }
