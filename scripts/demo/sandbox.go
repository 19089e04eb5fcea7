package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
)

// seedOrders is how many orders the fake Kaspi starts with.
const seedOrders = 12

// kaspiStores: the demo shop sells in two Kaspi stores, each with its own
// token; their deals land in the one amoCRM, tagged and named by store.
const kaspiStores = 2

// sandboxInfo is what bin/sandbox printed.
type sandboxInfo struct {
	env      map[string]string
	envLines []string // the lines that go into .env
	admin    string   // base URL of /_sandbox/
}

// notInEnv are sandbox lines the demo leaves out of .env: the tokens must
// arrive through the OAuth callback, as they do for a shop owner.
var notInEnv = map[string]bool{"AMO_ACCESS_TOKEN": true, "AMO_REFRESH_TOKEN": true, "AMO_EXPIRES_AT": true}

func (d *demo) startSandbox() error {
	cmd := exec.Command(filepath.Join(d.root, "bin", "sandbox"), "--seed-orders", fmt.Sprint(seedOrders), "--kaspi-stores", fmt.Sprint(kaspiStores))
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	d.sandboxOut = &tailBuffer{}
	cmd.Stderr = d.sandboxOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start bin/sandbox: %w", err)
	}
	d.sandbox = cmd
	d.sandboxDone = make(chan struct{})

	info := sandboxInfo{env: map[string]string{}}
	lines := make(chan error, 1)
	go func() {
		lines <- scanLines(stdout, func(line string) bool {
			d.sandboxOut.Write([]byte(line + "\n"))
			line = strings.TrimSpace(line)
			if rest, ok := strings.CutPrefix(line, "# Admin:"); ok {
				info.admin = strings.TrimRight(strings.TrimSpace(rest), "/")
				return true
			}
			if line == "" || strings.HasPrefix(line, "#") {
				return false
			}
			if k, v, ok := strings.Cut(line, "="); ok {
				info.env[k] = v
				if !notInEnv[k] {
					info.envLines = append(info.envLines, line)
				}
			}
			return false
		})
		// Keep draining so the sandbox never blocks on a full pipe.
		io.Copy(d.sandboxOut, stdout)
		close(d.sandboxDone)
	}()
	select {
	case err := <-lines:
		if err != nil {
			d.logTail = d.sandboxOut.tail(20)
			return fmt.Errorf("bin/sandbox ended before printing its .env lines: %w", err)
		}
	case <-time.After(30 * time.Second):
		d.logTail = d.sandboxOut.tail(20)
		return errors.New("bin/sandbox printed no .env lines within 30 s")
	}
	if info.admin == "" || info.env["AMO_SUBDOMAIN"] == "" || info.env["KASPI_API_BASE"] == "" {
		return errors.New("bin/sandbox's lines lack AMO_SUBDOMAIN, KASPI_API_BASE or the admin URL")
	}
	d.sb = info
	d.say("    fake Kaspi:  %s (%d orders of the last 3 days, in %d stores with their own tokens: %s, %s)", info.env["KASPI_API_BASE"], seedOrders,
		kaspiStores, info.env["KASPI_STORE_NAME"], info.env["KASPI_STORE_NAME_2"])
	d.say("    fake amoCRM: %s (7 requests/s, like the real one)", info.env["AMO_SUBDOMAIN"])
	return nil
}

func (d *demo) stopSandbox() {
	if d.sandbox == nil || d.sandbox.Process == nil {
		return
	}
	d.sandbox.Process.Signal(syscall.SIGINT)
	exited := make(chan struct{})
	go func() { d.sandbox.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		d.sandbox.Process.Kill()
		<-exited
	}
	d.sandbox = nil
}

// authCode asks the sandbox for a fresh authorization code, as amoCRM
// hands one to the browser after the owner allows the integration.
func (sb sandboxInfo) authCode() (string, error) {
	var ans struct {
		Code string `json:"code"`
	}
	if err := sb.call(http.MethodPost, "code", nil, &ans); err != nil {
		return "", err
	}
	if ans.Code == "" {
		return "", errors.New("the sandbox issued no code")
	}
	return ans.Code, nil
}

// referer is the account host amoCRM names in the redirect.
func (sb sandboxInfo) referer() string {
	u, err := url.Parse(sb.env["AMO_SUBDOMAIN"])
	if err != nil {
		return ""
	}
	return u.Host
}

// call talks to the sandbox's admin endpoint (not the fake APIs).
func (sb sandboxInfo) call(method, name string, form url.Values, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	target := sb.admin + "/" + name
	if form != nil {
		target += "?" + form.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("sandbox admin %s: %w", name, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sandbox admin %s: HTTP %d: %s", name, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	if out != nil {
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("sandbox admin %s: %w", name, err)
		}
	}
	return nil
}

// change is one status change made at Kaspi, and where the deal must go.
type change struct {
	Code, State, Status, Reason string
	WantStatusID                int64
	Added                       bool // a new order that arrived after fetch_new
}

func (c change) describe() string {
	if c.Added {
		return "a new order arrives after fetch_new (reconcile must pick it up)"
	}
	s := c.State + " / " + c.Status
	if c.Reason != "" {
		s += " (" + c.Reason + ")"
	}
	return s
}

// changeStatuses moves three orders that have deals — completed, cancelled,
// accepted and handed to Kaspi Delivery — and adds two new orders.
func (d *demo) changeStatuses() ([]change, error) {
	var orders []domain.Order
	if err := d.sb.call(http.MethodGet, "orders", nil, &orders); err != nil {
		return nil, err
	}
	var leads []amofake.Lead
	if err := d.sb.call(http.MethodGet, "leads", nil, &leads); err != nil {
		return nil, err
	}
	withLead := map[string]bool{}
	for _, l := range leads {
		code, _, _ := strings.Cut(strings.TrimPrefix(l.Name, "Kaspi Order "), " · ") // " · <store>" with several stores
		withLead[code] = true
	}
	plan := []change{
		{State: domain.StateArchive, Status: domain.StatusCompleted, WantStatusID: amofake.StatusWon},
		{State: domain.StateArchive, Status: domain.StatusCancelled, Reason: "BUYER_CANCELLATION_BY_MERCHANT", WantStatusID: amofake.StatusLost},
		{State: domain.StateKaspiDelivery, Status: domain.StatusAcceptedByMerchant, WantStatusID: amofake.StatusConfirmed},
	}
	var out []change
	for _, o := range orders {
		if len(out) == len(plan) {
			break
		}
		if !withLead[o.Code] || domain.IsFinalStatus(o.Status) {
			continue
		}
		c := plan[len(out)]
		c.Code = o.Code
		form := url.Values{"code": {c.Code}, "state": {c.State}, "status": {c.Status}}
		if c.Reason != "" {
			form.Set("reason", c.Reason)
		}
		if err := d.sb.call(http.MethodPost, "orders/status", form, nil); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no order with a deal to change")
	}
	var added struct {
		Codes []string `json:"codes"`
	}
	if err := d.sb.call(http.MethodPost, "orders/new", url.Values{"n": {"2"}}, &added); err != nil {
		return nil, err
	}
	for _, code := range added.Codes {
		out = append(out, change{Code: code, Added: true})
	}
	return out, nil
}

// summary prints what the fake amoCRM holds and checks the outcome: one
// deal per importable order, no duplicates, each changed order's deal in
// its mapped status.
func (d *demo) summary(fetchLine, reconcileLine string, changes []change) error {
	var (
		orders   []domain.Order
		leads    []amofake.Lead
		contacts []amofake.Contact
		elements []amofake.Element
		links    []amofake.Link
		notes    []amofake.Note
		stats    struct {
			AmoRequests     int `json:"amo_requests"`
			AmoMaxPerSecond int `json:"amo_max_per_second"`
			Amo429          int `json:"amo_429"`
			KaspiRequests   int `json:"kaspi_requests"`
		}
	)
	for name, v := range map[string]any{"orders": &orders, "leads": &leads, "contacts": &contacts,
		"elements": &elements, "links": &links, "notes": &notes, "stats": &stats} {
		if err := d.sb.call(http.MethodGet, name, nil, v); err != nil {
			return err
		}
	}
	statusNames := map[int64]string{}
	for name, id := range amofake.New(amofake.Options{}).Fixture().Statuses {
		statusNames[id] = name
	}
	byContact := map[int64]amofake.Contact{}
	for _, c := range contacts {
		byContact[c.ID] = c
	}
	byElement := map[int64]amofake.Element{}
	for _, e := range elements {
		byElement[e.ID] = e
	}
	notesOf := map[int64][]amofake.Note{}
	for _, n := range notes {
		notesOf[n.LeadID] = append(notesOf[n.LeadID], n)
	}
	linksOf := map[int64][]amofake.Link{}
	for _, l := range links {
		if l.ToEntityType == "catalog_elements" {
			linksOf[l.LeadID] = append(linksOf[l.LeadID], l)
		}
	}
	changed := map[string]change{}
	for _, c := range changes {
		changed[c.Code] = c
	}

	leadsByCode := map[string][]amofake.Lead{}
	for _, l := range leads {
		code := amofake.FieldText(l.Fields, amofake.LeadOrderCodeFieldID)
		if code == "" {
			code, _, _ = strings.Cut(strings.TrimPrefix(l.Name, "Kaspi Order "), " · ")
		}
		leadsByCode[code] = append(leadsByCode[code], l)
	}

	d.say("    Deals in amoCRM: %d, contacts: %d, catalog elements: %d, product links: %d, notes: %d",
		len(leads), len(contacts), len(elements), len(links), len(notes))
	var problems []string
	importable := map[string]bool{domain.StateNew: true, domain.StatePickup: true, domain.StateDelivery: true, domain.StateKaspiDelivery: true}
	for _, o := range orders {
		ls := leadsByCode[o.Code]
		c, wasChanged := changed[o.Code]
		switch {
		case len(ls) > 1:
			problems = append(problems, fmt.Sprintf("order %s has %d deals", o.Code, len(ls)))
		case len(ls) == 0:
			if importable[o.State] && !wasChanged {
				problems = append(problems, fmt.Sprintf("order %s (%s) has no deal", o.Code, o.State))
			}
			continue
		}
		l := ls[0]
		d.say("")
		d.say("    Deal %d «%s» — %s ₸, stage «%s»", l.ID, l.Name, money(l.Price), statusNames[l.StatusID])
		d.say("      Kaspi: %s / %s, %s", o.State, o.Status, time.UnixMilli(o.CreationMs).In(almaty()).Format("02.01.2006 15:04"))
		if ct, ok := byContact[l.MainContactID()]; ok {
			d.say("      contact: %s, %s", ct.Name, strings.Join(ct.Phones(), ", "))
		} else {
			d.say("      contact: none (the order has no usable phone)")
		}
		for _, lk := range linksOf[l.ID] {
			e := byElement[lk.ToEntityID]
			d.say("      item: %s [SKU %s] × %g", e.Name, e.SKU(), lk.Quantity)
		}
		if ns := notesOf[l.ID]; len(ns) > 0 {
			d.say("      notes: %d, first: %s", len(ns), firstLine(ns[0].Text))
			if len(ns) > 1 {
				d.say("      latest: %s", firstLine(ns[len(ns)-1].Text))
			}
		}
		if wasChanged && !c.Added && l.StatusID != c.WantStatusID {
			problems = append(problems, fmt.Sprintf("order %s became %s at Kaspi, but its deal is in stage %d, not %d",
				o.Code, c.Status, l.StatusID, c.WantStatusID))
		}
	}
	for _, c := range changes {
		if c.Added && len(leadsByCode[c.Code]) != 1 {
			problems = append(problems, fmt.Sprintf("new order %s got %d deals after reconcile", c.Code, len(leadsByCode[c.Code])))
		}
	}

	d.say("")
	d.say("    %s", fetchLine) // each line starts with its task
	d.say("    %s", reconcileLine)
	for _, line := range explain(orders, leadsByCode, reconcileLine) {
		d.say("    %s", line)
	}
	if len(leads) > 0 {
		d.say("    amoCRM requests in all (OAuth included): %d — %.2f per deal; most in one second: %d (limit 7); 429 answers: %d",
			stats.AmoRequests, float64(stats.AmoRequests)/float64(len(leads)), stats.AmoMaxPerSecond, stats.Amo429)
	}
	d.say("    Kaspi requests: %d", stats.KaspiRequests)
	if len(leads) == 0 {
		problems = append(problems, "amoCRM holds no deal")
	}
	if len(problems) > 0 {
		return fmt.Errorf("the outcome is wrong:\n  %s", strings.Join(problems, "\n  "))
	}
	return nil
}

func money(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func almaty() *time.Location {
	if loc, err := time.LoadLocation("Asia/Almaty"); err == nil {
		return loc
	}
	return time.FixedZone("+05", 5*3600)
}

// explain says why the counts are what they are: Kaspi holds orders in
// states fetch_new does not import (so fewer deals than orders), and new
// deals start in AMO_STATUS_ID, so reconcile moves those whose Kaspi
// status the status map places elsewhere.
func explain(orders []domain.Order, leadsByCode map[string][]amofake.Lead, reconcileLine string) []string {
	skipped := map[string]int{}
	n := 0
	for _, o := range orders {
		if len(leadsByCode[o.Code]) == 0 {
			skipped[o.State]++
			n++
		}
	}
	var out []string
	if n > 0 {
		var parts []string
		for _, st := range []string{domain.StateArchive, domain.StateSignRequired, domain.StateNew, domain.StatePickup, domain.StateDelivery, domain.StateKaspiDelivery} {
			if skipped[st] > 0 {
				parts = append(parts, fmt.Sprintf("%s ×%d", st, skipped[st]))
			}
		}
		out = append(out, fmt.Sprintf("Why %d orders in Kaspi give %d deals: %d order(s) are in states fetch_new does not import "+
			"(KASPI_IMPORT_STATES is NEW, PICKUP, DELIVERY, KASPI_DELIVERY): %s.", len(orders), len(orders)-n, n, strings.Join(parts, ", ")))
	}
	if m := regexp.MustCompile(`перемещено по этапам (\d+)`).FindStringSubmatch(reconcileLine); m != nil && m[1] != "0" {
		out = append(out, fmt.Sprintf("Why reconcile moved %s deals: every new deal starts in AMO_STATUS_ID, and reconcile places it "+
			"in the stage AMO_STATUS_MAP gives for its Kaspi status (accepted, in delivery, completed, cancelled).", m[1]))
	}
	return out
}
