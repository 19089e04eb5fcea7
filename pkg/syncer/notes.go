package syncer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/phone"
)

// addOrderNotes writes each deal's order note in bulk calls and finishes
// the orders (done).
func (r *run) addOrderNotes(ctx context.Context, items []*item) error {
	if len(items) == 0 {
		return nil
	}
	notes := map[string]domain.Note{}
	for _, it := range items {
		why := ""
		if _, ok := phone.Normalize(it.o.Customer.Phone, r.cfg.DefaultCountry); !ok {
			why = noContactReason(it.o.Customer.Phone)
		}
		notes[it.code()] = domain.Note{LeadID: it.rec.LeadID, RequestID: it.code(), Text: storeOrderNote(it.o, r.storeOf(it.rec.StoreNo).Name, why, r.loc)}
	}
	if r.cfg.DryRun {
		for _, it := range items {
			r.printf("проверка без записи: заказ %s — к сделке #%d было бы добавлено примечание", it.code(), it.rec.LeadID)
		}
		return nil
	}
	items, err := r.skipWrittenNotes(ctx, items)
	if err != nil || len(items) == 0 {
		return err
	}
	return batchWrite[*item]{
		what: "add notes",
		send: func(chunk []*item) error {
			batch := make([]domain.Note, 0, len(chunk))
			for _, it := range chunk {
				batch = append(batch, notes[it.code()])
			}
			return r.crm.AddNotes(ctx, batch)
		},
		live:      func(items []*item) ([]*item, error) { return r.dropDeletedLeads(ctx, items) },
		done:      func(items []*item) error { return r.markStep(ctx, items, domain.StepDone) },
		transient: r.noteTransient,
		later:     func(it *item, err error) { r.postpone(it, fmt.Errorf("amocrm: add note: %w", err)) },
		refused: func(it *item, err error) error {
			return r.setAside(ctx, it, "amoCRM отклонил примечание: «"+apiText(err)+"»")
		},
	}.run(items)
}

// skipWrittenNotes finishes resumed orders whose note is already on the
// deal (an earlier AddNotes was applied but its answer lost), so a note is
// never written twice; it returns the items that still need theirs.
func (r *run) skipWrittenNotes(ctx context.Context, items []*item) ([]*item, error) {
	var rest, written []*item
	for _, it := range items {
		if !it.resumed {
			rest = append(rest, it)
			continue
		}
		notes, err := r.crm.LeadNotes(ctx, it.rec.LeadID)
		switch {
		case err == nil:
		case fatal(err):
			return nil, fmt.Errorf("amocrm: lead notes: %w", err)
		case errors.Is(err, domain.ErrNotFound):
			if err := r.leadGone(ctx, it); err != nil {
				return nil, err
			}
			continue
		default:
			r.noteTransient(err)
			r.postpone(it, fmt.Errorf("amocrm: lead notes: %w", err))
			continue
		}
		head := "Заказ Kaspi № " + it.code() + "\n"
		if slices.ContainsFunc(notes, func(n domain.Note) bool { return strings.HasPrefix(n.Text+"\n", head) }) {
			written = append(written, it)
		} else {
			rest = append(rest, it)
		}
	}
	if len(written) > 0 {
		if err := r.markStep(ctx, written, domain.StepDone); err != nil {
			return nil, err
		}
	}
	return rest, nil
}

// keyUnsureNotes is the settings key of the orders whose last change note
// write failed without a clear answer: amoCRM may have applied it. A JSON
// list of order codes. Before such an order's change note is written again
// the run reads the deal's notes, so a note is never written twice; every
// other change note is written without that read.
const keyUnsureNotes = domain.SettingUnsureChangeNotes

// maxUnsureKept bounds the list; an order falls off it only when a run
// after many failed ones still could not write its note.
const maxUnsureKept = 500

// changeNoteOf is the note of one change: the Kaspi action's note when our
// own action caused it, else the change note; both under changeHead.
func changeNoteOf(c *change) domain.Note {
	text := changeNote(c.rec.Status, c.rec.State, &c.o, c.statusChanged, c.rec.TotalPrice, c.totalChanged)
	if c.actionNote != "" {
		text = changeHead(c.o.Code) + "\n" + c.actionNote
	}
	return domain.Note{LeadID: c.rec.LeadID, RequestID: c.o.Code, Text: text}
}

// unsureNotes reads the orders whose change note may already be written.
func (r *run) unsureNotes(ctx context.Context) (map[string]bool, error) {
	raw, ok, err := r.ledger.Setting(ctx, keyUnsureNotes)
	if err != nil {
		return nil, lerr("read unsure change notes", err)
	}
	var codes []string
	if ok && raw != "" {
		// A damaged list costs at most one note written twice.
		_ = json.Unmarshal([]byte(raw), &codes)
	}
	out := make(map[string]bool, len(codes))
	for _, c := range codes {
		out[c] = true
	}
	return out, nil
}

// saveUnsureNotes stores the set when it differs from what was read.
func (r *run) saveUnsureNotes(ctx context.Context, was, now map[string]bool) error {
	if maps.Equal(was, now) {
		return nil
	}
	codes := sortedKeys(now)
	if len(codes) > maxUnsureKept {
		codes = codes[len(codes)-maxUnsureKept:]
	}
	b, _ := json.Marshal(codes)
	if len(codes) == 0 {
		b = nil
	}
	return lerr("save unsure change notes", r.ledger.SetSetting(ctx, keyUnsureNotes, string(b)))
}

// skipWrittenChanges drops the changes whose note an earlier, unanswered
// write already put on the deal; only the unsure ones cost a request. A
// change whose notes cannot be read is failed (retried next run).
func (r *run) skipWrittenChanges(ctx context.Context, batch []*change, unsure, failed, gone map[string]bool) ([]*change, error) {
	var rest []*change
	for _, c := range batch {
		if !unsure[c.o.Code] {
			rest = append(rest, c)
			continue
		}
		notes, err := r.crm.LeadNotes(ctx, c.rec.LeadID)
		switch {
		case err == nil:
		case fatal(err):
			return nil, fmt.Errorf("amocrm: lead notes: %w", err)
		case errors.Is(err, domain.ErrNotFound):
			o := c.o
			if err := r.leadGone(ctx, &item{rec: c.rec, o: &o}); err != nil {
				return nil, err
			}
			gone[c.o.Code] = true
			continue
		default:
			r.log.Warn("cannot read a deal's notes; its change is retried next run", "order", c.o.Code, "lead", c.rec.LeadID, "err", err)
			failed[c.o.Code] = true
			continue
		}
		text := strings.TrimSpace(changeNoteOf(c).Text)
		if slices.ContainsFunc(notes, func(n domain.Note) bool { return strings.TrimSpace(n.Text) == text }) {
			r.log.Info("change note already on the deal", "order", c.o.Code, "lead", c.rec.LeadID)
			continue
		}
		rest = append(rest, c)
	}
	return rest, nil
}

// changeNotes writes the change notes of one batch. A change in unsure
// (an earlier write of its note went unanswered) is first looked for on
// the deal; a write that goes unanswered now puts the change in unsure.
func (r *run) changeNotes(ctx context.Context, batch []*change, unsure, failed, gone map[string]bool) error {
	note := changeNoteOf
	if r.cfg.DryRun {
		for _, c := range batch {
			r.printf("проверка без записи: заказ %s — к сделке #%d было бы добавлено примечание: %s", c.o.Code, c.rec.LeadID, oneLine(note(c).Text))
		}
		return nil
	}
	batch, err := r.skipWrittenChanges(ctx, batch, unsure, failed, gone)
	if err != nil || len(batch) == 0 {
		return err
	}
	return batchWrite[*change]{
		what: "add notes",
		send: func(batch []*change) error {
			notes := make([]domain.Note, 0, len(batch))
			for _, c := range batch {
				notes = append(notes, note(c))
			}
			return r.crm.AddNotes(ctx, notes)
		},
		live: func(batch []*change) ([]*change, error) { return r.liveChanges(ctx, batch, gone) },
		done: func(batch []*change) error { r.sum.Notes += len(batch); return nil },
		// An unanswered write may have been applied: unsure.
		later: func(c *change, _ error) { failed[c.o.Code], unsure[c.o.Code] = true, true },
		refused: func(c *change, err error) error {
			r.sum.AddWarning(fmt.Sprintf("заказ %s: amoCRM отклонил примечание к сделке #%d: «%s»", c.o.Code, c.rec.LeadID, apiText(err)))
			r.printf("заказ %s: amoCRM отклонил примечание к сделке #%d: «%s»", c.o.Code, c.rec.LeadID, apiText(err))
			r.log.Warn("amoCRM refused a change note", "order", c.o.Code, "lead", c.rec.LeadID, "err", err)
			return nil
		},
	}.run(batch)
}
