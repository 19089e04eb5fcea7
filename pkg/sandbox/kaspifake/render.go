package kaspifake

import (
	"encoding/json"
	"html"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// The wire shapes follow the documented examples field by field, including
// the fields the client ignores, so a decoder tested here meets the same
// document it will meet in production.

type meta struct {
	PageCount  int `json:"pageCount"`
	TotalCount int `json:"totalCount"`
}

type listDoc struct {
	Data     []orderResource `json:"data"`
	Included []any           `json:"included"`
	Meta     meta            `json:"meta"`
}

type singleDoc struct {
	Data     orderResource `json:"data"`
	Included []any         `json:"included"`
}

type entriesDoc struct {
	Data     []entryResource `json:"data"`
	Included []any           `json:"included"`
}

type links struct {
	Self    string `json:"self"`
	Related string `json:"related,omitempty"`
}

type ref struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type orderResource struct {
	Type          string          `json:"type"`
	ID            string          `json:"id"`
	Attributes    orderAttributes `json:"attributes"`
	Relationships struct {
		Entries struct {
			Links links  `json:"links"`
			Data  *[]ref `json:"data,omitempty"`
		} `json:"entries"`
		User struct {
			Links links `json:"links"`
			Data  ref   `json:"data"`
		} `json:"user"`
	} `json:"relationships"`
	Links links `json:"links"`
}

type wireAddress struct {
	StreetName       *string `json:"streetName"`
	StreetNumber     *string `json:"streetNumber"`
	Town             *string `json:"town"`
	District         *string `json:"district"`
	Building         *string `json:"building"`
	Apartment        *string `json:"apartment"`
	FormattedAddress *string `json:"formattedAddress"`
	Latitude         float64 `json:"latitude"`
	Longitude        float64 `json:"longitude"`
}

type kaspiDelivery struct {
	Waybill                         *string `json:"waybill"`
	WaybillNumber                   *string `json:"waybillNumber"`
	CourierTransmissionPlanningDate int64   `json:"courierTransmissionPlanningDate"`
	CourierTransmissionDate         *int64  `json:"courierTransmissionDate"`
	Express                         bool    `json:"express"`
	ReturnedToWarehouse             bool    `json:"returnedToWarehouse"`
	FirstMileCourier                *string `json:"firstMileCourier"`
}

type originAddress struct {
	ID          string      `json:"id"`
	DisplayName string      `json:"displayName"`
	Address     wireAddress `json:"address"`
	City        struct {
		ID     string `json:"id"`
		Code   string `json:"code"`
		Name   string `json:"name"`
		Active bool   `json:"active"`
	} `json:"city"`
}

type customer struct {
	ID        string  `json:"id"`
	Name      *string `json:"name"`
	CellPhone string  `json:"cellPhone"`
	FirstName string  `json:"firstName"`
	LastName  string  `json:"lastName"`
}

type orderAttributes struct {
	Code                  string         `json:"code"`
	TotalPrice            money          `json:"totalPrice"`
	PaymentMode           string         `json:"paymentMode"`
	CreditTerm            int            `json:"creditTerm"`
	CreationDate          int64          `json:"creationDate"`
	ApprovedByBankDate    int64          `json:"approvedByBankDate"`
	PlannedDeliveryDate   *int64         `json:"plannedDeliveryDate"`
	DeliveryCostForSeller money          `json:"deliveryCostForSeller"`
	IsKaspiDelivery       bool           `json:"isKaspiDelivery"`
	DeliveryMode          string         `json:"deliveryMode"`
	DeliveryAddress       *wireAddress   `json:"deliveryAddress,omitempty"`
	SignatureRequired     bool           `json:"signatureRequired"`
	PreOrder              bool           `json:"preOrder"`
	PickupPointID         string         `json:"pickupPointId"`
	State                 string         `json:"state"`
	Status                string         `json:"status"`
	Assembled             bool           `json:"assembled"`
	KaspiDelivery         *kaspiDelivery `json:"kaspiDelivery,omitempty"`
	OriginAddress         *originAddress `json:"originAddress,omitempty"`
	CancellationReason    string         `json:"cancellationReason,omitempty"`
	Customer              customer       `json:"customer"`
	DeliveryCost          money          `json:"deliveryCost"`
}

type entryResource struct {
	Type          string          `json:"type"`
	ID            string          `json:"id"`
	Attributes    entryAttributes `json:"attributes"`
	Relationships struct {
		Product struct {
			Links links `json:"links"`
			Data  ref   `json:"data"`
		} `json:"product"`
		DeliveryPointOfService struct {
			Links links `json:"links"`
			Data  ref   `json:"data"`
		} `json:"deliveryPointOfService"`
	} `json:"relationships"`
	Links links `json:"links"`
}

type entryAttributes struct {
	UnitType    string `json:"unitType"`
	Offer       *offer `json:"offer,omitempty"`
	Quantity    qty    `json:"quantity"`
	BasePrice   money  `json:"basePrice"`
	TotalPrice  money  `json:"totalPrice"`
	Weight      money  `json:"weight"`
	EntryNumber int    `json:"entryNumber"`
	Category    struct {
		Code  string `json:"code"`
		Title string `json:"title"`
	} `json:"category"`
	DeliveryCost   money `json:"deliveryCost"`
	IsImeiRequired bool  `json:"isImeiRequired"`
}

type offer struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

type customerResource struct {
	Type       string `json:"type"`
	ID         string `json:"id"`
	Attributes struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
		CellPhone string `json:"cellPhone"`
	} `json:"attributes"`
}

// money marshals as Kaspi sends amounts: a float with ".0" when whole.
type money float64

func (m money) MarshalJSON() ([]byte, error) {
	f := float64(m)
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return []byte(json.Number(formatWhole(f) + ".0")), nil
	}
	return json.Marshal(f)
}

// qty marshals a quantity as an integer when whole.
type qty float64

func (q qty) MarshalJSON() ([]byte, error) {
	f := float64(q)
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return []byte(formatWhole(f)), nil
	}
	return json.Marshal(f)
}

func formatWhole(f float64) string {
	b, _ := json.Marshal(int64(f))
	return string(b)
}

// link builds a link the way Kaspi does: absolute by default, relative when
// the fake imitates older answers. The client must not follow either.
func (s *Server) link(path string) string {
	if s.relLinks {
		return "/v2" + path
	}
	return "https://kaspi.kz/shop/api/v2" + path
}

func (s *Server) orderResource(o domain.Order, withEntries bool) orderResource {
	esc := "/orders/" + url.PathEscape(o.ID)
	r := orderResource{Type: "orders", ID: o.ID, Links: links{Self: s.link(esc)}}
	a := &r.Attributes
	a.Code = o.Code
	a.TotalPrice = money(o.TotalPrice)
	a.PaymentMode = o.PaymentMode
	a.CreditTerm = o.CreditTerm
	a.CreationDate = o.CreationMs
	a.ApprovedByBankDate = o.CreationMs + 15_000
	if o.PlannedDeliveryMs != 0 {
		v := o.PlannedDeliveryMs
		a.PlannedDeliveryDate = &v
	}
	a.DeliveryCostForSeller = money(0)
	if o.IsKaspiDelivery {
		a.DeliveryCostForSeller = 1099
	}
	a.IsKaspiDelivery = o.IsKaspiDelivery
	a.DeliveryMode = o.DeliveryMode
	if ad := o.Address; ad != nil {
		a.DeliveryAddress = &wireAddress{
			StreetName: nullable(ad.StreetName), StreetNumber: nullable(ad.StreetNumber),
			Town: nullable(ad.Town), District: nullable(ad.District), Building: nullable(ad.Building),
			Apartment: nullable(ad.Apartment), FormattedAddress: nullable(ad.Formatted),
			Latitude: 43.238949, Longitude: 76.889709,
		}
	}
	a.SignatureRequired = o.State == domain.StateSignRequired
	a.PreOrder = o.PreOrder
	a.PickupPointID = o.PickupPointID
	a.State = o.State
	a.Status = o.Status
	a.Assembled = o.Assembled || o.Waybill != ""
	if o.IsKaspiDelivery {
		a.KaspiDelivery = &kaspiDelivery{
			Waybill: nullable(o.Waybill), WaybillNumber: nullable(o.WaybillNumber),
			CourierTransmissionPlanningDate: o.CreationMs + 24*3600*1000,
		}
		a.OriginAddress = warehouse(o.PickupPointID)
	}
	a.CancellationReason = o.CancellationReason
	a.Customer = customer{
		ID: o.Customer.ID, Name: nullable(o.Customer.Name), CellPhone: o.Customer.Phone,
		FirstName: o.Customer.FirstName, LastName: o.Customer.LastName,
	}
	a.DeliveryCost = money(o.DeliveryCost)

	r.Relationships.Entries.Links = links{Self: s.link(esc + "/relationships/entries"), Related: s.link(esc + "/entries")}
	if withEntries {
		ids := make([]ref, 0, len(o.Lines))
		for _, l := range o.Lines {
			ids = append(ids, ref{Type: "orderentries", ID: l.EntryID})
		}
		r.Relationships.Entries.Data = &ids
	}
	r.Relationships.User.Links = links{Self: s.link(esc + "/relationships/user"), Related: s.link(esc + "/user")}
	r.Relationships.User.Data = ref{Type: "customers", ID: o.Customer.ID}
	return r
}

// warehouse is where Kaspi Delivery parcels leave from, as in the samples.
func warehouse(pickupPointID string) *originAddress {
	street, number, town, formatted := "улица Толе би", "101", "Алматы", "Алматы, улица Толе би, 101"
	oa := &originAddress{
		ID: b64(pickupPointID), DisplayName: pickupPointID[strings.LastIndex(pickupPointID, "_")+1:],
		Address: wireAddress{
			StreetName: &street, StreetNumber: &number, Town: &town, FormattedAddress: &formatted,
			Latitude: 43.253109, Longitude: 76.909284,
		},
	}
	oa.City.ID, oa.City.Code, oa.City.Name, oa.City.Active = b64("750000000"), "750000000", "Алматы", true
	return oa
}

func (s *Server) entryResource(l domain.Line, pickupPointID string) entryResource {
	esc := "/orderentries/" + url.PathEscape(l.EntryID)
	r := entryResource{Type: "orderentries", ID: l.EntryID, Links: links{Self: s.link(esc)}}
	a := &r.Attributes
	a.UnitType = l.UnitType
	if a.UnitType == "" {
		a.UnitType = "PIECES"
	}
	if l.SKU != "" || l.Name != "" {
		a.Offer = &offer{Code: l.SKU, Name: l.Name}
	}
	a.Quantity = qty(l.Quantity)
	a.BasePrice = money(l.BasePrice)
	a.TotalPrice = money(l.TotalPrice)
	a.EntryNumber = l.EntryNumber
	a.Category.Code = "Master - Goods"
	a.Category.Title = "Товары"
	r.Relationships.Product.Links = links{Self: s.link(esc + "/relationships/product"), Related: s.link(esc + "/product")}
	r.Relationships.Product.Data = ref{Type: "masterproducts", ID: b64("mp:" + l.SKU)}
	r.Relationships.DeliveryPointOfService.Links = links{
		Self:    s.link(esc + "/relationships/deliveryPointOfService"),
		Related: s.link(esc + "/deliveryPointOfService"),
	}
	r.Relationships.DeliveryPointOfService.Data = ref{Type: "pointofservices", ID: b64(pickupPointID)}
	return r
}

func newCustomerResource(c domain.Customer) customerResource {
	r := customerResource{Type: "customers", ID: c.ID}
	r.Attributes.FirstName, r.Attributes.LastName, r.Attributes.CellPhone = c.FirstName, c.LastName, c.Phone
	return r
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func cloneOrder(o domain.Order) domain.Order {
	o.Lines = append([]domain.Line(nil), o.Lines...)
	if o.Address != nil {
		a := *o.Address
		o.Address = &a
	}
	return o
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/vnd.api+json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// jsonError writes a JSON:API error document; title is always present, as
// in every documented example.
func jsonError(w http.ResponseWriter, status int, title, detail string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]string{{
		"status": strconv.Itoa(status), "title": title, "detail": detail,
	}}})
}

func htmlPage(w http.ResponseWriter, status int, title string) {
	w.Header().Set("Content-Type", "text/html;charset=UTF-8")
	w.WriteHeader(status)
	t := html.EscapeString(title)
	_, _ = w.Write([]byte("<!DOCTYPE html>\n<html><head><title>" + t + "</title></head><body><h1>" + t +
		"</h1>" + strings.Repeat("<p>&nbsp;</p>", 20) + "</body></html>\n"))
}
