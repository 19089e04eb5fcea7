package kaspifake

import "net/http"

// Stores serves several Kaspi stores at one address, as Kaspi does: each
// request goes to the store whose token it carries, so every token sees
// only its own store's orders. A request with no known token goes to the
// first store, which refuses it (401) like any unknown token.
func Stores(stores ...*Server) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := r.Header.Get("X-Auth-Token")
		for _, s := range stores {
			if s.token != "" && tok == s.token {
				s.ServeHTTP(w, r)
				return
			}
		}
		stores[0].ServeHTTP(w, r)
	})
}
