package kaspifake

import (
	"net/http"
	"strconv"

	"kaspi-amocrm/pkg/domain"
)

// Order entries can come without offer (the merchant's own code and name):
// the older guide does not list it, and integrators met entries without it
// (Kaspi API reference sections 5 and 11). The fake can leave it out of the
// listing's included entries only, or everywhere; the merchant's code may
// then be found through the master product's merchantProduct, whose data
// is often null.

const (
	offerMissingInListing  = 1
	offerMissingEverywhere = 2
)

// DropOffer serves entry entryNumber of order code without offer: in the
// listing's included entries only (everywhere false), or also from
// /orders/{id}/entries.
func (s *Server) DropOffer(code string, entryNumber int, everywhere bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noOffer == nil {
		s.noOffer = map[string]int{}
	}
	level := offerMissingInListing
	if everywhere {
		level = offerMissingEverywhere
	}
	s.noOffer[code+"#"+strconv.Itoa(entryNumber)] = level
}

// SetMerchantProduct makes /masterproducts/{id}/merchantProduct of the
// line with this SKU answer the merchant's code (otherwise its data is null).
func (s *Server) SetMerchantProduct(sku, merchantCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.merchantCodes == nil {
		s.merchantCodes = map[string]string{}
	}
	s.merchantCodes[b64("mp:"+sku)] = merchantCode
}

// offerless drops the entry's offer where DropOffer asked for it.
func (s *Server) offerless(code string, l domain.Line, inListing bool, r entryResource) entryResource {
	s.mu.Lock()
	level := s.noOffer[code+"#"+strconv.Itoa(l.EntryNumber)]
	s.mu.Unlock()
	if level == offerMissingEverywhere || (level == offerMissingInListing && inListing) {
		r.Attributes.Offer = nil
	}
	return r
}

// serveMerchantProduct answers GET /masterproducts/{id}/merchantProduct:
// a merchantproducts resource, or data null when the link is not known.
func (s *Server) serveMerchantProduct(w http.ResponseWriter, id string) {
	s.mu.Lock()
	code, ok := s.merchantCodes[id]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"data": nil, "included": []any{}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{
		"type": "merchantproducts", "id": b64("merch:" + code),
		"attributes": map[string]any{"code": code, "name": "", "manufacturer": ""},
	}, "included": []any{}})
}

// Unlist leaves an order out of creationDate listings while a lookup by
// code still finds it: a sweep of its date range then misses it.
func (s *Server) Unlist(code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unlisted == nil {
		s.unlisted = map[string]bool{}
	}
	s.unlisted[code] = true
}
