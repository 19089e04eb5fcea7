package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
)

// kaspiFollows turns on the writes to Kaspi and shows each: a new order
// accepted automatically once its deal exists, then a manager moves deals
// into stages and Kaspi follows — a Kaspi Delivery order is assembled (its
// waybill arrives as a note), an order is completed with the code the
// buyer received, another is cancelled.
func (d *demo) kaspiFollows() error {
	var code, waybill struct {
		ID int64 `json:"id"`
	}
	if err := d.sb.call(http.MethodPost, "fields/add", url.Values{"entity": {"leads"}, "name": {"Код покупателя"}, "type": {"text"}}, &code); err != nil {
		return err
	}
	if err := d.sb.call(http.MethodPost, "fields/add", url.Values{"entity": {"leads"}, "name": {"Накладная Kaspi"}, "type": {"url"}}, &waybill); err != nil {
		return err
	}
	lines := []string{
		"KASPI_AUTO_ACCEPT=1",
		fmt.Sprintf("KASPI_ACTIONS=assemble:%d,complete:%d,cancel:%d", amofake.StatusInDelivery, amofake.StatusWon, amofake.StatusLost),
		// The second store's deals share the pipeline, so the same stages.
		fmt.Sprintf("KASPI_ACTIONS_2=assemble:%d,complete:%d,cancel:%d", amofake.StatusInDelivery, amofake.StatusWon, amofake.StatusLost),
		fmt.Sprintf("AMO_LEAD_KASPI_CODE_FIELD_ID=%d", code.ID),
		fmt.Sprintf("AMO_LEAD_WAYBILL_FIELD_ID=%d", waybill.ID),
	}
	f, err := os.OpenFile(filepath.Join(d.root, ".env"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strings.Join(lines, "\n") + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	d.say("    .env += %s", strings.Join(lines, ", "))

	before, leads, err := d.ordersAndLeads()
	if err != nil {
		return err
	}
	var waiting []string
	for c, o := range before {
		if _, ok := leads[c]; ok && o.Status == domain.StatusApprovedByBank {
			waiting = append(waiting, c)
		}
	}
	sort.Strings(waiting)
	if len(waiting) == 0 {
		return errors.New("no order waits for the merchant")
	}
	d.say("    %d orders with deals wait for the merchant at Kaspi; bin/fetch_new accepts them", len(waiting))
	out, err := d.exec("bin/fetch_new")
	if err != nil {
		return err
	}
	printIndented(d.out, lastLine(out))
	orders, leads, err := d.ordersAndLeads()
	if err != nil {
		return err
	}
	for _, c := range waiting {
		if o := orders[c]; o.Status != domain.StatusAcceptedByMerchant {
			return fmt.Errorf("order %s was not accepted automatically: %s / %s", c, o.State, o.Status)
		}
	}
	fresh := waiting[0]

	// A manager's moves: one Kaspi Delivery order to assembly, one order
	// completed, one cancelled.
	var assemble, complete, cancel string
	codes := make([]string, 0, len(orders))
	for c := range orders {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	for _, c := range codes {
		o := orders[c]
		kd := o.IsKaspiDelivery
		if _, ok := leads[c]; !ok || o.Status != domain.StatusAcceptedByMerchant || c == fresh || (!kd && o.State == domain.StateKaspiDelivery) {
			continue
		}
		switch {
		case kd && assemble == "":
			assemble = c
		case !kd && complete == "":
			complete = c
		case !kd && cancel == "":
			cancel = c
		}
	}
	if assemble == "" || complete == "" || cancel == "" {
		return fmt.Errorf("no accepted orders to act on (assemble %q, complete %q)", assemble, complete)
	}
	moves := []struct {
		code  string
		stage int64
		what  string
	}{
		{assemble, amofake.StatusInDelivery, "«Передан в доставку» = assemble"},
		{complete, amofake.StatusWon, "«Успешно реализовано» = complete"},
		{cancel, amofake.StatusLost, "«Закрыто и не реализовано» = cancel"},
	}
	for _, m := range moves {
		form := url.Values{"id": {fmt.Sprint(leads[m.code].ID)}, "pipeline_id": {fmt.Sprint(amofake.PipelineID)}, "status_id": {fmt.Sprint(m.stage)}}
		if err := d.sb.call(http.MethodPost, "leads/move", form, nil); err != nil {
			return err
		}
		d.say("    a manager moves the deal of order %s to %s", m.code, m.what)
	}
	out, err = d.exec("bin/reconcile")
	if err != nil {
		return err
	}
	printIndented(d.out, lastLine(out))

	// The waybill appears at Kaspi a little later; the buyer reads the
	// code to the manager, who types it into the deal.
	time.Sleep(kaspifake.DefaultWaybillDelay + 500*time.Millisecond)
	var sent struct {
		Code string `json:"code"`
	}
	if err := d.sb.call(http.MethodGet, "orders/sent-code", url.Values{"code": {complete}}, &sent); err != nil {
		return err
	}
	form := url.Values{"id": {fmt.Sprint(leads[complete].ID)}, "field_id": {fmt.Sprint(code.ID)}, "value": {sent.Code}}
	if err := d.sb.call(http.MethodPost, "leads/field", form, nil); err != nil {
		return err
	}
	d.say("    the buyer of %s gets code %s; the manager types it into «Код покупателя»", complete, sent.Code)
	out, err = d.exec("bin/fetch_new")
	if err != nil {
		return err
	}
	printIndented(d.out, lastLine(out))

	orders, leads, err = d.ordersAndLeads()
	if err != nil {
		return err
	}
	var notes []amofake.Note
	if err := d.sb.call(http.MethodGet, "notes", nil, &notes); err != nil {
		return err
	}
	var problems []string
	for _, c := range []string{fresh, assemble, complete, cancel} {
		l := leads[c]
		o := orders[c]
		d.say("")
		d.say("    Order %s: Kaspi %s / %s", c, o.State, o.Status)
		for _, n := range notes {
			if n.LeadID == l.ID && strings.HasPrefix(n.Text, "Kaspi") {
				d.say("      note: %s", firstLine(n.Text))
			}
		}
	}
	if o := orders[assemble]; !o.Assembled || o.Waybill == "" || amofake.FieldText(leads[assemble].Fields, waybill.ID) != o.Waybill {
		problems = append(problems, fmt.Sprintf("order %s: assembled %v, waybill %q, in the deal %q", assemble, o.Assembled, o.Waybill, amofake.FieldText(leads[assemble].Fields, waybill.ID)))
	}
	if o := orders[complete]; o.Status != domain.StatusCompleted {
		problems = append(problems, fmt.Sprintf("order %s was not completed: %s", complete, o.Status))
	}
	if o := orders[cancel]; o.Status != domain.StatusCancelled {
		problems = append(problems, fmt.Sprintf("order %s was not cancelled: %s", cancel, o.Status))
	}
	if len(problems) > 0 {
		return fmt.Errorf("the Kaspi sandbox did not follow:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

// ordersAndLeads reads both fakes: orders and deals by order code.
func (d *demo) ordersAndLeads() (map[string]domain.Order, map[string]amofake.Lead, error) {
	var orders []domain.Order
	if err := d.sb.call(http.MethodGet, "orders", nil, &orders); err != nil {
		return nil, nil, err
	}
	var leads []amofake.Lead
	if err := d.sb.call(http.MethodGet, "leads", nil, &leads); err != nil {
		return nil, nil, err
	}
	byCode := map[string]domain.Order{}
	for _, o := range orders {
		byCode[o.Code] = o
	}
	ls := map[string]amofake.Lead{}
	for _, l := range leads {
		code, _, _ := strings.Cut(strings.TrimPrefix(l.Name, "Kaspi Order "), " · ") // " · <store>" with several stores
		ls[code] = l
	}
	return byCode, ls, nil
}
