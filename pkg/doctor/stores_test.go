package doctor

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
)

// twoStoreInstall is an install with store 1 «Алматы» and store 2
// «Астана» (its own pipeline «Розница»), both on one fake Kaspi, each with
// its own token.
func twoStoreInstall(t *testing.T) *install {
	in := newInstall(t)
	k2 := kaspifake.New(kaspifake.Options{Token: "second-store-token-0123456789abcdef="})
	srv := httptest.NewServer(kaspifake.Stores(in.kaspi, k2))
	t.Cleanup(srv.Close)
	in.set("KASPI_API_BASE", srv.URL)
	in.set("KASPI_STORE_NAME", "Алматы")
	in.set("KASPI_API_TOKEN_2", "second-store-token-0123456789abcdef=")
	in.set("KASPI_STORE_NAME_2", "Астана")
	in.set("AMO_PIPELINE_ID_2", fmt.Sprint(amofake.OtherPipelineID))
	in.set("AMO_STATUS_ID_2", fmt.Sprint(amofake.OtherStatusFirst))
	return in
}

// doctor checks every Kaspi store's token and its pipeline, stage and
// user, and says when a store's deals get no stage moves.
func TestRun_ChecksEveryKaspiStore(t *testing.T) {
	in := twoStoreInstall(t)
	r := in.run()
	out := text(r)
	for _, id := range []string{"kaspi.token", "kaspi.token_2", "amo.pipeline_2", "amo.user_2"} {
		if c, ok := r.Find(id); !ok || c.Mark != OK {
			t.Errorf("%s: %+v\n%s", id, c, out)
		}
	}
	if c, _ := r.Find("amo.status_map_2"); c.Mark != Warn || !strings.Contains(c.Detail, "не переносятся") || !strings.Contains(c.Detail, "AMO_STATUS_MAP_2") {
		t.Errorf("status map of store 2: %+v", c)
	}
	if !strings.Contains(out, "магазин Kaspi «Астана»") {
		t.Errorf("report does not name the store:\n%s", out)
	}

	// A wrong pipeline and a revoked token of store 2 fail, naming its keys.
	in.set("AMO_PIPELINE_ID_2", "1")
	in.set("KASPI_API_TOKEN_2", "revoked-token-0123456789abcdefghijk=")
	r = in.run()
	if c, _ := r.Find("kaspi.token_2"); c.Mark != Fail || !strings.Contains(c.Fix, "KASPI_API_TOKEN_2") {
		t.Errorf("revoked token: %+v", c)
	}
	if c, _ := r.Find("amo.pipeline_2"); c.Mark != Fail {
		t.Errorf("wrong pipeline: %+v", c)
	}
	if c, _ := r.Find("kaspi.token"); c.Mark != OK {
		t.Errorf("store 1 token: %+v", c)
	}
}

// With stage actions, each store's KASPI_ACTIONS_n is checked against its
// own pipeline, and a store without one is told it gets no stage actions.
func TestRun_ChecksEveryStoresActionStages(t *testing.T) {
	in := twoStoreInstall(t)
	in.set("KASPI_ACTIONS", "cancel:143")
	r := in.run()
	if c, _ := r.Find("amo.actions"); c.Mark != OK {
		t.Errorf("store 1 actions: %+v", c)
	}
	if c, _ := r.Find("amo.actions_2"); c.Mark != Warn || !strings.Contains(c.Detail, "KASPI_ACTIONS_2 не задан") {
		t.Errorf("store 2 without KASPI_ACTIONS_2: %+v", c)
	}
	// Store 1's stage in store 2's key: not a stage of «Розница».
	in.set("KASPI_ACTIONS_2", fmt.Sprintf("assemble:%d", amofake.StatusInDelivery))
	r = in.run()
	if c, _ := r.Find("amo.actions_2"); c.Mark != Fail || !strings.Contains(c.Detail, "KASPI_ACTIONS_2") || !strings.Contains(c.Fix, "Розница") {
		t.Errorf("store 2 with another pipeline's stage: %+v", c)
	}
	in.set("KASPI_ACTIONS_2", "cancel:143")
	r = in.run()
	if c, _ := r.Find("amo.actions_2"); c.Mark != OK || !strings.Contains(c.Title, "KASPI_ACTIONS_2") {
		t.Errorf("store 2 actions: %+v", c)
	}
}
