package kaspifake

import (
	"net/http"
	"time"
)

// Fault is one injected misbehaviour. Delay is applied first (the wait ends
// early if the client gives up); then the fault answers with Status and an
// HTML, malformed-JSON or JSON error body, or, when Status is 0 and no body
// kind is set, lets the request be served normally (a slow answer).
type Fault struct {
	Status    int           // HTTP status to answer; 0 with Malformed means 200
	HTML      bool          // an HTML page instead of JSON
	Malformed bool          // a cut-off JSON body
	Delay     time.Duration // wait before answering
}

// ServerError is a 503 with a JSON:API error body.
func ServerError() Fault { return Fault{Status: http.StatusServiceUnavailable} }

// TooManyRequests is a 429 with a JSON:API error body.
func TooManyRequests() Fault { return Fault{Status: http.StatusTooManyRequests} }

// HTMLPage is a 200 whose body is an HTML page (a proxy or WAF answer).
func HTMLPage() Fault { return Fault{Status: http.StatusOK, HTML: true} }

// MalformedJSON is a 200 whose JSON body is cut off.
func MalformedJSON() Fault { return Fault{Malformed: true} }

// Slow delays the answer by d and then serves the request normally.
func Slow(d time.Duration) Fault { return Fault{Delay: d} }

// Fail makes the next n requests to ep (EndpointAny: to any endpoint) answer
// with f. Faults queue up in the order they were added.
func (s *Server) Fail(ep Endpoint, f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[ep] = append(s.faults[ep], f)
	}
}

// ClearFaults drops every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[Endpoint][]Fault{}
}

// takeFault pops the next fault for ep, its own queue first.
func (s *Server) takeFault(ep Endpoint) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, key := range []Endpoint{ep, EndpointAny} {
		if q := s.faults[key]; len(q) > 0 {
			s.faults[key] = q[1:]
			return q[0], true
		}
	}
	return Fault{}, false
}

// serve applies the fault and reports whether it answered the request.
func (f Fault) serve(w http.ResponseWriter, r *http.Request) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return true
		case <-t.C:
		}
	}
	status := f.Status
	switch {
	case f.HTML:
		if status == 0 {
			status = http.StatusOK
		}
		htmlPage(w, status, "Request Rejected")
	case f.Malformed:
		if status == 0 {
			status = http.StatusOK
		}
		w.Header().Set("Content-Type", "application/vnd.api+json;charset=UTF-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"data":[{"type":"orders","id":"NjEy","attributes":{"code":"61`))
	case status != 0:
		jsonError(w, status, http.StatusText(status), "injected fault")
	default:
		return false
	}
	return true
}
