package amofake

import (
	"net/http"
	"net/http/httptest"
	"path"
	"time"
)

// FaultKind is what an injected fault does to a request.
type FaultKind string

const (
	// FaultStatus answers Status (default 500) with an HTML gateway page;
	// the request is not applied.
	FaultStatus FaultKind = "status"
	// Fault429 answers 429 with the nginx HTML page; not applied. It counts
	// in Count429 but never towards a ban.
	Fault429 FaultKind = "429"
	// FaultMalformed answers 200 with a body that is not JSON; not applied.
	FaultMalformed FaultKind = "malformed"
	// FaultDelay waits Delay (or until the client gives up) and then
	// serves the request normally.
	FaultDelay FaultKind = "delay"
	// FaultGhost applies the request and then loses the answer: 504 HTML.
	FaultGhost FaultKind = "ghost"
	// FaultGhostDrop applies the request and then drops the connection
	// without an answer.
	FaultGhostDrop FaultKind = "ghost-drop"
)

// Fault is an injected failure for the next Times requests matching Method
// and Path. Path is a path.Match pattern ("/api/v4/leads",
// "/api/v4/leads/*/notes"); empty Method or Path match anything.
type Fault struct {
	Method string
	Path   string
	Kind   FaultKind
	Times  int           // 0 means once
	Status int           // for FaultStatus
	Delay  time.Duration // for FaultDelay
}

// InjectFault queues a fault. Faults are matched in the order injected.
func (s *Server) InjectFault(f Fault) {
	if f.Times <= 0 {
		f.Times = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults drops every pending fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault consumes one use of the first fault matching r. Caller holds mu.
func (s *Server) takeFault(r *http.Request) *Fault {
	for i, f := range s.faults {
		if f.Method != "" && f.Method != r.Method {
			continue
		}
		if f.Path != "" {
			if ok, _ := path.Match(f.Path, r.URL.Path); !ok {
				continue
			}
		}
		f.Times--
		if f.Times <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		c := *f
		return &c
	}
	return nil
}

func (s *Server) serveWithFault(w *statusRecorder, r *http.Request, f *Fault) {
	if f == nil {
		s.route(w, r)
		return
	}
	switch f.Kind {
	case FaultStatus:
		status := f.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		nginxPage(w, status)
	case Fault429:
		s.mu.Lock()
		s.count429++
		s.mu.Unlock()
		nginxPage(w, http.StatusTooManyRequests)
	case FaultMalformed:
		w.Header().Set("Content-Type", "application/hal+json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(`{"_page":1,"_embedded":{"leads":[{"id":`))
	case FaultDelay:
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
			s.route(w, r)
		case <-r.Context().Done():
		}
	case FaultGhost, FaultGhostDrop:
		// Apply the request, then throw the answer away.
		s.route(httptest.NewRecorder(), r)
		if f.Kind == FaultGhost {
			nginxPage(w, http.StatusGatewayTimeout)
			return
		}
		if hj, ok := w.ResponseWriter.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
		// No hijacking (HTTP/2, a recorder): the nearest thing is a 504.
		nginxPage(w, http.StatusGatewayTimeout)
	default:
		s.route(w, r)
	}
}
