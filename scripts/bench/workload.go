package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/phone"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/orders"
)

// workload is a backlog of orders and what it is made of.
type workload struct {
	orders []domain.Order
	phones int // distinct usable phones
	skus   int // distinct SKUs
	lines  int
}

func describe(os []domain.Order) workload {
	w := workload{orders: os}
	phones, skus := map[string]bool{}, map[string]bool{}
	for _, o := range os {
		if p, ok := phone.Normalize(o.Customer.Phone, "KZ"); ok {
			phones[p] = true
		}
		for _, l := range o.Lines {
			skus[l.SKU] = true
			w.lines++
		}
	}
	w.phones, w.skus = len(phones), len(skus)
	return w
}

func codesOf(os []domain.Order) []string {
	out := make([]string, len(os))
	for i, o := range os {
		out[i] = o.Code
	}
	return out
}

// importStates are the states fetch_new imports by default: a backlog of
// new orders is drawn from them.
var importStates = []string{domain.StateNew, domain.StatePickup, domain.StateDelivery, domain.StateKaspiDelivery}

// firstBacklog generates n orders created over the last two hours from a
// pool of buyers sized so that about `phones` distinct phones appear, and
// `skus` products.
func firstBacklog(n, phones, skus int, seed int64, now time.Time) []domain.Order {
	// Drawing n orders from a pool of P buyers shows P·(1−e^(−n/P))
	// distinct ones; 1.5·phones is close for the bench's ratios.
	pool := max(phones*3/2, 1)
	if phones >= n {
		pool = phones * 4
	}
	return orders.Generate(orders.Spec{
		N: n, Phones: pool, SKUs: skus, Seed: seed, PoolSeed: seed,
		From: now.Add(-2 * time.Hour), To: now.Add(-time.Minute),
		States: importStates, CodeBase: 700_000_000,
	})
}

// secondBacklog generates n more orders from the customers and products of
// the first backlog only: repeat buyers of a known catalogue.
func secondBacklog(first []domain.Order, n, skus int, seed int64, now time.Time) []domain.Order {
	next := orders.Generate(orders.Spec{
		N: n, Phones: 10, SKUs: skus, Seed: seed + 1, PoolSeed: seed,
		From: now.Add(-30 * time.Minute), To: now.Add(-time.Minute),
		States: importStates, CodeBase: 800_000_000,
	})
	r := rand.New(rand.NewPCG(uint64(seed), 2))
	for i := range next {
		c := first[r.IntN(len(first))].Customer
		next[i].Customer = c
	}
	return next
}

// typedForms are ways people type a Kazakh mobile number into amoCRM.
var typedForms = []func(d string) string{
	func(d string) string { return fmt.Sprintf("8 (%s) %s-%s-%s", d[0:3], d[3:6], d[6:8], d[8:10]) },
	func(d string) string { return fmt.Sprintf("+7 %s %s %s %s", d[0:3], d[3:6], d[6:8], d[8:10]) },
	func(d string) string { return "8" + d },
	func(d string) string { return fmt.Sprintf("+7(%s)%s", d[0:3], d[3:]) },
	func(d string) string { return d },
}

// seedContacts adds n of the backlog's buyers to the fake amoCRM as
// contacts a manager typed by hand, and returns their E.164 phones.
func seedContacts(amo *amofake.Server, os []domain.Order, n int) map[string]bool {
	seeded := map[string]bool{}
	i := 0
	for _, o := range os {
		if len(seeded) >= n {
			break
		}
		p, ok := phone.Normalize(o.Customer.Phone, "KZ")
		if !ok || seeded[p] {
			continue
		}
		digits := p[len(p)-10:]
		amo.AddContact(o.Customer.FirstName+" "+o.Customer.LastName, typedForms[i%len(typedForms)](digits))
		seeded[p] = true
		i++
	}
	return seeded
}

// duplicatePhones counts phones held by more than one contact.
func duplicatePhones(cs []amofake.Contact) int {
	owners := map[string]map[int64]bool{}
	for _, c := range cs {
		for _, raw := range c.Phones() {
			p, ok := phone.Normalize(raw, "KZ")
			if !ok {
				continue
			}
			if owners[p] == nil {
				owners[p] = map[int64]bool{}
			}
			owners[p][c.ID] = true
		}
	}
	n := 0
	for _, ids := range owners {
		if len(ids) > 1 {
			n++
		}
	}
	return n
}

// phpCost counts the amoCRM requests the PHP version's algorithm makes
// for a backlog: per order one contact search (and a create when the
// phone is new), per line one catalog search (and a create when the SKU
// is new), one lead create, one link call per line and one note. Known
// phones and SKUs carry over from earlier backlogs.
type phpCost struct {
	searches, creates, leads, links, notes int
}

func (c phpCost) total() int { return c.searches + c.creates + c.leads + c.links + c.notes }

func phpModel(os []domain.Order, knownPhones, knownSKUs map[string]bool) phpCost {
	var c phpCost
	for _, o := range os {
		c.searches++
		if p, ok := phone.Normalize(o.Customer.Phone, "KZ"); ok && !knownPhones[p] {
			knownPhones[p] = true
			c.creates++
		}
		for _, l := range o.Lines {
			c.searches++
			if !knownSKUs[l.SKU] {
				knownSKUs[l.SKU] = true
				c.creates++
			}
			c.links++
		}
		c.leads++
		c.notes++
	}
	return c
}
