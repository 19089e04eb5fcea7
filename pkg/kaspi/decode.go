package kaspi

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"

	"kaspi-amocrm/pkg/domain"
)

// The wire types below read only what the sync needs. Scalars go through
// the lenient types num, str and flag: a field that is null, missing or of
// an unexpected JSON type becomes its zero value instead of failing the whole
// page, because one odd order must not stop every other order from syncing.

// num is a JSON number that also accepts a numeric string; anything else is 0.
type num float64

func (n *num) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 1 && b[0] == '"' {
		var s string
		if json.Unmarshal(b, &s) == nil {
			b = []byte(s)
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		*n = 0
		return nil
	}
	*n = num(f)
	return nil
}

// ms converts an epoch-millisecond value, sent as a number, to int64.
func (n num) ms() int64 {
	if n <= 0 || n > 1e15 {
		return 0
	}
	return int64(n)
}

// str is a JSON string that also accepts a number (kept as written); null
// and other types are "".
type str string

func (s *str) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	var v string
	switch {
	case len(b) > 0 && b[0] == '"':
		if json.Unmarshal(b, &v) != nil {
			v = ""
		}
	case len(b) > 0 && (b[0] == '-' || (b[0] >= '0' && b[0] <= '9')):
		v = string(b)
	}
	*s = str(v)
	return nil
}

// flag is a JSON boolean that also accepts "true"; anything else is false.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	*f = flag(string(b) == "true" || string(b) == `"true"`)
	return nil
}

// resource is one JSON:API resource object (an order or an order entry).
// Links are ignored on purpose: Kaspi sends them relative or absolute
// depending on the version, so URLs are always built from ids.
type resource struct {
	Type          str             `json:"type"`
	ID            str             `json:"id"`
	Attributes    json.RawMessage `json:"attributes"`
	Relationships struct {
		Entries struct {
			Data json.RawMessage `json:"data"`
		} `json:"entries"`
		Product struct {
			Data *struct {
				ID str `json:"id"`
			} `json:"data"`
		} `json:"product"`
	} `json:"relationships"`
}

// document is a JSON:API top-level document. Data is kept raw because it is
// an array for lists and an object for single resources.
type document struct {
	Data     json.RawMessage `json:"data"`
	Included json.RawMessage `json:"included"`
	Meta     struct {
		PageCount  num `json:"pageCount"`
		TotalCount num `json:"totalCount"`
	} `json:"meta"`
	Errors []struct {
		Title  str `json:"title"`
		Detail str `json:"detail"`
	} `json:"errors"`
}

type address struct {
	StreetName       str `json:"streetName"`
	StreetNumber     str `json:"streetNumber"`
	Town             str `json:"town"`
	District         str `json:"district"`
	Building         str `json:"building"`
	Apartment        str `json:"apartment"`
	FormattedAddress str `json:"formattedAddress"`
}

type orderAttributes struct {
	Code                str      `json:"code"`
	TotalPrice          num      `json:"totalPrice"`
	PaymentMode         str      `json:"paymentMode"`
	CreditTerm          num      `json:"creditTerm"`
	CreationDate        num      `json:"creationDate"`
	PlannedDeliveryDate num      `json:"plannedDeliveryDate"`
	State               str      `json:"state"`
	Status              str      `json:"status"`
	DeliveryMode        str      `json:"deliveryMode"`
	IsKaspiDelivery     flag     `json:"isKaspiDelivery"`
	DeliveryCost        num      `json:"deliveryCost"`
	PickupPointID       str      `json:"pickupPointId"`
	CancellationReason  str      `json:"cancellationReason"`
	PreOrder            flag     `json:"preOrder"`
	Assembled           flag     `json:"assembled"`
	DeliveryAddress     *address `json:"deliveryAddress"`
	KaspiDelivery       *struct {
		Waybill       str `json:"waybill"`
		WaybillNumber str `json:"waybillNumber"`
	} `json:"kaspiDelivery"`
	Customer *struct {
		ID        str `json:"id"`
		Name      str `json:"name"`
		FirstName str `json:"firstName"`
		LastName  str `json:"lastName"`
		CellPhone str `json:"cellPhone"`
	} `json:"customer"`
}

type entryAttributes struct {
	Offer *struct {
		Code str `json:"code"`
		Name str `json:"name"`
	} `json:"offer"`
	Quantity    num `json:"quantity"`
	BasePrice   num `json:"basePrice"`
	TotalPrice  num `json:"totalPrice"`
	EntryNumber num `json:"entryNumber"`
	UnitType    str `json:"unitType"`
}

// page is one decoded list answer.
type page struct {
	orders    []domain.Order
	pageCount int
	total     int
}

// errNoData is returned for a document without a usable data member.
var errNoData = errors.New("document has no data")

// decodeOrders reads an orders list document (GET /orders). Lines are
// attached from included entries; an order whose lines are not all present
// in included keeps LinesLoaded false so the caller fetches them separately.
func decodeOrders(body []byte) (page, error) {
	var doc document
	if err := json.Unmarshal(body, &doc); err != nil {
		return page{}, err
	}
	var res []resource
	if err := decodeData(doc.Data, &res); err != nil {
		return page{}, err
	}
	entries := map[string]domain.Line{}
	var inc []resource
	// A broken included member only costs a fallback request per order.
	if decodeData(doc.Included, &inc) == nil {
		for _, r := range inc {
			if r.Type == "orderentries" && r.ID != "" {
				entries[string(r.ID)] = decodeLine(r)
			}
		}
	}
	p := page{pageCount: clampCount(doc.Meta.PageCount), total: clampCount(doc.Meta.TotalCount)}
	for _, r := range res {
		if r.Type != "" && r.Type != "orders" {
			continue
		}
		o, ok := decodeOrder(r)
		if !ok {
			continue
		}
		if o.Rejected == "" {
			o.Lines, o.LinesLoaded = attachLines(r.Relationships.Entries.Data, entries)
			for i := range o.Lines {
				cleanLine(&o.Lines[i])
			}
		}
		p.orders = append(p.orders, o)
	}
	return p, nil
}

// decodeEntries reads GET /orders/{id}/entries.
func decodeEntries(body []byte) ([]domain.Line, error) {
	var doc document
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, err
	}
	var res []resource
	if err := decodeData(doc.Data, &res); err != nil {
		return nil, err
	}
	lines := make([]domain.Line, 0, len(res))
	for _, r := range res {
		if r.Type != "" && r.Type != "orderentries" {
			continue
		}
		l := decodeLine(r)
		cleanLine(&l)
		lines = append(lines, l)
	}
	return lines, nil
}

// decodeData accepts data as an array, a single object (treated as a list of
// one) or null (an empty list).
func decodeData(raw json.RawMessage, out *[]resource) error {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0:
		return errNoData
	case bytes.Equal(raw, []byte("null")):
		*out = nil
		return nil
	case raw[0] == '{':
		var r resource
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
		*out = []resource{r}
		return nil
	}
	return json.Unmarshal(raw, out)
}

// decodeOrder reads one order. An order whose id, code, state or status
// is of the wrong shape comes back with Rejected set and only what names
// it; the text fields of a valid one are cleaned and cut (cleanOrder).
func decodeOrder(r resource) (domain.Order, bool) {
	var a orderAttributes
	if len(r.Attributes) == 0 || json.Unmarshal(r.Attributes, &a) != nil {
		return domain.Order{ID: string(r.ID), Rejected: "order attributes are not an object"}, true
	}
	o := domain.Order{
		ID:                 string(r.ID),
		Code:               string(a.Code),
		State:              string(a.State),
		Status:             string(a.Status),
		CreationMs:         a.CreationDate.ms(),
		TotalPrice:         float64(a.TotalPrice),
		PaymentMode:        string(a.PaymentMode),
		CreditTerm:         int(clampCount(a.CreditTerm)),
		PlannedDeliveryMs:  a.PlannedDeliveryDate.ms(),
		DeliveryMode:       string(a.DeliveryMode),
		IsKaspiDelivery:    bool(a.IsKaspiDelivery),
		DeliveryCost:       float64(a.DeliveryCost),
		PickupPointID:      string(a.PickupPointID),
		CancellationReason: string(a.CancellationReason),
		PreOrder:           bool(a.PreOrder),
		Assembled:          bool(a.Assembled),
	}
	if kd := a.KaspiDelivery; kd != nil {
		o.Waybill, o.WaybillNumber = string(kd.Waybill), string(kd.WaybillNumber)
	}
	if c := a.Customer; c != nil {
		// The phone is kept raw, masked or not: the sync decides what is usable.
		o.Customer = domain.Customer{
			ID: string(c.ID), Name: string(c.Name), FirstName: string(c.FirstName),
			LastName: string(c.LastName), Phone: string(c.CellPhone),
		}
	}
	if d := a.DeliveryAddress; d != nil {
		addr := domain.Address{
			Formatted: string(d.FormattedAddress), StreetName: string(d.StreetName),
			StreetNumber: string(d.StreetNumber), Town: string(d.Town),
			District: string(d.District), Building: string(d.Building), Apartment: string(d.Apartment),
		}
		if addr != (domain.Address{}) {
			o.Address = &addr
		}
	}
	if why := rejectReason(o); why != "" {
		return domain.Order{ID: o.ID, Code: o.Code, CreationMs: o.CreationMs, Rejected: why}, true
	}
	cleanOrder(&o)
	return o, true
}

func decodeLine(r resource) domain.Line {
	var a entryAttributes
	_ = json.Unmarshal(r.Attributes, &a) // a broken line keeps its id and zero values
	l := domain.Line{
		EntryID:     string(r.ID),
		EntryNumber: int(clampCount(a.EntryNumber)),
		Quantity:    float64(a.Quantity),
		BasePrice:   float64(a.BasePrice),
		TotalPrice:  float64(a.TotalPrice),
		UnitType:    string(a.UnitType),
	}
	if a.Offer != nil {
		l.SKU, l.Name = string(a.Offer.Code), string(a.Offer.Name)
	}
	if p := r.Relationships.Product.Data; p != nil {
		l.ProductID = string(p.ID)
	}
	return l
}

// attachLines resolves relationships.entries.data against included entries.
// It reports false (lines not loaded) when the relationship is absent, empty
// or names an entry that was not included: the entries endpoint then decides.
func attachLines(rel json.RawMessage, entries map[string]domain.Line) ([]domain.Line, bool) {
	var ids []struct {
		ID str `json:"id"`
	}
	if len(rel) == 0 || json.Unmarshal(rel, &ids) != nil || len(ids) == 0 {
		return nil, false
	}
	lines := make([]domain.Line, 0, len(ids))
	for _, id := range ids {
		l, ok := entries[string(id.ID)]
		if !ok {
			return nil, false
		}
		lines = append(lines, l)
	}
	return lines, true
}

// clampCount turns a count from the wire into a sane non-negative int.
func clampCount(n num) int {
	if n < 0 || n > 1e9 {
		return 0
	}
	return int(n)
}

// errorTitle returns errors[0].title (or detail) of a JSON:API error body.
func errorTitle(body []byte) (string, bool) {
	var doc document
	if json.Unmarshal(body, &doc) != nil || len(doc.Errors) == 0 {
		return "", false
	}
	e := doc.Errors[0]
	if e.Title != "" {
		return string(e.Title), true
	}
	return string(e.Detail), true
}
