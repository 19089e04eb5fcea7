package kaspifake

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// The merchant's status changes, POST /orders with a JSON:API body
// (docs/kaspi-api.md §6.2), and the transitions Kaspi allows from each
// status (§4.5): ACCEPTED_BY_MERCHANT only from APPROVED_BY_BANK;
// COMPLETED only from ACCEPTED_BY_MERCHANT (two steps with a code the
// buyer receives; Kaspi Delivery orders are completed by Kaspi); CANCELLED
// from APPROVED_BY_BANK or ACCEPTED_BY_MERCHANT with a reason the merchant
// may send (§4.4), BUYER_NOT_REACHABLE only for the merchant's own
// delivery or pickup; ASSEMBLE from ACCEPTED_BY_MERCHANT for Kaspi
// Delivery, after which the waybill appears asynchronously. A refusal is
// a 400 with a JSON:API errors[] document whose title says why.

// DefaultWaybillDelay is how long after ASSEMBLE the waybill appears.
const DefaultWaybillDelay = 3 * time.Second

// Status values only a status change carries.
const (
	actionAssemble = "ASSEMBLE"
)

// MerchantCancellationReasons are the reasons a merchant may send (§4.4).
var MerchantCancellationReasons = []string{
	"BUYER_CANCELLATION_BY_MERCHANT", "BUYER_NOT_REACHABLE", "MERCHANT_OUT_OF_STOCK",
}

// maxCancellationComment is the documented cap of cancellationComment.
const maxCancellationComment = 1000

// Refusal titles, as Kaspi's errors[].title.
const (
	TitleNotAllowed   = "Order status change is not allowed"
	TitleWrongCode    = "Invalid security code"
	TitleNoCodeSent   = "Security code was not requested"
	TitleBadReason    = "Invalid cancellation reason"
	TitleKaspiDeliver = "Kaspi Delivery orders are completed by Kaspi"
)

type actionDoc struct {
	Data *struct {
		Type       string `json:"type"`
		ID         string `json:"id"`
		Attributes struct {
			Code                string          `json:"code"`
			Status              string          `json:"status"`
			CancellationReason  string          `json:"cancellationReason"`
			CancellationComment string          `json:"cancellationComment"`
			NumberOfSpace       json.RawMessage `json:"numberOfSpace"`
		} `json:"attributes"`
	} `json:"data"`
}

// serveAction answers POST /orders.
func (s *Server) serveAction(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/vnd.api+json" {
		// Every documented POST carries the JSON:API media type (§1).
		jsonError(w, http.StatusUnsupportedMediaType, "Unsupported media type", "Content-Type must be application/vnd.api+json")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		jsonError(w, http.StatusBadRequest, "Bad request", "unreadable body")
		return
	}
	var doc actionDoc
	if err := json.Unmarshal(body, &doc); err != nil || doc.Data == nil {
		jsonError(w, http.StatusBadRequest, "Bad request", "body must be a JSON:API document with data")
		return
	}
	d := doc.Data
	a := d.Attributes
	switch {
	case d.Type != "orders":
		jsonError(w, http.StatusBadRequest, "Bad request", "data.type must be orders")
		return
	case d.ID == "":
		jsonError(w, http.StatusBadRequest, "Bad request", "data.id is required")
		return
	case a.Status == "":
		jsonError(w, http.StatusBadRequest, "Bad request", "data.attributes.status is required")
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	change := Change{OrderID: d.ID, Status: a.Status}
	sw, _ := w.(*statusWriter)
	defer func() {
		if change.Answer = http.StatusOK; sw != nil && sw.status != 0 {
			change.Answer = sw.status
		}
		s.changes = append(s.changes, change)
	}()
	now := s.now()
	so, ok := s.orders[d.ID]
	if !ok || !so.visible(now) {
		jsonError(w, http.StatusNotFound, "Not found", "order "+d.ID+" not found")
		return
	}
	change.Code = so.o.Code
	so.settle(now)
	o := &so.o
	if a.Code != "" && a.Code != o.Code {
		jsonError(w, http.StatusBadRequest, "Bad request", "data.attributes.code does not match the order")
		return
	}
	refuse := func(title, detail string) { jsonError(w, http.StatusBadRequest, title, detail) }
	from := o.Status
	switch a.Status {
	case domain.StatusAcceptedByMerchant:
		if from != domain.StatusApprovedByBank || o.State != domain.StateNew {
			refuse(TitleNotAllowed, "ACCEPTED_BY_MERCHANT only from APPROVED_BY_BANK; the order is "+from)
			return
		}
		o.State, o.Status = acceptedState(*o), domain.StatusAcceptedByMerchant

	case domain.StatusCancelled:
		if from != domain.StatusApprovedByBank && from != domain.StatusAcceptedByMerchant {
			refuse(TitleNotAllowed, "CANCELLED only from APPROVED_BY_BANK or ACCEPTED_BY_MERCHANT; the order is "+from)
			return
		}
		if !slices.Contains(MerchantCancellationReasons, a.CancellationReason) {
			refuse(TitleBadReason, "cancellationReason must be one of "+strings.Join(MerchantCancellationReasons, ", "))
			return
		}
		if a.CancellationReason == "BUYER_NOT_REACHABLE" && o.State != domain.StatePickup && o.State != domain.StateDelivery {
			refuse(TitleBadReason, "BUYER_NOT_REACHABLE only for the merchant's own delivery or pickup")
			return
		}
		if len([]rune(a.CancellationComment)) > maxCancellationComment {
			refuse("Bad request", fmt.Sprintf("cancellationComment must not exceed %d characters", maxCancellationComment))
			return
		}
		o.State, o.Status, o.CancellationReason = domain.StateArchive, domain.StatusCancelled, a.CancellationReason
		so.cancelComment = a.CancellationComment

	case actionAssemble:
		if from != domain.StatusAcceptedByMerchant || o.State != domain.StateKaspiDelivery {
			refuse(TitleNotAllowed, "ASSEMBLE only for an accepted Kaspi Delivery order; the order is "+o.State+"/"+from)
			return
		}
		n, ok := parcels(a.NumberOfSpace)
		if !ok {
			refuse("Bad request", "numberOfSpace must be a positive whole number")
			return
		}
		if o.Assembled {
			refuse(TitleNotAllowed, "the order is already assembled")
			return
		}
		o.Assembled = true
		so.parcels = n
		so.waybillAt = now.Add(s.waybill)

	case domain.StatusCompleted:
		if o.IsKaspiDelivery {
			refuse(TitleKaspiDeliver, "Kaspi completes Kaspi Delivery orders itself")
			return
		}
		if from != domain.StatusAcceptedByMerchant {
			refuse(TitleNotAllowed, "COMPLETED only from ACCEPTED_BY_MERCHANT; the order is "+from)
			return
		}
		if r.Header.Get("X-Send-Code") != "true" {
			refuse("Bad request", "X-Send-Code: true is required")
			return
		}
		code, sent := r.Header.Get("X-Security-Code"), r.Header.Values("X-Security-Code")
		if len(sent) == 0 {
			refuse("Bad request", "X-Security-Code is required (empty to send the buyer a code)")
			return
		}
		if code == "" {
			so.codesSent++
			so.sentCode = fmt.Sprintf("%04d", (len(o.Code)*7919+so.codesSent*104729)%10000)
			so.codeTries = 0
			break
		}
		if so.sentCode == "" {
			refuse(TitleNoCodeSent, "send the buyer a code first (empty X-Security-Code)")
			return
		}
		if code != so.sentCode {
			so.codeTries++
			refuse(TitleWrongCode, "the code does not match the one sent to the buyer")
			return
		}
		o.State, o.Status = domain.StateArchive, domain.StatusCompleted
		so.sentCode = ""

	default:
		refuse("Bad request", "unknown status "+strconv.Quote(a.Status))
		return
	}
	writeJSON(w, http.StatusOK, singleDoc{Data: s.orderResource(cloneOrder(*o), false), Included: []any{}})
}

// acceptedState is the state an accepted order moves to by its delivery.
func acceptedState(o domain.Order) string {
	switch {
	case o.IsKaspiDelivery:
		return domain.StateKaspiDelivery
	case o.DeliveryMode == "DELIVERY_PICKUP" || o.DeliveryMode == "DELIVERY_REGIONAL_PICKUP":
		return domain.StatePickup
	}
	return domain.StateDelivery
}

// parcels reads numberOfSpace, sent as a string or a number (§6.2).
func parcels(raw json.RawMessage) (int, bool) {
	if len(raw) == 0 {
		return 0, false
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0, false
	}
	var n int64
	switch x := v.(type) {
	case float64:
		if x != float64(int64(x)) {
			return 0, false
		}
		n = int64(x)
	case string:
		var err error
		if n, err = strconv.ParseInt(x, 10, 32); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	return int(n), n >= 1 && n <= 1000
}

// settle makes what happens on Kaspi's side by itself happen by now: the
// waybill of an assembled order appears once its delay has passed.
func (so *order) settle(now time.Time) {
	if so.o.Assembled && so.o.Waybill == "" && !so.waybillAt.IsZero() && !now.Before(so.waybillAt) {
		so.o.Waybill = "https://kaspi.kz/shop/api/v2/orders/" + url.PathEscape(so.o.ID) + "/waybill.pdf"
		so.o.WaybillNumber = "KD" + strconv.FormatInt(int64(len(so.o.Code))*1000003+now.Unix()%100000, 10)
	}
}

// SentCode returns the code last sent to the buyer of order code for
// completion, as the buyer would read it in the Kaspi.kz app.
func (s *Server) SentCode(code string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	so, err := s.find(code)
	if err != nil || so.sentCode == "" {
		return "", false
	}
	return so.sentCode, true
}

// Parcels returns the numberOfSpace an accepted ASSEMBLE of order code
// carried (0 before one).
func (s *Server) Parcels(code string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	so, err := s.find(code)
	if err != nil {
		return 0
	}
	return so.parcels
}

// CancellationComment returns the cancellationComment the merchant's
// cancel of order code carried.
func (s *Server) CancellationComment(code string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	so, err := s.find(code)
	if err != nil {
		return ""
	}
	return so.cancelComment
}

// BuyerCancel cancels an order as the buyer does, at any time before it
// is final.
func (s *Server) BuyerCancel(code string) error {
	return s.SetStatus(code, domain.StateArchive, domain.StatusCancelled, "BUYER_CANCELLATION_HIMSELF")
}

// Change is one status change POSTed to /orders as the fake received it:
// the order (its code when the id was known), the status asked for, and
// the HTTP status answered.
type Change struct {
	OrderID, Code, Status string
	Answer                int
}

// Changes returns every status change received, refused ones too, in
// order: a test counts what reached Kaspi per order (a second POST of the
// same change is what exactly-once forbids).
func (s *Server) Changes() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.changes)
}
