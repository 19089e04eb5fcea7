// Package orders generates realistic Kaspi orders, deterministically from a
// seed: Kazakh and Russian buyers with valid Kazakh mobile numbers, repeat
// customers, a catalogue of products, one to four lines per order, addresses
// where the delivery mode has one, mixed payment and delivery modes, some
// masked phones and a mix of states. Tests, the demo and the benchmarks
// share it so they all meet the same kind of data.
package orders

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// MaskedPhone is how Kaspi masks a buyer's phone on some orders.
const MaskedPhone = "+0(000)-000-00-00"

// DefaultTo is the end of the creation range when Spec.To is zero, fixed so
// a spec without dates still generates the same orders every time.
var DefaultTo = time.Date(2025, 7, 8, 7, 0, 0, 0, time.UTC)

// Spec describes a batch of orders. Zero fields take the defaults noted.
type Spec struct {
	N           int       // number of orders
	Phones      int       // distinct buyers (repeat customers); default N (at least 1)
	SKUs        int       // catalogue size; default 40
	Seed        int64     // same seed, same orders
	From, To    time.Time // creationDate range; default the 7 days before DefaultTo
	MaskedShare float64   // share of orders whose phone is masked (0..1)
	States      []string  // states to draw from; default a realistic mix of all
	// CodeBase is the first order code (9 digits); default derived from Seed.
	CodeBase int64
	// PoolSeed seeds the catalogue and the buyer pool apart from Seed, so
	// batches generated with different seeds still sell the same products
	// (one SKU, one name and price) to the same repeat customers.
	PoolSeed int64
}

// Product is one catalogue item: the merchant SKU (offer.code), its name
// (offer.name) and unit price in KZT.
type Product struct {
	SKU   string
	Name  string
	Price float64
}

// Buyer is one customer of the shop.
type Buyer struct {
	ID        string
	FirstName string
	LastName  string
	Phone     string // 10 digits
}

// Generate returns spec.N orders, oldest first, with unique 9-digit codes
// and unique base64-looking ids. Lines are loaded and totals equal the sum
// of the lines.
func Generate(spec Spec) []domain.Order {
	spec = spec.withDefaults()
	r := newRand(spec.Seed)
	catalog := Catalog(spec.SKUs, spec.PoolSeed)
	buyers := Buyers(spec.Phones, spec.PoolSeed)

	from, to := spec.From.UnixMilli(), spec.To.UnixMilli()
	times := make([]int64, spec.N)
	for i := range times {
		times[i] = from + r.Int64N(max(to-from, 1))
	}
	slices.Sort(times)

	codes := Codes(spec.N, spec.CodeBase, spec.Seed)
	out := make([]domain.Order, spec.N)
	for i := range out {
		state := pickState(r, spec.States)
		b := buyers[r.IntN(len(buyers))]
		o := domain.Order{
			Code:       codes[i],
			ID:         ID(codes[i]),
			State:      state,
			CreationMs: times[i],
			Customer:   domain.Customer{ID: b.ID, FirstName: b.FirstName, LastName: b.LastName, Phone: b.Phone},
		}
		if spec.MaskedShare > 0 && r.Float64() < spec.MaskedShare {
			o.Customer.Phone = MaskedPhone
		}
		o.Status, o.CancellationReason = pickStatus(r, state)
		setPayment(r, &o)
		setDelivery(r, &o)
		o.Lines = pickLines(r, catalog, codes[i])
		o.LinesLoaded = true
		for _, l := range o.Lines {
			o.TotalPrice += l.TotalPrice
		}
		out[i] = o
	}
	return out
}

func (s Spec) withDefaults() Spec {
	if s.N < 0 {
		s.N = 0
	}
	if s.Phones <= 0 {
		s.Phones = max(s.N, 1)
	}
	if s.SKUs <= 0 {
		s.SKUs = 40
	}
	if s.To.IsZero() {
		s.To = DefaultTo
	}
	if s.From.IsZero() || !s.From.Before(s.To) {
		s.From = s.To.Add(-7 * 24 * time.Hour)
	}
	return s
}

// newRand is the one source of randomness: seeded, so runs repeat.
func newRand(seed int64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), 0x6b61737069))
}

// Codes returns n distinct 9-digit order codes. base 0 derives the first
// code from the seed; codes then grow by small random steps, as Kaspi's do.
func Codes(n int, base, seed int64) []string {
	r := newRand(seed ^ 0x636f646573)
	if base < 100_000_000 || base > 999_000_000 {
		base = 500_000_000 + r.Int64N(400_000_000)
	}
	out := make([]string, n)
	c := base
	for i := range out {
		out[i] = strconv.FormatInt(100_000_000+(c-100_000_000)%900_000_000, 10)
		c += 1 + r.Int64N(97)
	}
	return out
}

// ID returns the API id of the order with this code: unpadded base64, like
// the ids in the documented samples.
func ID(code string) string {
	return base64.RawStdEncoding.EncodeToString([]byte(code + ":q0"))
}

// Buyers returns n buyers with distinct phones. The first k buyers of a
// seed are the same whatever n is.
func Buyers(n int, seed int64) []Buyer {
	r := newRand(seed ^ 0x6275796572)
	seen := map[string]bool{}
	out := make([]Buyer, 0, n)
	for len(out) < n {
		p := Mobile(r)
		if seen[p] {
			continue
		}
		seen[p] = true
		first, last := name(r)
		out = append(out, Buyer{
			ID:        base64.RawStdEncoding.EncodeToString([]byte(p)),
			FirstName: first, LastName: last, Phone: p,
		})
	}
	return out
}

// mobilePrefixes are the operator codes of Kazakh mobile numbers.
var mobilePrefixes = []string{"700", "701", "702", "705", "707", "708", "747", "771", "775", "776", "777", "778"}

// Mobile returns a valid Kazakh mobile number as Kaspi sends it: 10 digits,
// no country code.
func Mobile(r *rand.Rand) string {
	return mobilePrefixes[r.IntN(len(mobilePrefixes))] + fmt.Sprintf("%07d", r.IntN(10_000_000))
}

// Catalog returns n products with distinct SKUs. The first k products of a
// seed are the same whatever n is.
func Catalog(n int, seed int64) []Product {
	r := newRand(seed ^ 0x736b75)
	out := make([]Product, n)
	for i := range out {
		g := goods[r.IntN(len(goods))]
		brand := g.brands[r.IntN(len(g.brands))]
		variant := g.variants[r.IntN(len(g.variants))]
		price := g.minPrice + float64(r.IntN(int(g.maxPrice-g.minPrice)/1000+1))*1000 - 10
		out[i] = Product{
			SKU:   fmt.Sprintf("%s-%03d", g.sku, i+1),
			Name:  fmt.Sprintf("%s %s %s", g.name, brand, variant),
			Price: max(price, 490),
		}
	}
	return out
}

func pickLines(r *rand.Rand, catalog []Product, code string) []domain.Line {
	n := 1 + weighted(r, []int{55, 25, 12, 8}) // 1–4 lines, mostly one
	n = min(n, len(catalog))
	idx := r.Perm(len(catalog))[:n]
	lines := make([]domain.Line, n)
	for i, k := range idx {
		p := catalog[k]
		q := float64(1 + weighted(r, []int{80, 15, 5}))
		lines[i] = domain.Line{
			EntryID:     base64.RawStdEncoding.EncodeToString([]byte(code + "##" + strconv.Itoa(i))),
			EntryNumber: i,
			SKU:         p.SKU,
			Name:        p.Name,
			Quantity:    q,
			BasePrice:   p.Price,
			TotalPrice:  p.Price * q,
			UnitType:    "PIECES",
		}
	}
	return lines
}

// stateWeights is the default mix of states (most orders are new or
// finished).
var stateWeights = map[string]int{
	domain.StateNew: 30, domain.StateSignRequired: 4, domain.StatePickup: 14,
	domain.StateDelivery: 10, domain.StateKaspiDelivery: 20, domain.StateArchive: 22,
}

func pickState(r *rand.Rand, states []string) string {
	if len(states) > 0 {
		return states[r.IntN(len(states))]
	}
	w := make([]int, len(domain.AllStates))
	for i, s := range domain.AllStates {
		w[i] = stateWeights[s]
	}
	return domain.AllStates[weighted(r, w)]
}

// cancelReasons are documented cancellation reasons.
var cancelReasons = []string{
	"BUYER_CANCELLATION_BY_MERCHANT", "BUYER_NOT_REACHABLE", "MERCHANT_OUT_OF_STOCK",
	"BUYER_CANCELLATION_HIMSELF", "TIMEOUT_BUYER_PICKUP",
}

// pickStatus returns a status that fits the state.
func pickStatus(r *rand.Rand, state string) (status, reason string) {
	switch state {
	case domain.StateNew, domain.StateSignRequired:
		return domain.StatusApprovedByBank, ""
	case domain.StateKaspiDelivery:
		switch weighted(r, []int{88, 6, 6}) {
		case 1:
			return domain.StatusCancelling, cancelReasons[r.IntN(len(cancelReasons))]
		case 2:
			return domain.StatusKaspiDeliveryReturnRequested, ""
		}
		return domain.StatusAcceptedByMerchant, ""
	case domain.StateArchive:
		switch weighted(r, []int{70, 22, 8}) {
		case 1:
			return domain.StatusCancelled, cancelReasons[r.IntN(len(cancelReasons))]
		case 2:
			return domain.StatusReturned, ""
		}
		return domain.StatusCompleted, ""
	}
	return domain.StatusAcceptedByMerchant, ""
}

func setPayment(r *rand.Rand, o *domain.Order) {
	o.PaymentMode = "PREPAID"
	if r.IntN(100) < 35 {
		o.PaymentMode = "PAY_WITH_CREDIT"
		o.CreditTerm = []int{3, 6, 12, 24}[r.IntN(4)]
	}
	o.PreOrder = r.IntN(100) < 3
}

// setDelivery picks a delivery mode that fits the state, and the address,
// waybill and pickup point that go with it.
func setDelivery(r *rand.Rand, o *domain.Order) {
	o.PickupPointID = fmt.Sprintf("30012345_PP%d", 1+r.IntN(2))
	switch o.State {
	case domain.StatePickup:
		o.DeliveryMode = "DELIVERY_PICKUP"
	case domain.StateDelivery:
		o.DeliveryMode = "DELIVERY_LOCAL"
	case domain.StateKaspiDelivery:
		o.IsKaspiDelivery = true
		o.DeliveryMode = []string{"DELIVERY_LOCAL", "DELIVERY_REGIONAL_TODOOR", "DELIVERY_PICKUP"}[weighted(r, []int{50, 40, 10})]
	default:
		switch weighted(r, []int{30, 15, 35, 10, 10}) {
		case 0:
			o.DeliveryMode = "DELIVERY_PICKUP"
		case 1:
			o.DeliveryMode = "DELIVERY_LOCAL"
		case 2:
			o.DeliveryMode, o.IsKaspiDelivery = "DELIVERY_LOCAL", true
		case 3:
			o.DeliveryMode, o.IsKaspiDelivery = "DELIVERY_REGIONAL_TODOOR", true
		default:
			o.DeliveryMode = "DELIVERY_REGIONAL_PICKUP"
		}
	}
	// Planned hand-over: end of a local day one to five days later.
	almaty := time.FixedZone("Asia/Almaty", 5*3600)
	d := time.UnixMilli(o.CreationMs).In(almaty).AddDate(0, 0, 1+r.IntN(5))
	o.PlannedDeliveryMs = time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 999e6, almaty).UnixMilli()

	toDoor := o.DeliveryMode == "DELIVERY_LOCAL" || o.DeliveryMode == "DELIVERY_REGIONAL_TODOOR"
	if toDoor {
		a := pickAddress(r, o.DeliveryMode == "DELIVERY_REGIONAL_TODOOR")
		o.Address = &a
	}
	if o.IsKaspiDelivery {
		o.DeliveryCost = 0
		assembled := o.State == domain.StateArchive || (o.Status == domain.StatusAcceptedByMerchant && r.IntN(2) == 0)
		if assembled {
			o.WaybillNumber = strconv.Itoa(100_000_000 + r.IntN(900_000_000))
			o.Waybill = "https://kaspi.kz/shop/api/waybill/" + o.WaybillNumber + ".pdf"
		}
	} else if o.DeliveryMode == "DELIVERY_LOCAL" {
		o.DeliveryCost = float64([]int{0, 500, 1000, 1500}[r.IntN(4)])
	}
}

// weighted returns an index drawn with the given weights.
func weighted(r *rand.Rand, w []int) int {
	total := 0
	for _, x := range w {
		total += x
	}
	n := r.IntN(total)
	for i, x := range w {
		if n < x {
			return i
		}
		n -= x
	}
	return len(w) - 1
}
