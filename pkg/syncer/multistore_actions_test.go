package syncer_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
)

// postsTo counts the status changes a fake Kaspi store received.
func postsTo(kf *kaspifake.Server) int {
	n := 0
	for _, r := range kf.Requests() {
		if r.Endpoint == kaspifake.EndpointAction {
			n++
		}
	}
	return n
}

// Stage actions of several stores: store n acts only by its own
// KASPI_ACTIONS_n (none without it), in its own pipeline, with its own
// token; one listing request covers every store's stages.
func TestStageActions_EachStoreByItsOwnStagesAndToken(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.stageActions()
		kf2 := e.secondStore(kaspiToken2, amofake.OtherPipelineID, amofake.OtherStatusFirst)
		e.add(e.accepted("871000001", false))
		kf2.AddOrder(e.accepted("872000001", false))
		if s := e.fetch(); s.Created != 2 {
			t.Fatalf("fetch: %s %q", s, s.Reasons)
		}
		b := e.storeLeads("Астана")["872000001"]
		moveB := func(status int64) {
			t.Helper()
			e.clock.Advance(time.Minute)
			if err := e.amo.MoveLead(b.ID, amofake.OtherPipelineID, status); err != nil {
				t.Fatal(err)
			}
			e.clock.Advance(time.Minute)
		}

		// Store 2 without KASPI_ACTIONS_2: its deal in 143 cancels nothing,
		// though 143 is store 1's cancel stage.
		moveB(domain.StatusLost)
		if s := e.reconcile(); s.Result == domain.ResultError {
			t.Fatalf("reconcile: %s %q", s, s.Reasons)
		}
		if o, _ := kf2.Order("872000001"); o.Status != domain.StatusAcceptedByMerchant || postsTo(kf2) != 0 || postsTo(e.kf) != 0 {
			t.Fatalf("a store without its own stages acted: %s, posts %d/%d", o.Status, postsTo(e.kf), postsTo(kf2))
		}

		// KASPI_ACTIONS_2=cancel:143: the deal taken out and brought back
		// is cancelled with store 2's token.
		e.cfg.Stores[1].Actions = domain.ActionSettings{
			Stages:       map[string]int64{domain.ActionCancel: domain.StatusLost},
			CancelReason: domain.DefaultCancelReason, MaxPerRun: 50,
			Keys: domain.ActionKeys{Actions: "KASPI_ACTIONS_2", MaxPerRun: "KASPI_ACTIONS_MAX_PER_RUN"},
		}
		e.fetch() // the stores' stages are checked and listed
		moveB(amofake.OtherStatusFirst)
		moveB(domain.StatusLost)
		before := e.amoRequests()
		s := e.reconcile()
		if o, _ := kf2.Order("872000001"); o.Status != domain.StatusCancelled || postsTo(kf2) != 1 || postsTo(e.kf) != 0 {
			t.Fatalf("store 2's cancel: %s, posts store 1 %d store 2 %d; %s %q", o.Status, postsTo(e.kf), postsTo(kf2), s, s.Reasons)
		}
		if a := e.stageAction("872000001", domain.ActionCancel); a.State != domain.ActionDone {
			t.Fatalf("ledger: %+v", a)
		}
		// One listing for both stores: both pipelines' stages in one query.
		var listings []url.Values
		for _, r := range e.amo.Requests()[before:] {
			if r.Path == "/api/v4/leads" && strings.Contains(r.Query, "filter%5Bstatuses%5D") {
				q, _ := url.ParseQuery(r.Query)
				listings = append(listings, q)
			}
		}
		if len(listings) != 1 {
			t.Fatalf("stage listings in one run: %d, want 1", len(listings))
		}
		pipelines := map[string]bool{}
		for k, v := range listings[0] {
			if strings.HasSuffix(k, "[pipeline_id]") {
				pipelines[v[0]] = true
			}
		}
		if len(pipelines) != 2 {
			t.Fatalf("the listing names pipelines %v, want both stores'", pipelines)
		}

		// Store 1's deal in its own cancel stage uses store 1's token.
		if err := e.amo.MoveLead(e.storeLeads("Алматы")["871000001"].ID, amofake.PipelineID, domain.StatusLost); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		e.reconcile()
		if o := e.kaspiOrder("871000001"); o.Status != domain.StatusCancelled || postsTo(e.kf) != 1 || postsTo(kf2) != 1 {
			t.Fatalf("store 1's cancel: %s, posts %d/%d", o.Status, postsTo(e.kf), postsTo(kf2))
		}
	})
}

// A store's KASPI_ACTIONS_n stage that is not a stage of its pipeline
// stops the run before any action, naming the key.
func TestStageActions_StoreStageOfAnotherPipelineIsASettingError(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.stageActions()
		e.secondStore(kaspiToken2, amofake.OtherPipelineID, amofake.OtherStatusFirst)
		e.cfg.Stores[1].Actions = domain.ActionSettings{
			Stages:       map[string]int64{domain.ActionAssemble: amofake.StatusInDelivery}, // store 1's pipeline
			CancelReason: domain.DefaultCancelReason, MaxPerRun: 50,
			Keys: domain.ActionKeys{Actions: "KASPI_ACTIONS_2"},
		}
		if se := e.settingErr(); se.Key != "KASPI_ACTIONS_2" {
			t.Fatalf("got %+v, want a SettingError on KASPI_ACTIONS_2", se)
		}
	})
}

// Two stores in one pipeline: store 1's stages are not store 2's. A
// deal of store 2 in store 1's cancel stage is listed (the stage is
// watched) but cancels nothing while KASPI_ACTIONS_2 is unset.
func TestStageActions_SharedPipelineStoreWithoutItsOwnStagesActsNot(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.stageActions()
		kf2 := e.secondStore(kaspiToken2, amofake.PipelineID, amofake.StatusNewOrder)
		kf2.AddOrder(e.accepted("873000001", false))
		if s := e.fetch(); s.Created != 1 {
			t.Fatalf("fetch: %s %q", s, s.Reasons)
		}
		e.clock.Advance(time.Minute)
		if err := e.amo.MoveLead(e.storeLeads("Астана")["873000001"].ID, amofake.PipelineID, domain.StatusLost); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		e.reconcile()
		if o, _ := kf2.Order("873000001"); o.Status != domain.StatusAcceptedByMerchant || postsTo(kf2) != 0 {
			t.Fatalf("store 2 acted by store 1's stages: %s, posts %d", o.Status, postsTo(kf2))
		}
		if _, err := e.db.KaspiAction(t.Context(), "873000001", domain.ActionCancel); err == nil {
			t.Fatal("an action was recorded for store 2")
		}
	})
}
