package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// Store is one Kaspi store of the install, as the sync needs it: which
// pipeline, stage and responsible user its deals get, the tag and name
// that tell them apart, and where its orders move.
type Store struct {
	No     int    // 1 … 9
	Name   string // KASPI_STORE_NAME_n ("" when unset)
	Suffix string // the suffix of its .env keys ("" for store 1, "_2" …)

	PipelineID        int64
	StatusID          int64
	ResponsibleUserID int64
	// StatusMap is the store's AMO_STATUS_MAP (stages of PipelineID).
	StatusMap map[string]int64
	// NoStageMoves: the store has its own pipeline and no map of its own;
	// its deals are never moved by a map.
	NoStageMoves bool
	// OwnStatusMap: StatusMap is the store's own AMO_STATUS_MAP_n (its
	// stages must be of PipelineID).
	OwnStatusMap bool
	// Actions are the store's stage actions: store 1's are Config.Actions
	// (KASPI_ACTIONS); store n's stages come from its own KASPI_ACTIONS_n
	// (none without it), the fields and limits are shared.
	Actions domain.ActionSettings
}

// Label names the store for the owner: «name», else its number.
func (s Store) Label() string {
	if s.Name != "" {
		return "«" + s.Name + "»"
	}
	return "№ " + strconv.Itoa(s.No)
}

// StoreClient is how the sync talks to one store's Kaspi account: its
// token's reader, and its writer when Kaspi actions are configured.
type StoreClient struct {
	Kaspi  domain.OrderSource
	Writer domain.OrderWriter
}

// storeOf is the configured store of number no (store 1 for 0 or an
// unknown number: a row of a store since removed from .env is handled
// with store 1's values rather than dropped).
func (r *run) storeOf(no int) Store {
	for _, s := range r.stores {
		if s.No == no {
			return s
		}
	}
	return r.stores[0]
}

// kaspiOf is the Kaspi reader of a store (store 1's for an unknown one).
func (r *run) kaspiOf(no int) *countingKaspi {
	if k, ok := r.kaspis[no]; ok {
		return k
	}
	return r.kaspi
}

// writerOf is the Kaspi writer of a store, nil when it has none.
func (r *run) writerOf(no int) domain.OrderWriter {
	if no <= 1 {
		return r.writer
	}
	return r.writers[no]
}

// multiStore reports whether more than one Kaspi store is configured.
func (r *run) multiStore() bool { return len(r.stores) > 1 }

// normalizeStores fills cfg.Stores: one store from the unsuffixed values
// when none are given.
func normalizeStores(cfg Config) []Store {
	if len(cfg.Stores) == 0 {
		return []Store{{No: 1, PipelineID: cfg.PipelineID, StatusID: cfg.StatusID,
			ResponsibleUserID: cfg.ResponsibleUserID, StatusMap: cfg.StatusMap, Actions: cfg.Actions}}
	}
	stores := append([]Store(nil), cfg.Stores...)
	stores[0].Actions = cfg.Actions
	return stores
}

// stageStores are the stores with stage actions.
func (r *run) stageStores() []Store {
	var out []Store
	for _, s := range r.stores {
		if s.Actions.Enabled() {
			out = append(out, s)
		}
	}
	return out
}

// anyStageActions reports whether some store has stage actions.
func (r *run) anyStageActions() bool { return len(r.stageStores()) > 0 }

// anyStage reports whether some store has a stage for action.
func (r *run) anyStage(action string) bool {
	for _, s := range r.stores {
		if s.Actions.Stages[action] != 0 {
			return true
		}
	}
	return false
}

// stageWriterOf is the Kaspi writer of a store's stage actions (nil when
// the store has none).
func (r *run) stageWriterOf(no int) domain.StageActions {
	if no <= 1 || r.storeOf(no).No == 1 {
		return r.stageWriter
	}
	w, _ := r.writers[no].(domain.StageActions)
	return w
}

// storeFailed decides what a store's listing failure means. With one
// store it stops the run as before; with several, the store is reported
// (a warning and its state) and the others go on. It returns the error
// that stops the run, or nil.
func (r *run) storeFailed(st Store, err error) error {
	var le ledgerErr
	if !r.multiStore() || errors.As(err, &le) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if r.storeDown[st.No] {
		return nil
	}
	r.storeDown[st.No] = true
	r.failedStores++
	reason := fmt.Sprintf("магазин Kaspi %s: %s", st.Label(), domain.Explain(err))
	r.setStoreState(st, "error", reason, 0)
	if r.failedStores == len(r.stores) {
		return err
	}
	r.log.Warn("listing a Kaspi store failed; the other stores go on", "store", st.No, "err", err)
	r.sum.AddWarning(reason)
	return nil
}

// setStoreState notes a store's listing outcome for saveStoreStates;
// the first note of a store in a run wins.
func (r *run) setStoreState(st Store, result, reason string, found int) {
	if r.storeStates == nil {
		r.storeStates = map[int]domain.KaspiStoreState{}
	}
	if _, done := r.storeStates[st.No]; done {
		return
	}
	r.storeStates[st.No] = domain.KaspiStoreState{Name: st.Name, Result: domain.Result(result), Reason: reason, At: r.now(), Found: found}
}

// saveStoreStates records the stores' outcomes of this run (several
// stores only: with one, the run's own result says it all).
func (r *run) saveStoreStates(ctx context.Context) error {
	if !r.multiStore() || len(r.storeStates) == 0 {
		return nil
	}
	m := map[string]domain.KaspiStoreState{}
	for no, s := range r.storeStates {
		m[strconv.Itoa(no)] = s
	}
	b, _ := json.Marshal(m)
	return lerr("save store states", r.ledger.SetSetting(ctx, domain.SettingKaspiStoreStates, string(b)))
}

// storeLeadName is the deal name of an order: "Kaspi Order <code>", with
// " · <store>" when several stores are configured and the store is named.
func (r *run) storeLeadName(code string, no int) string {
	st := r.storeOf(no)
	if !r.multiStore() || st.Name == "" {
		return leadName(code)
	}
	return StoreLeadName(code, st.Name)
}

// StoreLeadName is the deal name of an order of a named store when the
// install has several: "Kaspi Order <code> · <store>".
func StoreLeadName(code, store string) string {
	return cut("Kaspi Order "+code+" · "+strings.TrimSpace(store), maxNameLen)
}

// storePrefix starts an owner's line about one store when there are several.
func (r *run) storePrefix(st Store) string {
	if !r.multiStore() {
		return ""
	}
	return "магазин Kaspi " + st.Label() + ": "
}

// setAsideOtherStores sets aside the listed orders whose code the ledger
// holds for another store: Kaspi's codes are unique across stores, so
// such an order is never merged into the other store's deal; the owner
// is told once. inserted are the codes just ingested.
func (r *run) setAsideOtherStores(ctx context.Context, orders []domain.Order, inserted []string) error {
	fresh := map[string]bool{}
	for _, c := range inserted {
		fresh[c] = true
	}
	var codes []string
	for _, o := range orders {
		if !fresh[o.Code] {
			codes = append(codes, o.Code)
		}
	}
	recs, err := r.ledger.Records(ctx, codes)
	if err != nil {
		return lerr("read orders", err)
	}
	var dups []domain.Order
	for _, o := range orders {
		if rec, ok := recs[o.Code]; ok && !fresh[o.Code] && otherStore(rec, o) {
			o.Rejected = fmt.Sprintf("заказ с кодом %s уже загружен из магазина Kaspi %s; второй заказ с тем же кодом из магазина Kaspi %s не загружен и не объединён с первым",
				o.Code, r.storeOf(rec.StoreNo).Label(), r.storeOf(o.StoreNo).Label())
			dups = append(dups, o)
		}
	}
	return r.reportSetAside(ctx, dups, func(o domain.Order) string {
		return "заказ Kaspi " + rejectedLabel(o.Code) + " отложен: " + o.Rejected
	})
}

// otherStore reports whether a listed order's code belongs to another
// store's ledger row (see setAsideOtherStores). A row no Kaspi listing
// has returned yet (adopted from a deal, without a Kaspi id) is claimed
// by the store that lists it.
func otherStore(rec domain.Record, o domain.Order) bool {
	return rec.KaspiID != "" && rec.StoreNo != storeNo(o.StoreNo)
}

// storeNo is an order's store number: 0 (not set) is store 1.
func storeNo(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// leadCode reads a deal name back: the order code and the store whose
// name it ends with (0 when it names none).
func (r *run) leadCode(name string) (code string, store int) {
	code, ok := strings.CutPrefix(strings.TrimSpace(name), leadName("")+" ")
	if !ok {
		return "", 0
	}
	if c, label, ok := strings.Cut(code, " · "); ok {
		code = c
		for _, st := range r.stores {
			if st.Name != "" && strings.TrimSpace(label) == cut(st.Name, maxNameLen) {
				store = st.No
			}
		}
	}
	return strings.TrimSpace(code), store
}

// buildLead is the deal of an order with its store's pipeline, stage and
// responsible user, the store's name as a tag, and the store in the deal
// name when there are several stores.
func (r *run) buildLead(it *item, f leadFieldSet) domain.Lead {
	st := r.storeOf(it.rec.StoreNo)
	cfg := r.cfg
	cfg.PipelineID, cfg.StatusID, cfg.ResponsibleUserID = st.PipelineID, st.StatusID, st.ResponsibleUserID
	l := newLead(it.o, cfg, f, it.contactID, r.loc)
	l.Name = r.storeLeadName(it.code(), st.No)
	if st.Name != "" {
		l.Tags = append(l.Tags, st.Name)
	}
	return l
}

// storeOrderNote is orderNote with the Kaspi store named under the
// order number (store "" leaves it out).
func storeOrderNote(o *domain.Order, store, noContact string, loc *time.Location) string {
	note := orderNote(o, noContact, loc)
	if store == "" {
		return note
	}
	first, rest, _ := strings.Cut(note, "\n")
	return first + "\nМагазин Kaspi: " + store + "\n" + rest
}
