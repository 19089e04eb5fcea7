package store_test

import (
	"context"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

func TestSmoke(t *testing.T) {
	storetest.ForEach(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		v, err := db.Migrate(ctx)
		if err != nil || v != 5 {
			t.Fatalf("migrate again: %v %v", v, err)
		}
		now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
		ins, err := db.Ingest(ctx, []domain.Order{{ID: "x1", Code: "100", State: "NEW", Status: "APPROVED_BY_BANK", CreationMs: 1700000000000, TotalPrice: 1500.4}}, now)
		if err != nil || len(ins) != 1 {
			t.Fatalf("ingest: %v %v", ins, err)
		}
		r, err := db.Record(ctx, "100")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%+v", r)
		cur, latest, dirty, err := db.SchemaStatus(ctx)
		t.Log(cur, latest, dirty, err)
	})
}
