package syncer

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// Adoption of existing deals. A new, lost or switched database knows
// nothing of the deals an earlier installation created in the same amoCRM
// account; creating deals for the listed orders would make every one of
// them twice. So when the ledger has no history for the window a run
// lists (an empty ledger, or a --since reaching before its first order),
// the account's leads created since the window's start are read first,
// 250 per request, every pipeline, and the ones that carry an order code
// (the order-code field, or the name "Kaspi Order <code>") are recorded as
// existing deals with their current stage. Nothing is created until this
// has completed; it resumes across runs.
//
// filter[created_at] is an alpha filter that most accounts silently ignore
// (then everything comes back): every answer is post-filtered, and a lead
// outside the asked range switches to paging order[created_at]=desc until
// the window's start.

const (
	// keyAdoptedFrom: the ledger's history is complete from this creation
	// time (epoch ms) on.
	keyAdoptedFrom = "amocrm_adopted_from_ms"
	// keyAdoptProgress: an unfinished adoption, "fromMs,toSec,mode,page".
	keyAdoptProgress = "amocrm_adopt_progress"
)

type adoptProgress struct {
	fromMs int64
	toSec  int64
	filter bool // false: order[created_at]=desc paging
	page   int
}

func (p adoptProgress) String() string {
	mode := "desc"
	if p.filter {
		mode = "filter"
	}
	return fmt.Sprintf("%d,%d,%s,%d", p.fromMs, p.toSec, mode, p.page)
}

func parseProgress(s string) (adoptProgress, bool) {
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return adoptProgress{}, false
	}
	from, err1 := strconv.ParseInt(f[0], 10, 64)
	to, err2 := strconv.ParseInt(f[1], 10, 64)
	page, err3 := strconv.Atoi(f[3])
	if err1 != nil || err2 != nil || err3 != nil || page < 1 || (f[2] != "filter" && f[2] != "desc") {
		return adoptProgress{}, false
	}
	return adoptProgress{fromMs: from, toSec: to, filter: f[2] == "filter", page: page}, true
}

// adoptCheck decides, before anything is ingested, whether the window
// starting at fromMs needs an adoption (the ledger's history does not
// reach back that far, or an earlier adoption is unfinished) and records
// the intent, so that the rows this run ingests do not pass for history.
func (r *run) adoptCheck(ctx context.Context, fromMs int64) error {
	raw, _, err := r.ledger.Setting(ctx, keyAdoptProgress)
	if err != nil {
		return lerr("read adoption progress", err)
	}
	if p, ok := parseProgress(raw); ok {
		if p.fromMs > fromMs {
			p = r.newProgress(fromMs)
			if err := r.saveProgress(ctx, p); err != nil {
				return err
			}
		}
		r.adoptPending = true
		return nil
	}
	covered, err := r.historyFrom(ctx)
	if err != nil {
		return err
	}
	if fromMs >= covered {
		return nil
	}
	if r.cfg.DryRun {
		r.printf("проверка без записи: в базе нет заказов с %s — настоящий запуск сначала найдёт сделки, которые уже есть в amoCRM (один запрос на 250 сделок)", day(fromMs, r))
		return nil
	}
	r.log.Info("the ledger has no history for this window: adopting the deals amoCRM already holds first", "since", day(fromMs, r))
	r.adoptPending = true
	return r.saveProgress(ctx, r.newProgress(fromMs))
}

func (r *run) newProgress(fromMs int64) adoptProgress {
	return adoptProgress{fromMs: fromMs, toSec: r.now().Unix(), filter: true, page: 1}
}

// historyFrom is when the ledger's history starts (math.MaxInt64: none).
func (r *run) historyFrom(ctx context.Context) (int64, error) {
	raw, ok, err := r.ledger.Setting(ctx, keyAdoptedFrom)
	if err != nil {
		return 0, lerr("read adoption mark", err)
	}
	if ok {
		if ms, err := strconv.ParseInt(raw, 10, 64); err == nil {
			return ms, nil
		}
	}
	first, ok, err := r.ledger.FirstOrderMs(ctx)
	if err != nil {
		return 0, lerr("read the ledger's first order", err)
	}
	if !ok {
		return math.MaxInt64, nil
	}
	// An existing ledger: its history is fixed once, so that later runs
	// need no scan and a --since before it adopts what lies before.
	if err := r.ledger.SetSetting(ctx, keyAdoptedFrom, strconv.FormatInt(first, 10)); err != nil {
		return 0, lerr("record adoption mark", err)
	}
	return first, nil
}

// adoptExisting runs (or resumes) the adoption adoptCheck decided on.
// While it is unfinished r.adoptPending stays set: the run creates nothing.
func (r *run) adoptExisting(ctx context.Context) error {
	if !r.adoptPending {
		return nil
	}
	raw, _, err := r.ledger.Setting(ctx, keyAdoptProgress)
	if err != nil {
		return lerr("read adoption progress", err)
	}
	p, ok := parseProgress(raw)
	if !ok {
		return lerr("read adoption progress", fmt.Errorf("malformed %s %q", keyAdoptProgress, raw))
	}
	covered := int64(math.MaxInt64)
	if v, ok, err := r.ledger.Setting(ctx, keyAdoptedFrom); err != nil {
		return lerr("read adoption mark", err)
	} else if n, perr := strconv.ParseInt(v, 10, 64); ok && perr == nil {
		covered = n
	}
	fromSec := p.fromMs / 1000
	pages, adopted := 0, 0
	defer func() {
		if pages > 0 {
			r.log.Info("adoption of existing deals", "pages", pages, "adopted", adopted, "mode", map[bool]string{true: "filter", false: "desc"}[p.filter])
		}
	}()
	for {
		if r.expired() {
			r.printf("поиск сделок, которые уже есть в amoCRM, продолжится в следующем запуске (время запуска вышло): найдено пока %d; новые сделки не создаются, пока поиск не закончен", adopted)
			return r.saveProgress(ctx, p)
		}
		leads, more, err := r.crm.LeadsCreatedPage(ctx, fromSec, p.toSec, p.filter, p.page)
		if err != nil {
			if fatal(err) {
				return fmt.Errorf("amocrm: list existing deals: %w", err)
			}
			r.noteTransient(err)
			r.log.Warn("listing existing deals failed; nothing is created until the adoption completes", "err", err)
			return r.saveProgress(ctx, p)
		}
		pages++
		var found []domain.AdoptedLead
		ignored, reachedStart := false, false
		for _, l := range leads {
			if l.CreatedAt < fromSec || l.CreatedAt > p.toSec {
				if p.filter {
					ignored = true
					break
				}
				reachedStart = reachedStart || l.CreatedAt < fromSec
				continue
			}
			if l.IsDeleted {
				continue
			}
			if code := leadOrderCode(l, r.cfg.OrderCodeFieldID); code != "" {
				_, store := r.leadCode(l.Name)
				found = append(found, domain.AdoptedLead{Code: code, LeadID: l.ID, AmoStatusID: l.StatusID, StoreNo: store})
			}
		}
		if ignored {
			r.log.Warn("amoCRM ignored filter[created_at] (the account is not in the filters alpha): reading every deal newest first until the window's start")
			p.filter, p.page = false, 1
			if err := r.saveProgress(ctx, p); err != nil {
				return err
			}
			continue
		}
		if len(found) > 0 {
			n, err := r.ledger.AdoptLeads(ctx, found, r.now())
			if err != nil {
				return lerr("adopt existing deals", err)
			}
			adopted += n
		}
		if !more || len(leads) == 0 || reachedStart {
			if err := r.ledger.SetSetting(ctx, keyAdoptedFrom, strconv.FormatInt(min(p.fromMs, covered), 10)); err != nil {
				return lerr("record adoption mark", err)
			}
			if err := r.ledger.SetSetting(ctx, keyAdoptProgress, ""); err != nil {
				return lerr("clear adoption progress", err)
			}
			r.printf("сделок, которые уже были в amoCRM, найдено и взято: %d (запросов к amoCRM: %d)", adopted, pages)
			r.adoptPending = false
			return nil
		}
		p.page++
		if err := r.saveProgress(ctx, p); err != nil {
			return err
		}
	}
}

func (r *run) saveProgress(ctx context.Context, p adoptProgress) error {
	return lerr("save adoption progress", r.ledger.SetSetting(ctx, keyAdoptProgress, p.String()))
}

// leadOrderCode is the order code a lead carries: its order-code field,
// else its name "Kaspi Order <code>" (or "Kaspi Order <code> · <store>").
func leadOrderCode(l domain.Lead, codeFieldID int64) string {
	if codeFieldID != 0 {
		for _, f := range l.Fields {
			if f.FieldID != codeFieldID {
				continue
			}
			for _, v := range f.Values {
				if s := strings.TrimSpace(fmt.Sprint(v.Value)); s != "" {
					return s
				}
			}
		}
	}
	if code, ok := strings.CutPrefix(strings.TrimSpace(l.Name), leadName("")+" "); ok {
		code, _, _ = strings.Cut(code, " · ")
		return strings.TrimSpace(code)
	}
	return ""
}

// adoptLeads looks amoCRM up for orders whose lead may already exist: a
// create whose outcome was unknown (step lead_requested) and rows the PHP
// version reserved without a lead id. A lead named "Kaspi Order <code>" or
// carrying the code in the order code field is adopted, never created again.
func (r *run) adoptLeads(ctx context.Context, items []*item) error {
	for _, it := range pick(items, func(it *item) bool { return it.rec.LeadID == 0 && mayHaveLead(it.rec) }) {
		if r.expired() {
			r.postpone(it, errBudget)
			continue
		}
		leads, err := r.crm.SearchLeads(ctx, it.code())
		if err != nil {
			if fatal(err) {
				return fmt.Errorf("amocrm: search lead %s: %w", it.code(), err)
			}
			r.noteTransient(err)
			r.postpone(it, fmt.Errorf("amocrm: search lead: %w", err))
			continue
		}
		id := matchLead(leads, it.code(), r.storeLeadName(it.code(), it.rec.StoreNo), r.cfg.OrderCodeFieldID)
		if id == 0 {
			continue
		}
		r.log.Info("adopted an existing deal", "order", it.code(), "lead", id)
		if r.cfg.DryRun {
			r.printf("проверка без записи: заказ %s — нашлась сделка #%d, она была бы взята", it.code(), id)
			it.out = true
			continue
		}
		if err := r.ledger.SetLead(ctx, it.code(), id, r.now()); err != nil {
			return lerr("set lead "+it.code(), err)
		}
		it.rec.LeadID, it.rec.Step = id, domain.StepLeadCreated
		r.created(it)
	}
	return nil
}

// mayHaveLead: the row's lead may exist in amoCRM although no id is known.
func mayHaveLead(rec domain.Record) bool {
	if rec.Step == domain.StepLeadRequested {
		return true
	}
	// A PHP row (no Kaspi status, no creation time) with lead_id 0 was
	// reserved by the PHP version, which may have created the lead.
	return rec.Status == "" && rec.CreationMs == 0 && rec.Order == nil
}

// matchLead returns the lowest id of a live lead that is this order's deal.
func matchLead(leads []domain.Lead, code, storeName string, codeFieldID int64) int64 {
	var best int64
	for _, l := range leads {
		if l.IsDeleted || l.ID == 0 {
			continue
		}
		ok := l.Name == leadName(code) || (storeName != "" && l.Name == storeName)
		if !ok && codeFieldID != 0 {
			for _, f := range l.Fields {
				if f.FieldID != codeFieldID {
					continue
				}
				for _, v := range f.Values {
					if strings.TrimSpace(fmt.Sprint(v.Value)) == code {
						ok = true
					}
				}
			}
		}
		if ok && (best == 0 || l.ID < best) {
			best = l.ID
		}
	}
	return best
}
