package storetest

import (
	"context"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/store"
	"testing"
	"time"
)

// runStatusMap is the contract of the status_mapping table shared with
// the PHP version.
func runStatusMap(t *testing.T, open func(t *testing.T) *store.DB) {
	ctx := context.Background()

	t.Run("StatusMapping_UpsertListToggleDelete", func(t *testing.T) {
		t.Parallel()
		db := open(t)
		id1, err := db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: "COMPLETED", AmoPipelineID: 7, AmoStatusID: 142, IsActive: true}, t0)
		must(t, err)
		id2, err := db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: "COMPLETED", AmoPipelineID: 8, AmoStatusID: 142, IsActive: true}, t0)
		must(t, err)
		id3, err := db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: "CANCELLED", AmoPipelineID: 7, AmoStatusID: 143,
			AmoResponsibleUserID: 55, SortOrder: 3, IsActive: true}, t0)
		must(t, err)
		again, err := db.UpsertStatusMapping(ctx, domain.StatusMapping{KaspiStatus: "COMPLETED", AmoPipelineID: 7, AmoStatusID: 300, IsActive: true}, t0.Add(time.Hour))
		must(t, err)
		if again != id1 || id1 == id2 || id2 == id3 || id1 == 0 {
			t.Fatalf("ids %d %d %d again %d", id1, id2, id3, again)
		}
		all, err := db.ListStatusMappings(ctx, store.StatusMappingFilter{})
		must(t, err)
		if len(all) != 3 {
			t.Fatalf("list %d", len(all))
		}
		one, _ := db.ListStatusMappings(ctx, store.StatusMappingFilter{KaspiStatus: "COMPLETED", PipelineID: 7})
		if len(one) != 1 || one[0].AmoStatusID != 300 || !one[0].CreatedAt.Equal(t0) || one[0].UpdatedAt.IsZero() {
			t.Fatalf("filtered %+v", one)
		}
		// On PostgreSQL the PHP version's trigger stamps updated_at with the
		// server clock; elsewhere the time passed in is kept.
		if db.Driver() != store.DriverPgSQL && !one[0].UpdatedAt.Equal(t0.Add(time.Hour)) {
			t.Fatalf("updated_at %v", one[0].UpdatedAt)
		}
		c, _ := db.ListStatusMappings(ctx, store.StatusMappingFilter{KaspiStatus: "CANCELLED", PipelineID: 7})
		if len(c) != 1 || c[0].AmoResponsibleUserID != 55 || c[0].SortOrder != 3 || !c[0].IsActive {
			t.Fatalf("cancelled %+v", c)
		}
		ok, err := db.SetStatusMappingActive(ctx, id2, false, t0)
		must(t, err)
		if !ok {
			t.Fatal("toggle existing row said false")
		}
		if ok, _ := db.SetStatusMappingActive(ctx, id2, false, t0); !ok {
			t.Fatal("toggle to the same value must still find the row")
		}
		if ok, _ := db.SetStatusMappingActive(ctx, 999999, true, t0); ok {
			t.Fatal("toggle of a missing row said true")
		}
		active, _ := db.ListStatusMappings(ctx, store.StatusMappingFilter{OnlyActive: true})
		if len(active) != 2 {
			t.Fatalf("only active: %d", len(active))
		}
		st, err := db.StatusMappingCounts(ctx)
		must(t, err)
		if st != (store.StatusMappingStats{Total: 3, Active: 2, Inactive: 1}) {
			t.Fatalf("stats %+v", st)
		}
		am, err := db.ActiveStatusMappings(ctx, 7)
		must(t, err)
		if len(am) != 2 || am["COMPLETED"] != 300 || am["CANCELLED"] != 143 {
			t.Fatalf("active map %v", am)
		}
		if am, _ := db.ActiveStatusMappings(ctx, 8); len(am) != 0 {
			t.Fatalf("inactive row mapped: %v", am)
		}
		ok, err = db.DeleteStatusMapping(ctx, id3)
		must(t, err)
		if !ok {
			t.Fatal("delete said false")
		}
		if ok, _ := db.DeleteStatusMapping(ctx, id3); ok {
			t.Fatal("second delete said true")
		}
	})
}
