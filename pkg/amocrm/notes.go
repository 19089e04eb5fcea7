package amocrm

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

type noteParams struct {
	Text string `json:"text"`
}

type noteOut struct {
	EntityID  int64      `json:"entity_id"`
	NoteType  string     `json:"note_type"`
	Params    noteParams `json:"params"`
	RequestID string     `json:"request_id"`
}

type noteIn struct {
	ID       int64  `json:"id"`
	EntityID int64  `json:"entity_id"`
	NoteType string `json:"note_type"`
	Params   struct {
		Text string `json:"text"`
	} `json:"params"`
}

// AddNotes adds common notes to leads in one POST /api/v4/leads/notes.
func (c *Client) AddNotes(ctx context.Context, notes []domain.Note) error {
	const op = "add notes"
	if err := checkBatch(op, len(notes)); err != nil || len(notes) == 0 {
		return err
	}
	ids, err := requestIDs(len(notes), func(i int) string { return notes[i].RequestID })
	if err != nil {
		return fmt.Errorf("amocrm: %s: %w", op, err)
	}
	body := make([]noteOut, len(notes))
	for i, n := range notes {
		if n.LeadID <= 0 || strings.TrimSpace(n.Text) == "" {
			return fmt.Errorf("amocrm: %s: note %q needs a lead and a text: %w", op, ids[i], domain.ErrBadRequest)
		}
		body[i] = noteOut{EntityID: n.LeadID, NoteType: "common", Params: noteParams{Text: n.Text}, RequestID: ids[i]}
	}
	_, err = c.do(ctx, call{op: op, method: http.MethodPost, path: "/api/v4/leads/notes", body: body, ids: ids})
	return err
}

// LeadNotes lists a lead's notes (every page); Text is set for common notes.
func (c *Client) LeadNotes(ctx context.Context, leadID int64) ([]domain.Note, error) {
	if leadID <= 0 {
		return nil, fmt.Errorf("amocrm: lead notes: lead id %d: %w", leadID, domain.ErrBadRequest)
	}
	var out []domain.Note
	err := getPages(ctx, c, "lead notes", "/api/v4/leads/"+itoa(leadID)+"/notes", nil, func(emb struct {
		Notes []noteIn `json:"notes"`
	}) error {
		for _, n := range emb.Notes {
			lead := n.EntityID
			if lead == 0 {
				lead = leadID
			}
			out = append(out, domain.Note{ID: n.ID, LeadID: lead, Text: n.Params.Text})
		}
		return nil
	})
	return out, err
}
