package kaspi

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"kaspi-amocrm/pkg/domain"
)

// Limits of what an order from the wire may hold. An id, code, state or
// status outside them makes the order rejected (set aside, nothing of it
// stored); every other text field is cleaned and cut.
const (
	MaxCodeLen   = 64  // order code: 1–64 of [0-9A-Za-z-]
	MaxIDLen     = 128 // API id: 1–128 of [A-Za-z0-9+/=_-]
	MaxStateLen  = 32  // orders_map.order_state
	MaxStatusLen = 64  // orders_map.order_status
	maxPhoneLen  = 32  // orders_map.phone, contact_cache.phone
	maxSKULen    = 191 // element_cache.sku
	maxTextLen   = 255 // names, modes, ids of other things
	maxLongLen   = 1000
)

// ValidCode reports whether s has the shape of a Kaspi order code.
func ValidCode(s string) bool {
	if len(s) == 0 || len(s) > MaxCodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// ValidID reports whether s has the shape of a Kaspi API id.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > MaxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '+' || c == '/' || c == '=' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// validWord reports whether a state or status fits its column and holds
// no control character.
func validWord(s string, limit int) bool {
	if len(s) > limit {
		return false
	}
	return strings.IndexFunc(s, unicode.IsControl) < 0
}

// rejectReason says why o cannot be imported; "" when it can.
func rejectReason(o domain.Order) string {
	switch {
	case o.Code == "":
		return "no order code"
	case !ValidCode(o.Code):
		return fmt.Sprintf("order code of %d bytes is not 1–%d characters of 0-9, A-Z, a-z, -", len(o.Code), MaxCodeLen)
	case !ValidID(o.ID):
		return fmt.Sprintf("order id of %d bytes is not 1–%d characters of A-Z, a-z, 0-9, +/=_-", len(o.ID), MaxIDLen)
	case !validWord(o.State, MaxStateLen):
		return fmt.Sprintf("state of %d bytes (at most %d, no control characters)", len(o.State), MaxStateLen)
	case !validWord(o.Status, MaxStatusLen):
		return fmt.Sprintf("status of %d bytes (at most %d, no control characters)", len(o.Status), MaxStatusLen)
	}
	return ""
}

// cleanText drops control characters (a line break or tab becomes a
// space) and invalid UTF-8, trims, and cuts to limit characters: what
// goes into the database and to amoCRM can neither break an insert nor
// carry hidden bytes.
func cleanText(s string, limit int) string {
	clean := true
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || unicode.IsControl(r) {
			clean = false
			break
		}
		i += n
	}
	if !clean {
		var b strings.Builder
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			i += n
			switch {
			case r == utf8.RuneError && n <= 1:
			case r == '\t' || r == '\n' || r == '\r':
				b.WriteByte(' ')
			case unicode.IsControl(r):
			default:
				b.WriteRune(r)
			}
		}
		s = b.String()
	}
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > limit {
		s = strings.TrimSpace(string([]rune(s)[:limit]))
	}
	return s
}

// cleanOrder cleans and cuts every text field of a valid order.
func cleanOrder(o *domain.Order) {
	for _, f := range []*string{&o.PaymentMode, &o.DeliveryMode, &o.PickupPointID, &o.Waybill, &o.WaybillNumber,
		&o.Customer.ID, &o.Customer.Name, &o.Customer.FirstName, &o.Customer.LastName} {
		*f = cleanText(*f, maxTextLen)
	}
	o.CancellationReason = cleanText(o.CancellationReason, maxLongLen)
	o.Customer.Phone = cleanText(o.Customer.Phone, maxPhoneLen)
	if a := o.Address; a != nil {
		a.Formatted = cleanText(a.Formatted, maxLongLen)
		for _, f := range []*string{&a.StreetName, &a.StreetNumber, &a.Town, &a.District, &a.Building, &a.Apartment} {
			*f = cleanText(*f, maxTextLen)
		}
	}
	for i := range o.Lines {
		cleanLine(&o.Lines[i])
	}
}

func cleanLine(l *domain.Line) {
	l.EntryID = cleanText(l.EntryID, MaxIDLen)
	l.SKU = cleanText(l.SKU, maxSKULen)
	l.Name = cleanText(l.Name, maxTextLen)
	l.UnitType = cleanText(l.UnitType, maxTextLen)
}
