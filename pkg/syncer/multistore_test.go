package syncer_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/kaspi"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
	"kaspi-amocrm/pkg/syncer"
)

const kaspiToken2 = "c2Vjb25kLXN0b3JlLXRva2VuLWZvci1rYXNwaS1mYWtlPQ=="

// secondStore adds Kaspi store 2 «Астана» (its own Kaspi account, token
// and pipeline) next to store 1 «Алматы»; clientToken is the token the
// install holds for it (a revoked one is refused by Kaspi).
func (e *env) secondStore(clientToken string, pipeline, status int64) *kaspifake.Server {
	e.t.Helper()
	kf := kaspifake.New(kaspifake.Options{Token: kaspiToken2, Now: e.clock.Now, Seed: 5})
	srv := httptest.NewServer(kf)
	e.t.Cleanup(srv.Close)
	kc := kaspi.New(kaspi.Config{BaseURL: srv.URL, Token: clientToken, RetryBase: time.Millisecond, Timeout: 5 * time.Second})
	e.stores = map[int]syncer.StoreClient{2: {Kaspi: kc, Writer: kc}}
	e.cfg.Stores = []syncer.Store{
		{No: 1, Name: "Алматы", PipelineID: e.cfg.PipelineID, StatusID: e.cfg.StatusID, ResponsibleUserID: e.cfg.ResponsibleUserID, StatusMap: e.cfg.StatusMap},
		{No: 2, Name: "Астана", Suffix: "_2", PipelineID: pipeline, StatusID: status, ResponsibleUserID: e.cfg.ResponsibleUserID,
			StatusMap: map[string]int64{}, NoStageMoves: pipeline != e.cfg.PipelineID},
	}
	return kf
}

// storeLeads maps order codes to the deals named "Kaspi Order <code> · <store>".
func (e *env) storeLeads(store string) map[string]amofake.Lead {
	out := map[string]amofake.Lead{}
	for _, l := range e.amo.Leads() {
		if code, ok := strings.CutPrefix(l.Name, "Kaspi Order "); ok {
			if c, s, ok := strings.Cut(code, " · "); ok && s == store {
				out[c] = l
			}
		}
	}
	return out
}

// Two stores each get their deals, in their own pipeline, tagged and
// named with the store, with the store in the note; elements are shared
// by SKU; each store keeps its own watermark.
func TestFetchNew_TwoStoresEachGetTheirDeals(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		kf2 := e.secondStore(kaspiToken2, amofake.OtherPipelineID, amofake.OtherStatusFirst)
		shared := domain.Line{SKU: "SHARED-1", Name: "Чайник", Quantity: 1, BasePrice: 5000}
		e.add(e.order("810000001", time.Hour, "7011234501", shared))
		kf2.AddOrder(e.order("820000001", 2*time.Hour, "7011234502", shared))
		kf2.AddOrder(e.order("820000002", 3*time.Hour, "7011234503"))

		s := e.fetch()
		if s.Created != 3 || s.Result != domain.ResultOK {
			t.Fatalf("summary: %s %v", s, s.Reasons)
		}
		almaty, astana := e.storeLeads("Алматы"), e.storeLeads("Астана")
		if len(almaty) != 1 || len(astana) != 2 {
			t.Fatalf("deals: Алматы %v, Астана %v", almaty, astana)
		}
		l1, l2 := almaty["810000001"], astana["820000001"]
		if l1.PipelineID != amofake.PipelineID || l1.StatusID != amofake.StatusNewOrder {
			t.Errorf("store 1 deal: pipeline %d status %d", l1.PipelineID, l1.StatusID)
		}
		if l2.PipelineID != amofake.OtherPipelineID || l2.StatusID != amofake.OtherStatusFirst {
			t.Errorf("store 2 deal: pipeline %d status %d", l2.PipelineID, l2.StatusID)
		}
		if !slices.Contains(l1.Tags, "Алматы") || slices.Contains(l1.Tags, "Астана") || !slices.Contains(l1.Tags, "Kaspi") {
			t.Errorf("store 1 tags: %v", l1.Tags)
		}
		if !slices.Contains(l2.Tags, "Астана") || slices.Contains(l2.Tags, "Алматы") {
			t.Errorf("store 2 tags: %v", l2.Tags)
		}
		if notes := e.notesOf(l2.ID); len(notes) != 1 || !strings.Contains(notes[0], "Магазин Kaspi: Астана") {
			t.Errorf("store 2 note: %q", notes)
		}
		if _, n := e.elementBySKU("SHARED-1"); n != 1 {
			t.Errorf("elements of the shared SKU: %d", n)
		}
		if e.record("820000001").StoreNo != 2 || e.record("810000001").StoreNo != 1 {
			t.Errorf("ledger stores: %d %d", e.record("820000001").StoreNo, e.record("810000001").StoreNo)
		}
		ctx := context.Background()
		for _, key := range []string{"last_creation_ms", "last_creation_ms_2"} {
			if v, ok, _ := e.db.Setting(ctx, key); !ok || v == "" {
				t.Errorf("watermark %s not kept", key)
			}
		}
		states, err := domain.ReadKaspiStoreStates(ctx, e.db)
		if err != nil || states[1].Result != "ok" || states[2].Result != "ok" || states[2].Found != 2 {
			t.Errorf("store states: %+v %v", states, err)
		}
		// A second run creates nothing more.
		if s := e.fetch(); s.Created != 0 || s.Found != 0 {
			t.Fatalf("second run: %s", s)
		}
	})
}

// One store's revoked token leaves the other working: its orders become
// deals, the run is warn, and the status report names the store.
func TestFetchNew_RevokedTokenOfOneStoreLeavesTheOtherWorking(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		kf2 := e.secondStore("revoked-token", amofake.PipelineID, amofake.StatusNewOrder)
		e.add(e.order("830000001", time.Hour, "7011234511"))
		kf2.AddOrder(e.order("840000001", time.Hour, "7011234512"))

		s := e.fetch()
		if s.Created != 1 || s.Result != domain.ResultWarn || !strings.Contains(strings.Join(s.Reasons, "\n"), "магазин Kaspi «Астана»") {
			t.Fatalf("summary: %s %q", s, s.Reasons)
		}
		if _, ok := e.storeLeads("Алматы")["830000001"]; !ok {
			t.Fatalf("store 1 deal missing: %v", e.amo.Leads())
		}
		states, _ := domain.ReadKaspiStoreStates(context.Background(), e.db)
		if states[1].Result != "ok" || states[2].Result != "error" || !strings.Contains(states[2].Reason, "Астана") {
			t.Fatalf("store states: %+v", states)
		}
		// Reconcile goes on for store 1 too.
		if s := e.reconcile(); s.Result != domain.ResultWarn {
			t.Fatalf("reconcile: %s %q", s, s.Reasons)
		}
		// Every store refused: the run is an error, as with one store.
		e.cfg.Stores = e.cfg.Stores[1:]
		e.cfg.Stores[0].No = 1
		_, err := syncer.FetchNew(context.Background(), e.cfg, syncer.Deps{Ledger: e.db, CRM: e.crm, Kaspi: e.stores[2].Kaspi, Now: e.clock.Now})
		if err == nil {
			t.Fatal("a single store's revoked token must stop the run")
		}
	})
}

// The same order code from a second store is set aside with a clear
// reason and never merged into the first store's deal.
func TestFetchNew_DuplicateCodeAcrossStoresIsSetAside(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		kf2 := e.secondStore(kaspiToken2, amofake.PipelineID, amofake.StatusNewOrder)
		e.add(e.order("850000001", 2*time.Hour, "7011234521"))
		if s := e.fetch(); s.Created != 1 {
			t.Fatalf("first: %s", s)
		}
		kf2.AddOrder(e.order("850000001", time.Hour, "7011234522"))
		s := e.fetch()
		why := strings.Join(s.Reasons, "\n")
		if s.Created != 0 || s.Result != domain.ResultWarn || !strings.Contains(why, "850000001") || !strings.Contains(why, "«Алматы»") || !strings.Contains(why, "«Астана»") {
			t.Fatalf("summary: %s %q", s, s.Reasons)
		}
		if r := e.record("850000001"); r.StoreNo != 1 || r.Phone != "+77011234521" {
			t.Fatalf("the first store's row changed: %+v", r)
		}
		if len(e.storeLeads("Астана")) != 0 {
			t.Fatalf("a deal for the duplicate: %v", e.amo.Leads())
		}
		// Reconcile does not take the duplicate's status for the first order.
		if err := kf2.SetStatus("850000001", domain.StateArchive, domain.StatusCancelled, "BUYER_NOT_REACHABLE"); err != nil {
			t.Fatal(err)
		}
		e.reconcile()
		if r := e.record("850000001"); r.Status != domain.StatusApprovedByBank {
			t.Fatalf("the duplicate's status merged: %+v", r)
		}
	})
}

// A database the PHP version left (its rows, its watermark) continues as
// store 1 when a second store is added: its deals are not created again
// and its watermark is store 1's.
func TestFetchNew_PHPDatabaseIsStoreOne(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		existing := e.amo.AddLead(amofake.Lead{Name: "Kaspi Order 860000001", Price: 1000})
		if _, err := e.db.SQL().ExecContext(ctx, "INSERT INTO orders_map (order_code, kaspi_order_id, kaspi_status, lead_id, created_at) VALUES ('860000001', 'k1', 'NEW', "+strconv.FormatInt(existing, 10)+", '2025-07-08 05:00:00')"); err != nil {
			t.Fatal(err)
		}
		wm := e.clock.Now().Add(-2 * time.Hour).UnixMilli()
		if err := e.db.SetSetting(ctx, "last_creation_ms", strconv.FormatInt(wm, 10)); err != nil {
			t.Fatal(err)
		}
		if r := e.record("860000001"); r.StoreNo != 1 {
			t.Fatalf("PHP row: store %d", r.StoreNo)
		}
		kf2 := e.secondStore(kaspiToken2, amofake.PipelineID, amofake.StatusNewOrder)
		e.add(e.order("860000001", 3*time.Hour, "7011234531"), e.order("860000002", time.Hour, "7011234532"))
		kf2.AddOrder(e.order("870000001", time.Hour, "7011234533"))
		s := e.fetch()
		if s.Created != 2 || s.Result != domain.ResultOK {
			t.Fatalf("summary: %s %q", s, s.Reasons)
		}
		n := 0
		for _, l := range e.amo.Leads() {
			if strings.HasPrefix(l.Name, "Kaspi Order 860000001") {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("the PHP order's deal was created again: %d deals", n)
		}
		if r := e.record("860000002"); r.StoreNo != 1 {
			t.Fatalf("store 1 order: %+v", r)
		}
		if v, _, _ := e.db.Setting(ctx, "last_creation_ms"); v == strconv.FormatInt(wm, 10) {
			t.Fatalf("store 1 watermark did not move on: %s", v)
		}
	})
}

// A store with its own pipeline and no map of its own gets no stage
// moves; with AMO_STATUS_MAP_2 its deals move within its own pipeline.
func TestReconcile_StoreMovesOnlyByItsOwnMapInItsOwnPipeline(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.cfg.StatusMap = map[string]int64{"CANCELLED": amofake.StatusConfirmed}
		kf2 := e.secondStore(kaspiToken2, amofake.OtherPipelineID, amofake.OtherStatusFirst)
		kf2.AddOrder(e.order("880000001", time.Hour, "7011234541"))
		kf2.AddOrder(e.order("880000002", time.Hour, "7011234542"))
		if s := e.fetch(); s.Created != 2 {
			t.Fatalf("fetch: %s", s)
		}
		if err := kf2.SetStatus("880000001", domain.StateArchive, domain.StatusCancelled, "BUYER_NOT_REACHABLE"); err != nil {
			t.Fatal(err)
		}
		s := e.reconcile()
		l := e.storeLeads("Астана")["880000001"]
		if s.Moved != 0 || l.PipelineID != amofake.OtherPipelineID || l.StatusID != amofake.OtherStatusFirst || notesWith(e.notesOf(l.ID), "статус изменён") != 1 {
			t.Fatalf("no map of its own: %s; deal %d/%d, notes %q", s, l.PipelineID, l.StatusID, e.notesOf(l.ID))
		}
		e.cfg.Stores[1].StatusMap = map[string]int64{"CANCELLED": domain.StatusLost}
		e.cfg.Stores[1].NoStageMoves = false
		if err := kf2.SetStatus("880000002", domain.StateArchive, domain.StatusCancelled, "BUYER_NOT_REACHABLE"); err != nil {
			t.Fatal(err)
		}
		s = e.reconcile()
		l = e.storeLeads("Астана")["880000002"]
		if s.Moved != 1 || l.PipelineID != amofake.OtherPipelineID || l.StatusID != domain.StatusLost {
			t.Fatalf("own map: %s; deal %d/%d", s, l.PipelineID, l.StatusID)
		}
	})
}

// Auto-accept writes to Kaspi with the token of the order's store.
func TestAutoAccept_UsesTheOrdersStoreToken(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.autoAccept()
		kf2 := e.secondStore(kaspiToken2, amofake.PipelineID, amofake.StatusNewOrder)
		kf2.AddOrder(e.order("890000001", time.Hour, "7011234551"))
		e.add(e.order("890000002", time.Hour, "7011234552"))
		if s := e.fetch(); s.Created != 2 || s.Accepted != 2 {
			t.Fatalf("fetch: %s %q", s, s.Reasons)
		}
		if o, _ := kf2.Order("890000001"); o.Status != domain.StatusAcceptedByMerchant {
			t.Fatalf("store 2 order at Kaspi: %s", o.Status)
		}
		if o, _ := e.kf.Order("890000002"); o.Status != domain.StatusAcceptedByMerchant {
			t.Fatalf("store 1 order at Kaspi: %s", o.Status)
		}
		if _, ok := e.kf.Order("890000001"); ok {
			t.Fatal("store 1's Kaspi knows store 2's order")
		}
	})
}

// A store's own values are checked against the account like store 1's,
// and errors name the store's key; a map naming a stage of another
// pipeline than the store's is refused.
func TestFetchNew_StoreSettingsAreCheckedPerStore(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		kf2 := e.secondStore(kaspiToken2, amofake.OtherPipelineID, amofake.OtherStatusFirst)
		kf2.AddOrder(e.order("895000001", time.Hour, "7011234561"))
		e.cfg.Stores[1].StatusMap = map[string]int64{"DELIVERY": amofake.StatusConfirmed}
		e.cfg.Stores[1].OwnStatusMap = true
		if se := e.settingErr(); se.Key != "AMO_STATUS_MAP_2" || !strings.Contains(se.Reason, "Розница") {
			t.Fatalf("map of another pipeline: %+v", se)
		}
		e.cfg.Stores[1].StatusMap = map[string]int64{}
		e.cfg.Stores[1].PipelineID = 1
		if se := e.settingErr(); se.Key != "AMO_PIPELINE_ID_2" {
			t.Fatalf("unknown pipeline: %+v", se)
		}
		if len(e.amo.Leads()) != 0 {
			t.Fatalf("deals created despite a refused setting: %v", e.amo.Leads())
		}
	})
}

// A fresh database adopts the deals named "Kaspi Order <code> · <store>"
// instead of creating them again, each row under the store its name tells.
func TestFetchNew_FreshDatabaseAdoptsStoreNamedDeals(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		kf2 := e.secondStore(kaspiToken2, amofake.OtherPipelineID, amofake.OtherStatusFirst)
		e.add(e.order("896000001", time.Hour, "7011234571"))
		kf2.AddOrder(e.order("896000002", time.Hour, "7011234572"))
		if s := e.fetch(); s.Created != 2 {
			t.Fatalf("first install: %s", s)
		}
		e.cfg.OrderCodeFieldID = 0 // the name alone must tell the order and its store
		e.freshDatabase()
		e.clock.Advance(time.Minute)
		if s := e.fetch(); s.Created != 0 {
			t.Fatalf("deals created again: %s", s)
		}
		if n := len(e.amo.Leads()); n != 2 {
			t.Fatalf("%d deals", n)
		}
		if r := e.record("896000002"); r.StoreNo != 2 || r.LeadID != e.storeLeads("Астана")["896000002"].ID {
			t.Fatalf("store 2 row: %+v", r)
		}
		if r := e.record("896000001"); r.StoreNo != 1 {
			t.Fatalf("store 1 row: %+v", r)
		}
	})
}
