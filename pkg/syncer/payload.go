package syncer

import (
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"kaspi-amocrm/pkg/domain"
)

// maxNameLen is the longest name amoCRM accepts for a lead, contact or
// catalog element.
const maxNameLen = 255

// Tags put on every deal the sync creates.
var leadTags = []string{"Kaspi", "Marketplace"}

// leadName is the deal name, as the PHP version wrote it, so that managers'
// saved searches keep working.
func leadName(code string) string { return cut("Kaspi Order "+code, maxNameLen) }

// cut shortens s to at most n characters (runes), trimming spaces.
func cut(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n]))
}

// contactNames returns the first and last name for a contact: Kaspi's
// firstName/lastName, else its full name split at the first space, else a
// placeholder a manager recognises.
func contactNames(c domain.Customer) (first, last string) {
	first, last = strings.TrimSpace(c.FirstName), strings.TrimSpace(c.LastName)
	if first == "" && last == "" {
		name := strings.Join(strings.Fields(c.Name), " ")
		if i := strings.IndexByte(name, ' '); i > 0 {
			first, last = name[:i], name[i+1:]
		} else {
			first = name
		}
	}
	if first == "" && last == "" {
		first, last = "Покупатель", "Kaspi"
	}
	return cut(first, maxNameLen), cut(last, maxNameLen)
}

// newContact is the contact created for an order's customer: names,
// the phone as PHONE/MOB and the delivery address when a field is set.
// RequestID is the phone, which also de-duplicates a batch.
func newContact(o *domain.Order, e164 string, addressFieldID int64) domain.Contact {
	first, last := contactNames(o.Customer)
	c := domain.Contact{
		RequestID: e164,
		Name:      cut(strings.TrimSpace(first+" "+last), maxNameLen),
		FirstName: first,
		LastName:  last,
		Phones:    []string{e164},
	}
	if addr := addressText(o.Address); addressFieldID != 0 && addr != "" {
		c.Fields = append(c.Fields, textField(addressFieldID, addr))
	}
	return c
}

// newElement is the catalog element created for an order line: its
// name, SKU (offer.code) and unit price.
func newElement(catalogID int64, l domain.Line) domain.Element {
	name := cut(l.Name, maxNameLen)
	if name == "" {
		name = l.SKU
	}
	return domain.Element{RequestID: l.SKU, CatalogID: catalogID, Name: name, SKU: l.SKU, Price: l.BasePrice}
}

// leadFieldSet are the lead custom fields the sync fills, with the type of
// the order date field as amoCRM reports it ("" = unknown, written as text).
type leadFieldSet struct {
	OrderCodeID       int64
	OrderDateID       int64
	OrderDateType     string
	DeliveryAddressID int64
	// AccountZone is the amoCRM account's time zone: a date field holds
	// the order's day as midnight there (nil: the order's zone).
	AccountZone *time.Location
}

// newLead is the deal for an order: name, integer price, the configured
// pipeline/status/responsible (left out when 0), tags, custom fields and
// the contact as main. RequestID is the order code.
func newLead(o *domain.Order, cfg Config, f leadFieldSet, contactID int64, loc *time.Location) domain.Lead {
	l := domain.Lead{
		RequestID:         o.Code,
		Name:              leadName(o.Code),
		Price:             int64(math.Round(o.TotalPrice)),
		PipelineID:        cfg.PipelineID,
		StatusID:          cfg.StatusID,
		ResponsibleUserID: cfg.ResponsibleUserID,
		Tags:              append([]string(nil), leadTags...),
		ContactID:         contactID,
	}
	if f.OrderCodeID != 0 {
		l.Fields = append(l.Fields, textField(f.OrderCodeID, o.Code))
	}
	if f.OrderDateID != 0 && o.CreationMs > 0 {
		l.Fields = append(l.Fields, domain.FieldValue{FieldID: f.OrderDateID,
			Values: []domain.FieldItem{{Value: dateValueIn(o.CreationMs, f.OrderDateType, loc, f.AccountZone)}}})
	}
	if addr := addressText(o.Address); f.DeliveryAddressID != 0 && addr != "" {
		l.Fields = append(l.Fields, textField(f.DeliveryAddressID, addr))
	}
	return l
}

// dateValue is an order date as a custom field value: unix seconds for
// date_time, midnight of the Almaty day for date and birthday fields, and
// ISO 8601 in Asia/Almaty for text fields (what the PHP version wrote).
func dateValue(ms int64, fieldType string, loc *time.Location) any {
	return dateValueIn(ms, fieldType, loc, loc)
}

// dateValueIn is dateValue for an account kept in another time zone: a
// date or birthday field shows the order's day (in loc) only when sent as
// that day's midnight in the account's zone (nil: loc). date_time stays
// unix seconds, text stays ISO 8601 in loc.
func dateValueIn(ms int64, fieldType string, loc, account *time.Location) any {
	if account == nil {
		account = loc
	}
	t := time.UnixMilli(ms).In(loc)
	switch fieldType {
	case "date_time":
		return t.Unix()
	case "date", "birthday":
		y, m, d := t.Date()
		return time.Date(y, m, d, 0, 0, 0, 0, account).Unix()
	}
	return t.Format(time.RFC3339)
}

func textField(id int64, s string) domain.FieldValue {
	return domain.FieldValue{FieldID: id, Values: []domain.FieldItem{{Value: s}}}
}

// productLinks are an order's catalog links: one per element, quantities of
// lines sharing a SKU added up. Lines whose SKU has no element are left
// out.
func productLinks(leadID, catalogID int64, lines []domain.Line, elements map[string]int64) []domain.Link {
	var out []domain.Link
	idx := map[int64]int{}
	for _, l := range lines {
		id := elements[l.SKU]
		if id == 0 {
			continue
		}
		q := l.Quantity
		if q <= 0 {
			q = 1
		}
		if i, ok := idx[id]; ok {
			out[i].Quantity += q
			continue
		}
		idx[id] = len(out)
		out = append(out, domain.Link{LeadID: leadID, ElementID: id, CatalogID: catalogID, Quantity: q})
	}
	return out
}

// almaty is Kaspi's time zone.
var almaty = domain.Almaty
