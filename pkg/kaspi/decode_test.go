package kaspi

import (
	"os"
	"reflect"
	"testing"

	"kaspi-amocrm/pkg/domain"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The documented orders page decodes field by field; without
// include[orders]=entries its orders have no lines loaded yet.
func TestDecodeOrders_DocumentedExample(t *testing.T) {
	p, err := decodeOrders(readTestdata(t, "orders_page.json"))
	if err != nil {
		t.Fatal(err)
	}
	if p.pageCount != 1 || p.total != 2 || len(p.orders) != 2 {
		t.Fatalf("page %+v", p)
	}
	pickup, kd := p.orders[0], p.orders[1]
	want := domain.Order{
		ID: "NjEyMzQ1Njc4OnEw", Code: "612345678", State: "NEW", Status: "APPROVED_BY_BANK",
		CreationMs: 1751880231318, TotalPrice: 8990, PaymentMode: "PREPAID",
		PlannedDeliveryMs: 1752001199999, DeliveryMode: "DELIVERY_PICKUP", PickupPointID: "30012345_PP1",
		Customer: domain.Customer{ID: "Q3VzdG9tZXJBMDAx", FirstName: "Айгерим", LastName: "Сапарова", Phone: "7011234567"},
	}
	if !equalOrder(pickup, want) {
		t.Errorf("pickup order\n got %+v\nwant %+v", pickup, want)
	}
	if pickup.Address != nil || pickup.LinesLoaded {
		t.Errorf("pickup order: address %v, lines loaded %v", pickup.Address, pickup.LinesLoaded)
	}
	if kd.TotalPrice != 31990 || kd.CreditTerm != 12 || !kd.IsKaspiDelivery ||
		kd.DeliveryMode != "DELIVERY_REGIONAL_TODOOR" || kd.State != "KASPI_DELIVERY" ||
		kd.Waybill != "https://kaspi.kz/shop/api/waybill/example-611987654.pdf" || kd.WaybillNumber != "101234567" {
		t.Errorf("kaspi delivery order %+v", kd)
	}
	wantAddr := domain.Address{
		Formatted: "Астана, улица Кабанбай батыра, 53, кв. 41", StreetName: "улица Кабанбай батыра",
		StreetNumber: "53", Town: "Астана", Apartment: "41",
	}
	if kd.Address == nil || *kd.Address != wantAddr {
		t.Errorf("address %+v", kd.Address)
	}
}

// Entries carry the merchant SKU in offer.code and the name in offer.name.
func TestDecodeEntries_DocumentedExample(t *testing.T) {
	lines, err := decodeEntries(readTestdata(t, "entries.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []domain.Line{
		{EntryID: "NjExOTg3NjU0IyMw", EntryNumber: 0, SKU: "TEF-PAN-28", Name: "Сковорода Tefal Unlimited 28 см", Quantity: 1, BasePrice: 24990, TotalPrice: 24990, UnitType: "PIECES", ProductID: "MTA1NTUxMjM0"},
		{EntryID: "NjExOTg3NjU0IyMx", EntryNumber: 1, SKU: "TEF-LID-28", Name: "Крышка стеклянная Tefal 28 см", Quantity: 2, BasePrice: 3500, TotalPrice: 7000, UnitType: "PIECES", ProductID: "MTA2NjYyMzQ1"},
	}
	if len(lines) != 2 || lines[0] != want[0] || lines[1] != want[1] {
		t.Fatalf("got %+v", lines)
	}
}

// Odd but plausible answers decode without failing the page: null address,
// masked phone kept raw, amounts as floats or strings, unknown fields,
// a missing offer, null names.
func TestDecodeOrders_Defensive(t *testing.T) {
	body := `{"data":[{"type":"orders","id":"aWQx","unknownTop":{"x":[1,2]},
	  "attributes":{"code":"100000001","totalPrice":"4000.50","creationDate":1.7518802313e12,
	    "deliveryAddress":null,"kaspiDelivery":null,"newField":true,"creditTerm":null,
	    "customer":{"id":"c1","name":null,"firstName":null,"lastName":"Ким","cellPhone":"+0(000)-000-00-00"}},
	  "relationships":{"entries":{"data":[{"type":"orderentries","id":"ZTE"}]}},
	  "links":{"self":"/v2/orders/aWQx"}},
	 {"type":"orders","id":"aWQy","attributes":{"code":100000002,"totalPrice":1e3,"deliveryAddress":{"streetName":null}}},
	 {"type":"orders","id":"bm9jb2Rl","attributes":{"totalPrice":1}},
	 {"type":"orders","id":"aWQz","attributes":"garbage"}],
	 "included":[{"type":"orderentries","id":"ZTE","attributes":{"quantity":2.0,"basePrice":2000.25,"totalPrice":4000.5,"entryNumber":0,"mystery":{}}}],
	 "meta":{"pageCount":3,"totalCount":"250","extra":1}}`
	p, err := decodeOrders([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if p.pageCount != 3 || p.total != 250 {
		t.Errorf("meta %d/%d", p.pageCount, p.total)
	}
	// The two orders without a usable code come back set aside.
	if len(p.orders) != 4 || p.orders[2].Rejected == "" || p.orders[3].Rejected == "" || p.orders[0].Rejected != "" || p.orders[1].Rejected != "" {
		t.Fatalf("want the two orders with a code and two rejected, got %+v", p.orders)
	}
	a, b := p.orders[0], p.orders[1]
	if a.TotalPrice != 4000.5 || a.CreationMs != 1751880231300 || a.Customer.Phone != "+0(000)-000-00-00" ||
		a.Customer.LastName != "Ким" || a.Customer.FirstName != "" || a.Address != nil {
		t.Errorf("first order %+v", a)
	}
	if !a.LinesLoaded || len(a.Lines) != 1 || a.Lines[0].SKU != "" || a.Lines[0].Quantity != 2 || a.Lines[0].TotalPrice != 4000.5 {
		t.Errorf("first order lines %+v (loaded %v)", a.Lines, a.LinesLoaded)
	}
	if b.Code != "100000002" || b.TotalPrice != 1000 || b.Address != nil || b.LinesLoaded {
		t.Errorf("second order %+v", b)
	}
}

// Lines count as loaded only when every entry the order names is included;
// otherwise the caller falls back to /orders/{id}/entries.
func TestDecodeOrders_LinesLoadedOnlyWhenAllIncluded(t *testing.T) {
	cases := map[string]string{
		"missing relationship": `{"type":"orders","id":"o","attributes":{"code":"1"}}`,
		"null data":            `{"type":"orders","id":"o","attributes":{"code":"1"},"relationships":{"entries":{"data":null}}}`,
		"empty data":           `{"type":"orders","id":"o","attributes":{"code":"1"},"relationships":{"entries":{"data":[]}}}`,
		"one of two included":  `{"type":"orders","id":"o","attributes":{"code":"1"},"relationships":{"entries":{"data":[{"id":"e1"},{"id":"e2"}]}}}`,
	}
	for name, res := range cases {
		t.Run(name, func(t *testing.T) {
			body := `{"data":[` + res + `],"included":[{"type":"orderentries","id":"e1","attributes":{}}],"meta":{"pageCount":1}}`
			p, err := decodeOrders([]byte(body))
			if err != nil || len(p.orders) != 1 {
				t.Fatalf("decode: %v %+v", err, p)
			}
			if p.orders[0].LinesLoaded {
				t.Fatal("lines marked loaded")
			}
		})
	}
}

func TestDecodeOrders_RejectsNonDocuments(t *testing.T) {
	for _, body := range []string{``, `<html>`, `{"meta":{}}`, `[1,2]`, `{"data":"x"}`} {
		if _, err := decodeOrders([]byte(body)); err == nil {
			t.Errorf("%q decoded without error", body)
		}
	}
	if p, err := decodeOrders([]byte(`{"data":[],"meta":{"pageCount":0,"totalCount":0}}`)); err != nil || len(p.orders) != 0 {
		t.Errorf("empty page: %v %+v", err, p)
	}
}

func FuzzDecodeOrders(f *testing.F) {
	f.Add(readTestdata(f, "orders_page.json"))
	f.Add(readTestdata(f, "entries.json"))
	f.Add([]byte(`{"data":[{"type":"orders","id":"x","attributes":{"code":"1","totalPrice":"1.5"},"relationships":{"entries":{"data":[{"id":"e"}]}}}],"included":[{"type":"orderentries","id":"e","attributes":{"offer":null}}],"meta":{"pageCount":2}}`))
	f.Add([]byte(`{"data":{"type":"orders","id":"x","attributes":{"code":"1","customer":{"cellPhone":"+0(000)-000-00-00"}}}}`))
	f.Add([]byte(`{"errors":[{"title":"Bad request"}]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeOrders(body)
		if err == nil {
			if p.pageCount < 0 || p.total < 0 {
				t.Fatalf("negative meta %+v", p)
			}
			for _, o := range p.orders {
				// A malformed order comes back set aside with its reason,
				// never as an order to import.
				if o.Code == "" && o.Rejected == "" {
					t.Fatal("order without code passed")
				}
				if !o.LinesLoaded && len(o.Lines) > 0 {
					t.Fatal("lines set but not marked loaded")
				}
			}
		}
		_, _ = decodeEntries(body)
		_, _ = errorTitle(body)
		if s := snippet(body); len(s) > bodySnippet {
			t.Fatal("snippet too long")
		}
	})
}

func equalOrder(a, b domain.Order) bool {
	a.Lines, b.Lines, a.Address, b.Address = nil, nil, nil, nil
	return reflect.DeepEqual(a, b)
}
