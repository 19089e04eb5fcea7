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
)

// keyUnsureNotes is the settings key of the orders whose last change note
// write failed without a clear answer: amoCRM may have applied it. A JSON
// list of order codes. Before such an order's change note is written again
// the run reads the deal's notes, so a note is never written twice; every
// other change note is written without that read.
const keyUnsureNotes = "change_notes_unsure"

// maxUnsureKept bounds the list; an order falls off it only when a run
// after many failed ones still could not write its note.
const maxUnsureKept = 500

// changeNoteOf is the note of one change: the Kaspi action's note when our
// own action caused it, else the change note; both under changeHead.
func changeNoteOf(c *change) domain.Note {
	text := ChangeNote(c.rec.Status, c.rec.State, &c.o, c.statusChanged, c.rec.TotalPrice, c.totalChanged)
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
	if r.cfg.DryRun || maps.Equal(was, now) {
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
