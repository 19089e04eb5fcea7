package orders_test

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"testing"
	"time"
	"unicode"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/orders"
)

var (
	mobileRE = regexp.MustCompile(`^(70[0-9]|747|77[0-9])[0-9]{7}$`)
	codeRE   = regexp.MustCompile(`^[1-9][0-9]{8}$`)
	idRE     = regexp.MustCompile(`^[A-Za-z0-9+/]{12,}$`)
)

func spec() orders.Spec {
	return orders.Spec{
		N: 500, Phones: 120, SKUs: 30, Seed: 42, MaskedShare: 0.1,
		From: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC),
	}
}

func TestGenerate_SameSeedSameOrders(t *testing.T) {
	a, b := orders.Generate(spec()), orders.Generate(spec())
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with one seed differ")
	}
	s := spec()
	s.Seed = 43
	if reflect.DeepEqual(a, orders.Generate(s)) {
		t.Fatal("another seed gave the same orders")
	}
}

func TestGenerate_CodesIDsAndTimesAreValid(t *testing.T) {
	s := spec()
	got := orders.Generate(s)
	if len(got) != s.N {
		t.Fatalf("got %d orders, want %d", len(got), s.N)
	}
	codes, ids := map[string]bool{}, map[string]bool{}
	for i, o := range got {
		if !codeRE.MatchString(o.Code) || codes[o.Code] {
			t.Fatalf("code %q invalid or repeated", o.Code)
		}
		if !idRE.MatchString(o.ID) || ids[o.ID] {
			t.Fatalf("id %q invalid or repeated", o.ID)
		}
		codes[o.Code], ids[o.ID] = true, true
		if o.CreationMs < s.From.UnixMilli() || o.CreationMs > s.To.UnixMilli() {
			t.Fatalf("order %s created outside the range", o.Code)
		}
		if i > 0 && o.CreationMs < got[i-1].CreationMs {
			t.Fatal("orders are not oldest first")
		}
	}
}

func TestGenerate_RepeatCustomersWithValidMobilesAndSomeMasked(t *testing.T) {
	s := spec()
	got := orders.Generate(s)
	phones, masked := map[string]bool{}, 0
	for _, o := range got {
		p := o.Customer.Phone
		if p == orders.MaskedPhone {
			masked++
			continue
		}
		if !mobileRE.MatchString(p) {
			t.Fatalf("phone %q is not a 10-digit Kazakh mobile", p)
		}
		phones[p] = true
		if !cyrillic(o.Customer.FirstName) || !cyrillic(o.Customer.LastName) {
			t.Fatalf("name %q %q is not Cyrillic", o.Customer.FirstName, o.Customer.LastName)
		}
	}
	if len(phones) > s.Phones || len(phones) < s.Phones/2 {
		t.Fatalf("%d distinct phones, want about %d", len(phones), s.Phones)
	}
	if masked == 0 || masked > s.N/5 {
		t.Fatalf("%d masked phones of %d, want about 10%%", masked, s.N)
	}
}

func TestGenerate_LinesTotalsAndDelivery(t *testing.T) {
	got := orders.Generate(spec())
	lineCounts, modes, states := map[int]int{}, map[string]int{}, map[string]int{}
	for _, o := range got {
		if !o.LinesLoaded || len(o.Lines) < 1 || len(o.Lines) > 4 {
			t.Fatalf("order %s has %d lines", o.Code, len(o.Lines))
		}
		lineCounts[len(o.Lines)]++
		var sum float64
		skus := map[string]bool{}
		for i, l := range o.Lines {
			if l.EntryNumber != i || l.EntryID == "" || l.SKU == "" || l.Name == "" || l.Quantity < 1 {
				t.Fatalf("order %s line %d incomplete: %+v", o.Code, i, l)
			}
			if skus[l.SKU] {
				t.Fatalf("order %s repeats SKU %s", o.Code, l.SKU)
			}
			skus[l.SKU] = true
			if l.TotalPrice != l.BasePrice*l.Quantity {
				t.Fatalf("line total %v != %v × %v", l.TotalPrice, l.BasePrice, l.Quantity)
			}
			sum += l.TotalPrice
		}
		if math.Abs(sum-o.TotalPrice) > 0.001 {
			t.Fatalf("order %s total %v, lines sum %v", o.Code, o.TotalPrice, sum)
		}
		toDoor := o.DeliveryMode == "DELIVERY_LOCAL" || o.DeliveryMode == "DELIVERY_REGIONAL_TODOOR"
		if toDoor != (o.Address != nil) {
			t.Fatalf("order %s mode %s address %v", o.Code, o.DeliveryMode, o.Address)
		}
		if o.State == domain.StateKaspiDelivery && !o.IsKaspiDelivery {
			t.Fatalf("order %s in KASPI_DELIVERY is not Kaspi Delivery", o.Code)
		}
		if o.Status == domain.StatusCancelled && o.CancellationReason == "" {
			t.Fatalf("cancelled order %s has no reason", o.Code)
		}
		if !slices.Contains(domain.AllStatuses, o.Status) {
			t.Fatalf("unknown status %s", o.Status)
		}
		modes[o.DeliveryMode]++
		states[o.State]++
	}
	for n := 1; n <= 4; n++ {
		if lineCounts[n] == 0 {
			t.Errorf("no order with %d lines", n)
		}
	}
	if len(modes) < 4 || len(states) != len(domain.AllStates) {
		t.Errorf("not mixed: modes %v states %v", modes, states)
	}
}

func TestGenerate_OnlyRequestedStates(t *testing.T) {
	s := spec()
	s.States = []string{domain.StateNew}
	for _, o := range orders.Generate(s) {
		if o.State != domain.StateNew || o.Status != domain.StatusApprovedByBank {
			t.Fatalf("order %s is %s/%s", o.Code, o.State, o.Status)
		}
	}
}

func cyrillic(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !unicode.Is(unicode.Cyrillic, r) {
			return false
		}
	}
	return true
}

// Batches with different seeds but one pool share the catalogue and the
// buyers: a SKU always has one name and price, and phones repeat.
func TestGenerate_BatchesShareCatalogueAndBuyers(t *testing.T) {
	a := spec()
	b := spec()
	b.Seed, b.CodeBase = 99, 900000000
	products, names := map[string]string{}, map[string]string{}
	phonesA := map[string]bool{}
	for _, o := range orders.Generate(a) {
		phonesA[o.Customer.Phone] = true
		for _, l := range o.Lines {
			products[l.SKU] = l.Name + "|" + fmt.Sprint(l.BasePrice)
		}
		names[o.Customer.Phone] = o.Customer.FirstName + " " + o.Customer.LastName
	}
	repeat := 0
	for _, o := range orders.Generate(b) {
		if phonesA[o.Customer.Phone] && o.Customer.Phone != orders.MaskedPhone {
			repeat++
			if names[o.Customer.Phone] != o.Customer.FirstName+" "+o.Customer.LastName {
				t.Fatalf("phone %s changed name", o.Customer.Phone)
			}
		}
		for _, l := range o.Lines {
			if p, ok := products[l.SKU]; ok && p != l.Name+"|"+fmt.Sprint(l.BasePrice) {
				t.Fatalf("SKU %s is %q in one batch and %s|%v in another", l.SKU, p, l.Name, l.BasePrice)
			}
		}
	}
	if repeat == 0 {
		t.Fatal("no repeat customer across batches")
	}
}
