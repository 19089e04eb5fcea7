package storetest

import (
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
)

// t0 is the suite's clock: times are passed in, never read inside the store.
var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func order(code string, creationMs int64) domain.Order {
	return domain.Order{
		ID: "id-" + code, Code: code, State: domain.StateNew, Status: domain.StatusApprovedByBank,
		CreationMs: creationMs, TotalPrice: 12990,
		Customer:    domain.Customer{Name: "Айгерим Сапарова 🙂", Phone: "7011234567"},
		Address:     &domain.Address{Formatted: "Алматы, ул. Абая 1"},
		Lines:       []domain.Line{{EntryNumber: 1, SKU: "SKU-1", Name: "Чайник", Quantity: 1, BasePrice: 12990, TotalPrice: 12990}},
		LinesLoaded: true,
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Run is the store contract. open must return a fresh, migrated store on
// an empty database each time it is called (subtests run in parallel,
// each on its own database); the suite opens second handles on the same
// database with store.Open(db.Config()).
func Run(t *testing.T, open func(t *testing.T) *store.DB) {
	runSchema(t, open)
	runOrders(t, open)
	runCaches(t, open)
	runStatusMap(t, open)
	runRunLog(t, open)
	runSettingsAndTokens(t, open)
	runActions(t, open)
}

// second opens another handle on db's database, as another process would.
func second(t *testing.T, db *store.DB) *store.DB {
	t.Helper()
	return OpenConfig(t, db.Config())
}
