package status_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/status"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

// openStore returns a fresh, migrated SQLite store.
func openStore(t *testing.T) *store.DB { return storetest.Open(t, store.DriverSQLite) }

func TestCollect_ReadsEverySectionFromTheStore(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	now := time.Now().Truncate(time.Second)

	// Runs: reconcile ok, then fetch_new ok, failed, failed (newest last).
	runAt := func(task string, at time.Time, ok bool, summary string) {
		id, err := db.StartRun(ctx, task, at)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.FinishRun(ctx, id, ok, summary, at.Add(3*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	runAt(domain.TaskReconcile, now.Add(-9*time.Minute), true, "moved 1")
	runAt(domain.TaskFetchNew, now.Add(-3*time.Minute), true, "created 2")
	runAt(domain.TaskFetchNew, now.Add(-2*time.Minute), false, "amoCRM: authorization rejected")
	runAt(domain.TaskFetchNew, now.Add(-1*time.Minute), false, "amoCRM: authorization rejected")

	// Ledger: three orders, one quarantined.
	orders := []domain.Order{
		{ID: "a", Code: "100", State: "NEW", Status: "APPROVED_BY_BANK", CreationMs: now.Add(-time.Hour).UnixMilli(), TotalPrice: 1000},
		{ID: "b", Code: "101", State: "NEW", Status: "APPROVED_BY_BANK", CreationMs: now.Add(-time.Hour).UnixMilli(), TotalPrice: 2000},
		{ID: "c", Code: "102", State: "NEW", Status: "APPROVED_BY_BANK", CreationMs: now.Add(-time.Hour).UnixMilli(), TotalPrice: 3000},
	}
	if _, err := db.Ingest(ctx, orders, now); err != nil {
		t.Fatal(err)
	}
	if err := db.SetStep(ctx, []string{"100"}, domain.StepDone, now); err != nil {
		t.Fatal(err)
	}
	if err := db.SetAside(ctx, "102", "400 NotSupportedChoice: price", now.Add(time.Hour), true, now); err != nil {
		t.Fatal(err)
	}

	wm := time.Date(2026, 3, 10, 5, 0, 0, 0, time.UTC) // 10:00 in Almaty
	if err := db.SetSetting(ctx, domain.SettingWatermark, "1773118800000"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSetting(ctx, domain.SettingAmoBannedUntil, "9999999999"); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveToken(ctx, domain.TokenServiceAmo, domain.Token{AccessToken: "a", RefreshToken: "r", ExpiresAt: now.Add(23 * time.Hour).Unix()}); err != nil {
		t.Fatal(err)
	}

	r, err := status.Collect(ctx, db, status.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) > 0 {
		t.Fatalf("problems: %v", r.Problems)
	}
	fetch := r.Tasks[0]
	if fetch.Task != domain.TaskFetchNew || fetch.FailuresInRow != 2 || fetch.Last.Outcome != "failed" || fetch.LastOK == nil || fetch.Last.DurationSeconds != 3 {
		t.Fatalf("fetch_new state: %+v", fetch)
	}
	if rec := r.Tasks[1]; rec.LastOK == nil || rec.LastOK.Summary != "moved 1" {
		t.Fatalf("reconcile state: %+v", rec)
	}
	if len(r.Recent) != 4 || r.Recent[0].Outcome != "failed" {
		t.Fatalf("recent: %+v", r.Recent)
	}
	if r.Watermark == nil || !r.Watermark.Equal(wm) || r.Watermark.Location().String() != "Asia/Almaty" {
		t.Fatalf("watermark %v", r.Watermark)
	}
	if r.Steps["done"] != 1 || r.Steps["new"] != 1 || r.Steps["quarantined"] != 1 {
		t.Fatalf("steps %v", r.Steps)
	}
	if len(r.Quarantined) != 1 || r.Quarantined[0].Code != "102" || !strings.Contains(r.Quarantined[0].LastError, "NotSupportedChoice") || r.Quarantined[0].Attempts != 1 {
		t.Fatalf("quarantined %+v", r.Quarantined)
	}
	if !r.Token.Present || r.Token.RefreshDaysLeft == nil || *r.Token.RefreshDaysLeft != 89 {
		t.Fatalf("token %+v", r.Token)
	}
	if !r.Limit.Banned {
		t.Fatalf("limit %+v", r.Limit)
	}
	txt := status.Text(r)
	for _, want := range []string{"ОШИБКА", "ошибок подряд: 2", "10.03.2026 10:00:00", "102 — попыток: 1", "ЗАБЛОКИРОВАН"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
}

func TestCollect_FreshInstallSaysNothingRanYet(t *testing.T) {
	r, err := status.Collect(context.Background(), openStore(t), status.Options{})
	if err != nil {
		t.Fatal(err)
	}
	txt := status.Text(r)
	for _, want := range []string{"ещё не запускалось", "Заказы Kaspi загружены по: ещё не загружались", "Последняя созданная сделка: ещё нет", "заказов пока нет", "Токен amoCRM: нет"} {
		if !strings.Contains(txt, want) {
			t.Errorf("text lacks %q:\n%s", want, txt)
		}
	}
}

func TestCollect_ContactIndexModeInOneLine(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	for _, tc := range []struct {
		st   domain.ContactIndexState
		mode string
		want string
	}{
		{domain.ContactIndexState{}, "", "ещё не построен"},
		{domain.ContactIndexState{NextPage: 3, Contacts: 500}, "building", "прочитано контактов 500"},
		{domain.ContactIndexState{Complete: true, Mode: domain.IndexModeFilter}, "filter", "фильтром amoCRM"},
		{domain.ContactIndexState{Complete: true, Mode: domain.IndexModeOrder}, "order", "фильтры API на аккаунте не включены"},
		{domain.ContactIndexState{Complete: true, Mode: domain.IndexModeSearch}, "search", "не фильтруется и не сортируется"},
		{domain.ContactIndexState{Mode: domain.IndexModeTooLarge}, "too_large", "больше AMO_CONTACT_INDEX_MAX"},
	} {
		if err := db.SetContactIndexState(ctx, tc.st); err != nil {
			t.Fatal(err)
		}
		r, err := status.Collect(ctx, db, status.Options{})
		if err != nil {
			t.Fatal(err)
		}
		text := status.Text(r)
		if r.ContactIndex.Mode != tc.mode || !strings.Contains(text, "Поиск контактов: ") || !strings.Contains(text, tc.want) {
			t.Errorf("%+v: mode %q, text:\n%s", tc.st, r.ContactIndex.Mode, text)
		}
	}
}

// The report carries the version, the orders set aside now (waiting and
// quarantined), the last deal and the deals per Almaty day for 14 days.
func TestCollect_SetAsideLastDealAndDealsPerDay(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	now := time.Date(2026, 3, 10, 7, 0, 0, 0, time.UTC) // 12:00 Almaty
	var orders []domain.Order
	for _, c := range []string{"200", "201", "202", "203", "204"} {
		orders = append(orders, domain.Order{ID: "k" + c, Code: c, State: "NEW", CreationMs: now.Add(-time.Hour).UnixMilli()})
	}
	if _, err := db.Ingest(ctx, orders, now); err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.SetLead(ctx, "200", 7001, now.Add(-20*24*time.Hour))) // outside the 14 days
	must(db.SetLead(ctx, "201", 7002, now.Add(-24*time.Hour)))
	must(db.SetLead(ctx, "202", 7003, now.Add(-time.Hour)))
	must(db.SetLead(ctx, "203", 7004, now.Add(-30*time.Minute)))
	must(db.SetAside(ctx, "204", "amoCRM отклонил сделку", now.Add(4*time.Minute), false, now))

	r, err := status.Collect(ctx, db, status.Options{Now: now, Version: "v9.9.9"})
	if err != nil || len(r.Problems) > 0 {
		t.Fatalf("%v %v", err, r.Problems)
	}
	if r.Version != "v9.9.9" {
		t.Errorf("version %q", r.Version)
	}
	if len(r.SetAside) != 1 || r.SetAside[0].Code != "204" || r.SetAside[0].Attempts != 1 || r.SetAside[0].NextTry == nil ||
		r.SetAside[0].Reason != "amoCRM отклонил сделку" {
		t.Errorf("set aside %+v", r.SetAside)
	}
	if r.LastDeal == nil || r.LastDeal.LeadID != 7004 || r.LastDeal.Code != "203" {
		t.Errorf("last deal %+v", r.LastDeal)
	}
	if len(r.DealsPerDay) != 14 || r.DealsPerDay[13].Day != "2026-03-10" || r.DealsPerDay[13].Deals != 2 ||
		r.DealsPerDay[12].Deals != 1 || r.DealsPerDay[0].Day != "2026-02-25" {
		t.Errorf("deals per day %+v", r.DealsPerDay)
	}
	total := 0
	for _, d := range r.DealsPerDay {
		total += d.Deals
	}
	if total != 3 {
		t.Errorf("deals in 14 days = %d, want 3", total)
	}
}

// The address an amoCRM account moved to (stored by the client after a
// subdomain rename) is in every form of the report, with what to do.
func TestCollect_RenamedAmoCRMAccount(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	r, err := status.Collect(ctx, db, status.Options{})
	if err != nil || r.AmoMovedTo != "" || strings.Contains(status.Text(r), "переехал") {
		t.Fatalf("no rename: %q %v", r.AmoMovedTo, err)
	}
	if err := db.SetSetting(ctx, domain.SettingAmoBaseURL, "https://newshop.amocrm.ru"); err != nil {
		t.Fatal(err)
	}
	r, err = status.Collect(ctx, db, status.Options{})
	if err != nil || r.AmoMovedTo != "https://newshop.amocrm.ru" {
		t.Fatalf("moved to %q, %v", r.AmoMovedTo, err)
	}
	if txt := status.Text(r); !strings.Contains(txt, "аккаунт переехал на новый адрес https://newshop.amocrm.ru") || !strings.Contains(txt, "AMO_SUBDOMAIN") {
		t.Fatalf("text:\n%s", txt)
	}
	var page bytes.Buffer
	if err := status.HTML(&page, r); err != nil || !strings.Contains(page.String(), "аккаунт переехал на новый адрес https://newshop.amocrm.ru") {
		t.Fatalf("html: %v\n%s", err, page.String())
	}
}

// With several Kaspi stores the report shows each store's last listing,
// a failing one with its reason.
func TestCollect_ShowsEachKaspiStore(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	if err := db.SetSetting(ctx, domain.SettingKaspiStoreStates,
		`{"1":{"name":"Алматы","result":"ok","at":"2026-03-10T05:00:00Z","found":3},"2":{"name":"Астана","result":"error","reason":"магазин Kaspi «Астана»: Kaspi не принял токен","at":"2026-03-10T05:00:00Z"}}`); err != nil {
		t.Fatal(err)
	}
	r, err := status.Collect(ctx, db, status.Options{})
	if err != nil || len(r.KaspiStores) != 2 || r.KaspiStores[0].No != 1 || r.KaspiStores[1].Result != domain.ResultError {
		t.Fatalf("stores %+v %v", r.KaspiStores, err)
	}
	txt := status.Text(r)
	if !strings.Contains(txt, "«Алматы» (№ 1): ✓ успешно") || !strings.Contains(txt, "«Астана» (№ 2): ✗ ОШИБКА — магазин Kaspi «Астана»: Kaspi не принял токен") {
		t.Fatalf("text:\n%s", txt)
	}
	var page bytes.Buffer
	if err := status.HTML(&page, r); err != nil || !strings.Contains(page.String(), "«Астана» (№ 2)") {
		t.Fatalf("html: %v", err)
	}
}
