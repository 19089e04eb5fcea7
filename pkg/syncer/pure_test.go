package syncer

import (
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
)

func TestBackoff_NextRunThenDoublingMinutesCappedAtAnHour(t *testing.T) {
	want := map[int]time.Duration{
		0: 0, 1: 0, 2: time.Minute, 3: 2 * time.Minute, 4: 4 * time.Minute,
		7: 32 * time.Minute, 8: time.Hour, 10: time.Hour, 50: time.Hour,
	}
	for attempts, d := range want {
		if got := backoff(attempts); got != d {
			t.Errorf("backoff(%d) = %v, want %v", attempts, got, d)
		}
	}
}

func TestStatusMap_StatusMatchBeatsStateMatchAndUnmappedIsZero(t *testing.T) {
	m := statusMap{"COMPLETED": 142, "ARCHIVE": 555, "KASPI_DELIVERY": 777}
	cases := []struct {
		status, state string
		want          int64
	}{
		{"COMPLETED", "ARCHIVE", 142},
		{"CANCELLED", "ARCHIVE", 555},
		{"ACCEPTED_BY_MERCHANT", "KASPI_DELIVERY", 777},
		{"ACCEPTED_BY_MERCHANT", "PICKUP", 0},
		{"", "", 0},
	}
	for _, c := range cases {
		if got := m.Resolve(c.status, c.state); got != c.want {
			t.Errorf("Resolve(%s, %s) = %d, want %d", c.status, c.state, got, c.want)
		}
	}
}

func TestMergeStatusMaps_EnvWinsOverDatabaseRows(t *testing.T) {
	m := mergeStatusMaps(map[string]int64{"COMPLETED": 1, "CANCELLED": 2}, map[string]int64{"COMPLETED": 142})
	if m["COMPLETED"] != 142 || m["CANCELLED"] != 2 {
		t.Fatalf("merged = %v", m)
	}
}

func TestCut_KeepsAtMostNCharactersNotBytes(t *testing.T) {
	s := strings.Repeat("ж", 300)
	got := cut(s, maxNameLen)
	if n := len([]rune(got)); n != 255 {
		t.Fatalf("len = %d", n)
	}
	if cut("  abc  ", 255) != "abc" {
		t.Fatal("not trimmed")
	}
}

func TestContactNames_FallsBackToFullNameThenPlaceholder(t *testing.T) {
	f, l := contactNames(domain.Customer{FirstName: "Айгерим", LastName: "Сапарова"})
	if f != "Айгерим" || l != "Сапарова" {
		t.Fatalf("%q %q", f, l)
	}
	f, l = contactNames(domain.Customer{Name: "Иван  Петров Сидорович"})
	if f != "Иван" || l != "Петров Сидорович" {
		t.Fatalf("%q %q", f, l)
	}
	f, l = contactNames(domain.Customer{})
	if f == "" || l == "" {
		t.Fatalf("placeholder missing: %q %q", f, l)
	}
	f, _ = contactNames(domain.Customer{FirstName: strings.Repeat("a", 400)})
	if len(f) != 255 {
		t.Fatalf("first name not cut: %d", len(f))
	}
}

func TestBuildLead_LeavesZeroIdsOutAndRoundsThePrice(t *testing.T) {
	o := &domain.Order{Code: "512345678", TotalPrice: 45989.6, CreationMs: 1767254400000,
		Address: &domain.Address{StreetName: "ул. Абая", StreetNumber: "10", Town: "Алматы", Apartment: "5"}}
	cfg := Config{PipelineID: 0, StatusID: 0, ResponsibleUserID: 0}
	l := newLead(o, cfg, leadFieldSet{}, 0, almaty())
	if l.Name != "Kaspi Order 512345678" || l.RequestID != "512345678" || l.Price != 45990 {
		t.Fatalf("lead = %+v", l)
	}
	if l.PipelineID != 0 || l.StatusID != 0 || l.ResponsibleUserID != 0 || l.ContactID != 0 || len(l.Fields) != 0 {
		t.Fatalf("zero ids must stay zero, no fields: %+v", l)
	}
	if strings.Join(l.Tags, ",") != "Kaspi,Marketplace" {
		t.Fatalf("tags = %v", l.Tags)
	}
}

func TestBuildLead_FillsConfiguredFields(t *testing.T) {
	o := &domain.Order{Code: "77", TotalPrice: 100, CreationMs: 1767254400000, // 2026-01-01 13:00 Almaty
		Address: &domain.Address{Formatted: "Алматы, ул. Абая, 10"}}
	f := leadFieldSet{OrderCodeID: 1, OrderDateID: 2, OrderDateType: "date_time", DeliveryAddressID: 3}
	l := newLead(o, Config{PipelineID: 10, StatusID: 20, ResponsibleUserID: 30}, f, 99, almaty())
	if l.PipelineID != 10 || l.StatusID != 20 || l.ResponsibleUserID != 30 || l.ContactID != 99 {
		t.Fatalf("ids: %+v", l)
	}
	got := map[int64]any{}
	for _, fv := range l.Fields {
		got[fv.FieldID] = fv.Values[0].Value
	}
	if got[1] != "77" || got[2] != int64(1767254400) || got[3] != "Алматы, ул. Абая, 10" {
		t.Fatalf("fields = %v", got)
	}
}

func TestDateValue_UnixForDateFieldsIsoAlmatyForText(t *testing.T) {
	ms := int64(1767254400000) // 2026-01-01T08:00:00Z = 13:00 in Almaty (UTC+5)
	loc := almaty()
	if v := dateValue(ms, "date_time", loc); v != int64(1767254400) {
		t.Errorf("date_time = %v", v)
	}
	if v := dateValue(ms, "date", loc); v != time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Unix() {
		t.Errorf("date = %v", v)
	}
	if v := dateValue(ms, "text", loc); v != "2026-01-01T13:00:00+05:00" {
		t.Errorf("text = %v", v)
	}
	// Before March 2024 Almaty was UTC+6: the tz database, not a fixed offset.
	if v := dateValue(1706896790999, "text", loc); v != "2024-02-02T23:59:50+06:00" {
		t.Errorf("2024 text = %v", v)
	}
}

func TestAddressText_FormattedOrPartsJoined(t *testing.T) {
	if s := addressText(nil); s != "" {
		t.Fatal(s)
	}
	if s := addressText(&domain.Address{Formatted: " Астана, пр. Мангилик Ел, 1 "}); s != "Астана, пр. Мангилик Ел, 1" {
		t.Fatal(s)
	}
	s := addressText(&domain.Address{Town: "Алматы", StreetName: "ул. Абая", StreetNumber: "10", Apartment: "5"})
	if s != "Алматы, ул. Абая 10, кв. 5" {
		t.Fatal(s)
	}
}

func TestLinks_OneLinkPerElementWithQuantitiesAdded(t *testing.T) {
	lines := []domain.Line{{SKU: "A", Quantity: 2}, {SKU: "B", Quantity: 1}, {SKU: "A", Quantity: 1}, {SKU: "", Quantity: 1}, {SKU: "C", Quantity: 1}}
	links := productLinks(5, 9, lines, map[string]int64{"A": 100, "B": 200})
	if len(links) != 2 || links[0].ElementID != 100 || links[0].Quantity != 3 || links[1].Quantity != 1 || links[0].CatalogID != 9 || links[0].LeadID != 5 {
		t.Fatalf("links = %+v", links)
	}
}

func TestMoney_GroupsThousandsAndShowsTiyn(t *testing.T) {
	cases := map[float64]string{0: "0 ₸", 999: "999 ₸", 45990: "45 990 ₸", 1234567.5: "1 234 567,50 ₸", 159990.0: "159 990 ₸"}
	for v, want := range cases {
		if got := money(v); got != want {
			t.Errorf("money(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestOrderNote_ListsLinesDeliveryPaymentAndWhyNoContact(t *testing.T) {
	o := &domain.Order{
		Code: "512345678", Status: "APPROVED_BY_BANK", State: "NEW", TotalPrice: 46990,
		CreationMs: 1767254400000, PaymentMode: "PAY_WITH_CREDIT", CreditTerm: 12,
		DeliveryMode: "DELIVERY_LOCAL", IsKaspiDelivery: true, PlannedDeliveryMs: 1767293999999,
		PickupPointID: "30012345_PP1", WaybillNumber: "WB-1", Waybill: "https://kaspi.kz/wb.pdf",
		Address: &domain.Address{Formatted: "Алматы, ул. Абая, 10"},
		Lines: []domain.Line{
			{SKU: "KSP-1", Name: "Смартфон", Quantity: 2, BasePrice: 20000, TotalPrice: 40000},
			{SKU: "KSP-2", Name: "Чехол", Quantity: 1, BasePrice: 6990, TotalPrice: 6990},
		},
	}
	n := orderNote(o, "Kaspi скрыл телефон покупателя (+0(000)-000-00-00)", almaty())
	for _, want := range []string{
		"Заказ Kaspi № 512345678",
		"1. Смартфон (арт. KSP-1): 2 шт. × 20 000 ₸ = 40 000 ₸",
		"2. Чехол (арт. KSP-2): 1 шт. × 6 990 ₸ = 6 990 ₸",
		"Итого за товары: 46 990 ₸",
		"Доставка: Kaspi Доставка по городу",
		"Адрес: Алматы, ул. Абая, 10",
		"Плановая дата доставки: 01.01.2026",
		"Пункт выдачи: 30012345_PP1",
		"Накладная: № WB-1 https://kaspi.kz/wb.pdf",
		"Оплата: кредит или рассрочка Kaspi, срок кредита: 12 мес.",
		"Контакт не привязан: Kaspi скрыл телефон покупателя",
	} {
		if !strings.Contains(n, want) {
			t.Errorf("note lacks %q:\n%s", want, n)
		}
	}
}

func TestOrderNote_OmitsWhatTheOrderDoesNotHave(t *testing.T) {
	n := orderNote(&domain.Order{Code: "1", TotalPrice: 10, DeliveryMode: "DELIVERY_PICKUP"}, "", almaty())
	for _, absent := range []string{"Накладная", "Контакт не привязан", "Оплата", "Плановая", "Адрес"} {
		if strings.Contains(n, absent) {
			t.Errorf("note has %q:\n%s", absent, n)
		}
	}
	if !strings.Contains(n, "самовывоз") {
		t.Errorf("pickup mode missing:\n%s", n)
	}
}

func TestChangeNote_StatusChangeWithCancellationReasonAndTotal(t *testing.T) {
	o := &domain.Order{Status: "CANCELLED", State: "ARCHIVE", CancellationReason: "MERCHANT_OUT_OF_STOCK", TotalPrice: 5000}
	n := changeNote("ACCEPTED_BY_MERCHANT", "PICKUP", o, true, 7000, true)
	for _, want := range []string{
		"Kaspi: статус изменён с «Принят продавцом» (ACCEPTED_BY_MERCHANT, PICKUP) на «Отменён» (CANCELLED, ARCHIVE)",
		"Причина отмены: нет товара в наличии",
		"Kaspi: сумма заказа изменена с 7 000 ₸ на 5 000 ₸",
	} {
		if !strings.Contains(n, want) {
			t.Errorf("note lacks %q:\n%s", want, n)
		}
	}
	if changeNote("A", "B", o, false, 0, false) != "" {
		t.Fatal("no change, no note")
	}
	if got := cancellationReasonText("SOMETHING_NEW"); got != "SOMETHING_NEW" {
		t.Fatal(got)
	}
}

func TestNoContactReason_TellsMissingMaskedAndUnreadablePhones(t *testing.T) {
	if !strings.Contains(noContactReason(""), "не передал") {
		t.Error("empty")
	}
	if !strings.Contains(noContactReason("+0(000)-000-00-00"), "скрыл") {
		t.Error("masked")
	}
	if !strings.Contains(noContactReason("12-34"), "не распознан") {
		t.Error("invalid")
	}
}

func TestMatchContact_OnlyAPhoneValueEqualInE164Matches(t *testing.T) {
	contacts := []domain.Contact{
		{ID: 5, Name: "decoy 7011234567", Phones: []string{"+7 702 000 00 00"}},
		{ID: 9, Phones: []string{"8 (701) 123-45-67"}},
		{ID: 7, Phones: []string{"+77011234567"}},
	}
	if id := matchContact(contacts, "+77011234567", "KZ"); id != 7 {
		t.Fatalf("id = %d, want the lowest real match 7", id)
	}
	if id := matchContact(contacts[:1], "+77011234567", "KZ"); id != 0 {
		t.Fatalf("decoy matched: %d", id)
	}
}

func TestMatchLead_ByNameOrCodeField(t *testing.T) {
	leads := []domain.Lead{
		{ID: 3, Name: "Kaspi Order 1234"}, // another order whose code contains ours
		{ID: 8, Name: "Сделка", Fields: []domain.FieldValue{{FieldID: 44, Values: []domain.FieldItem{{Value: "123"}}}}},
		{ID: 6, Name: "Kaspi Order 123", IsDeleted: true},
	}
	if id := matchLead(leads, "123", "", 44); id != 8 {
		t.Fatalf("id = %d", id)
	}
	if id := matchLead(leads, "123", "", 0); id != 0 {
		t.Fatalf("id = %d", id)
	}
	// With several stores the deal is named after its store too.
	leads = append(leads, domain.Lead{ID: 9, Name: "Kaspi Order 123 · Астана"}, domain.Lead{ID: 2, Name: "Kaspi Order 123 · Алматы"})
	if id := matchLead(leads, "123", "Kaspi Order 123 · Астана", 0); id != 9 {
		t.Fatalf("store name: id = %d", id)
	}
}

func TestSummary_IsOneLine(t *testing.T) {
	s := Summary{Task: "reconcile", Found: 1, Created: 2, Moved: 3, AmoRequests: 4, KaspiReqs: 5, Seconds: 1.25}
	line := s.String()
	if strings.Contains(line, "\n") || !strings.Contains(line, "перемещено по этапам 3") || !strings.Contains(line, "запросов к amoCRM 4") {
		t.Fatal(line)
	}
	if strings.Contains(Summary{Task: "fetch_new"}.String(), "перемещено") {
		t.Fatal("fetch_new has no reconcile counts")
	}
}
