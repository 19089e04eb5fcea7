package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
	"kaspi-amocrm/pkg/syncer"
)

const kaspiToken2 = "YmVuY2gtc2Vjb25kLXN0b3JlLXRva2VuLTAwMDAwMDA9"

// addSecondStore makes the shop sell in a second Kaspi store «Астана»
// (its own token and orders, served at the same address) whose deals go
// to the account's second pipeline; store 1 is «Алматы».
func (s *shop) addSecondStore() {
	s.kf2 = kaspifake.New(kaspifake.Options{Token: kaspiToken2, Seed: s.o.seed + 1})
	s.servers[0].Close()
	s.servers[0] = httptest.NewServer(kaspifake.Stores(s.kf, s.kf2))
	s.cfg.Stores = []syncer.Store{
		{No: 1, Name: "Алматы", PipelineID: s.cfg.PipelineID, StatusID: s.cfg.StatusID,
			ResponsibleUserID: s.cfg.ResponsibleUserID, StatusMap: s.cfg.StatusMap},
		{No: 2, Name: "Астана", Suffix: "_2", PipelineID: amofake.OtherPipelineID, StatusID: amofake.OtherStatusFirst,
			ResponsibleUserID: s.cfg.ResponsibleUserID, OwnStatusMap: true, StatusMap: map[string]int64{
				domain.StatusCompleted: domain.StatusWon, domain.StatusCancelled: domain.StatusLost}},
	}
	s.storeTokens = map[int]string{2: kaspiToken2}
}

// kaspiRequests counts the requests both stores' fakes saw.
func (s *shop) kaspiRequests() int {
	n := s.kf.RequestCount()
	if s.kf2 != nil {
		n += s.kf2.RequestCount()
	}
	return n
}

// twoStores drains a backlog of two Kaspi stores (half the orders each,
// the same customers and products) into one amoCRM under one budget.
func (b *bench) twoStores(ctx context.Context, fakeRPS int, maxRPS float64) error {
	o := b.o
	s, err := newVariantShop(ctx, o, fakeRPS, maxRPS, variantIndex)
	if err != nil {
		return err
	}
	defer s.close()
	s.addSecondStore()
	all := firstBacklog(o.orders, o.phones, o.skus, o.seed+200, time.Now())
	var one, two []domain.Order
	for i, ord := range all {
		if i%2 == 0 {
			one = append(one, ord)
		} else {
			two = append(two, ord)
		}
	}
	s.kf.AddOrders(one)
	s.kf2.AddOrders(two)
	s.resetStats()
	s.kf2.ResetRequests()
	fmt.Fprintf(b.out, "two stores: %d + %d orders\n", len(one), len(two))
	d, err := s.drain(ctx, domain.TaskFetchNew, 40)
	if err != nil {
		return err
	}
	st := s.amoStats()
	n := float64(len(all))
	per := float64(st.total) / n
	b.section(fmt.Sprintf("fetch_new, two Kaspi stores: %d + %d new orders into one amoCRM (own pipeline per store, one budget)", len(one), len(two)))
	b.row("amoCRM requests (all, token calls included)", fmt.Sprintf("%d", st.total), "", nil)
	b.row("amoCRM requests per order", fmt.Sprintf("%.3f", per), fmt.Sprintf("≤ %.2f", variantIndex.perOrder), b.enforce(per <= variantIndex.perOrder, true))
	b.row("Kaspi requests (both stores)", fmt.Sprintf("%d", s.kaspiRequests()), "", nil)
	b.row("runs to drain (budget "+o.budget.String()+" each)", fmt.Sprintf("%d", len(d.runs)), "", nil)
	b.row("wall time to drain", fmt.Sprintf("%.1f s", d.wall.Seconds()), fmt.Sprintf("≤ %.0f s", variantIndex.wall.Seconds()), b.enforce(d.wall <= variantIndex.wall, false))
	mb := float64(d.peakRSS) / 1024
	b.row("peak RSS of a run", fmt.Sprintf("%.1f MB", mb), "≤ 64 MB", b.enforce(mb <= 64, false))
	b.row("HTTP 429 answers", fmt.Sprintf("%d", st.n429), "0", b.enforce(st.n429 == 0, true))
	b.row("most amoCRM requests in one second", fmt.Sprintf("%d", st.maxPerSec), "≤ 7", b.enforce(st.maxPerSec <= 7 || o.short, false))
	v := fmt.Sprintf("pending %d, set aside %d", d.pending, d.failed)
	if d.runError != "" {
		v += ", run error: " + d.runError
	}
	b.row("drained", v, "pending 0", flag_(d.pending == 0 && d.runError == "" && !st.banned))
	problem := s.checkDeals(codesOf(all))
	if problem == "" {
		problem = s.checkStorePipelines(one, two)
	}
	if problem == "" {
		b.row("result", "one deal per order in its store's pipeline, products shared by SKU", "", flag_(true))
	} else {
		b.row("result", problem, "no duplicates, none missing, each store's pipeline", flag_(false))
	}
	return nil
}

// checkStorePipelines verifies that every store's deals are in its
// pipeline and carry its tag.
func (s *shop) checkStorePipelines(one, two []domain.Order) string {
	byName := map[string]amofake.Lead{}
	for _, l := range s.amo.Leads() {
		byName[l.Name] = l
	}
	for _, c := range []struct {
		orders   []domain.Order
		store    string
		pipeline int64
	}{{one, "Алматы", amofake.PipelineID}, {two, "Астана", amofake.OtherPipelineID}} {
		for _, ord := range c.orders {
			l, ok := byName[syncer.StoreLeadName(ord.Code, c.store)]
			if !ok {
				return fmt.Sprintf("order %s: no deal named after store %s", ord.Code, c.store)
			}
			if l.PipelineID != c.pipeline {
				return fmt.Sprintf("order %s of %s: deal in pipeline %d", ord.Code, c.store, l.PipelineID)
			}
		}
	}
	return ""
}
