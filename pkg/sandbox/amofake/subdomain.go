package amofake

import "net/http"

// currentSubdomain is GET /oauth2/account/current/subdomain, which the
// official SDK (AmoCRMOAuth) asks on the api_domain host with the header
// X-Refresh-Token to find an account whose subdomain was renamed. A
// refresh token the fake does not know is a 401.
func (s *Server) currentSubdomain(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		problem(w, http.StatusMethodNotAllowed, "Method not allowed")
		return
	}
	s.mu.Lock()
	rt := s.refresh[r.Header.Get("X-Refresh-Token")]
	sub, domain := s.opts.Subdomain, s.opts.Domain
	s.mu.Unlock()
	if rt == nil || !rt.valid {
		problem(w, http.StatusUnauthorized, "refresh token is invalid")
		return
	}
	if sub == "" {
		sub = "sandbox"
	}
	if domain == "" {
		domain = sub + ".amocrm.ru"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": AccountID, "subdomain": sub, "domain": domain, "top_level_domain": "ru",
	})
}

// Rename renames the account: the subdomain endpoint reports the new
// subdomain and domain.
func (s *Server) Rename(subdomain, domain string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Subdomain, s.opts.Domain = subdomain, domain
}
