package syncer_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

// An account kept on Moscow time: a date field holds the order's Almaty
// day as midnight in Moscow, or amoCRM shows the day before for orders
// placed just after midnight in Almaty. date_time stays unix seconds.
func TestFetchNew_DateFieldInTheAccountsTimeZone(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		e.amo.SetTimezone("Europe/Moscow")
		// 00:30 in Almaty on 8 July is still 7 July in Moscow.
		o := e.order("500000601", 11*time.Hour+30*time.Minute, "7011234567")
		e.add(o)
		if s := e.fetch(); s.Created != 1 {
			t.Fatalf("%s", s)
		}
		moscow, _ := time.LoadLocation("Europe/Moscow")
		want := time.Date(2025, 7, 8, 0, 0, 0, 0, moscow).Unix()
		if got := amofake.FieldText(e.lead(o.Code).Fields, amofake.LeadOrderDateFieldID); got != fmt.Sprint(want) {
			t.Fatalf("date field = %s; want %d (8 July, midnight in Moscow)", got, want)
		}

		// date_time is the moment itself, whatever the zone.
		e.cfg.LeadOrderDateFieldID = amofake.LeadOrderDateTimeFieldID
		o2 := e.order("500000602", time.Hour, "7011234568")
		e.add(o2)
		e.fetch()
		if got := amofake.FieldText(e.lead(o2.Code).Fields, amofake.LeadOrderDateTimeFieldID); got != fmt.Sprint(o2.CreationMs/1000) {
			t.Fatalf("date_time field = %s; want %d", got, o2.CreationMs/1000)
		}
		// The zone is read once and cached with the account's lists.
		n := 0
		for _, r := range e.amo.Requests() {
			if r.Path == "/api/v4/account" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("%d account reads; want 1 (cached)", n)
		}
	})
}

// A line Kaspi sends without the merchant's code is not linked, never
// linked under Kaspi's product code, and named in the order note.
func TestFetchNew_LineWithoutSKUIsNamedInTheNote(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		o := e.order("500000701", time.Hour, "7011234567",
			domain.Line{SKU: "KSP-1", Name: "Чайник", Quantity: 1, BasePrice: 5000},
			domain.Line{SKU: "KSP-2", Name: "Фильтр", Quantity: 2, BasePrice: 700})
		e.add(o)
		e.kf.DropOffer(o.Code, 1, true)
		if s := e.fetch(); s.Created != 1 {
			t.Fatalf("%s", s)
		}
		id := e.lead(o.Code).ID
		if links := e.linksOf(id); len(links) != 1 {
			t.Fatalf("%d products linked; want only the line with a code", len(links))
		}
		if len(e.amo.Elements()) != 1 {
			t.Fatalf("%d catalog elements; a line without code made one", len(e.amo.Elements()))
		}
		notes := strings.Join(e.notesOf(id), "\n")
		if !strings.Contains(notes, "позиция без артикула: 2. позиция № 1 (2 шт.") {
			t.Fatalf("note does not name the line:\n%s", notes)
		}
		if !strings.Contains(e.logs.String(), "order line without the merchant's code") {
			t.Fatal("the line is not in the log")
		}
	})
}
