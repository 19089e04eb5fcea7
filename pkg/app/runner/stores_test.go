package runner

import (
	"testing"

	"kaspi-amocrm/pkg/config"
)

// The stores of .env reach the sync as they were read: numbers, names,
// per-store values, and whether a store moves its deals.
func TestSyncStores_FromConfig(t *testing.T) {
	c := config.Config{KaspiStores: []config.KaspiStore{
		{No: 1, Name: "Алматы", PipelineID: 10, StatusID: 11, StatusMap: map[string]int64{"COMPLETED": 142}, OwnStatusMap: true},
		{No: 2, Suffix: "_2", Name: "Астана", PipelineID: 20, StatusID: 21, ResponsibleUserID: 5, StatusMap: map[string]int64{}, OwnPipeline: true},
	}}
	got := SyncStores(c)
	if len(got) != 2 || got[0].Name != "Алматы" || got[0].StatusMap["COMPLETED"] != 142 || got[0].NoStageMoves {
		t.Fatalf("store 1: %+v", got)
	}
	if s := got[1]; s.No != 2 || s.Suffix != "_2" || s.PipelineID != 20 || s.StatusID != 21 || s.ResponsibleUserID != 5 || !s.NoStageMoves || s.OwnStatusMap {
		t.Fatalf("store 2: %+v", s)
	}
}
