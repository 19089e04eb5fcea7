package web

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// MappingBackend is what api_status_mapping.cgi needs.
type MappingBackend interface {
	// StatusMappings returns every row, ordered by kaspi_status,
	// amo_pipeline_id, sort_order, id.
	StatusMappings(ctx context.Context) ([]domain.StatusMapping, error)
	// FindStatusMappings returns the rows of one Kaspi value and pipeline,
	// ordered by sort_order, id.
	FindStatusMappings(ctx context.Context, kaspiStatus string, pipelineID int64, onlyActive bool) ([]domain.StatusMapping, error)
	// UpsertStatusMapping inserts or updates the row keyed on
	// (kaspi_status, amo_pipeline_id) and returns its id.
	UpsertStatusMapping(ctx context.Context, m domain.StatusMapping) (int64, error)
	// DeleteStatusMapping reports whether a row was deleted.
	DeleteStatusMapping(ctx context.Context, id int64) (bool, error)
	// SetStatusMappingActive reports whether a row was changed.
	SetStatusMappingActive(ctx context.Context, id int64, active bool) (bool, error)
	// Pipelines lists amoCRM's pipelines with their statuses (all pages).
	Pipelines(ctx context.Context) ([]Pipeline, error)
}

// Pipeline is an amoCRM pipeline as the mapping API shows it (the PHP
// version's shape: every key present; amoCRM gives pipelines no color,
// so theirs is "").
type Pipeline struct {
	ID       int64            `json:"id"`
	Name     string           `json:"name"`
	Sort     int              `json:"sort"`
	Color    string           `json:"color"`
	Statuses []PipelineStatus `json:"statuses"`
}

// PipelineStatus is one status of a pipeline.
type PipelineStatus struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Sort  int    `json:"sort"`
	Color string `json:"color"`
}

// maxJSONBody bounds a posted mapping; a real one is under 200 bytes.
const maxJSONBody = 64 << 10

// Mapping serves api_status_mapping.cgi: the PHP version's JSON API with
// the same actions, payloads and status codes. The secret comes in the
// X-API-Secret header.
type Mapping struct {
	Secret  string
	Backend MappingBackend
	Log     *slog.Logger
}

type mappingRow struct {
	ID                   int64   `json:"id"`
	KaspiStatus          string  `json:"kaspi_status"`
	AmoPipelineID        int64   `json:"amo_pipeline_id"`
	AmoStatusID          int64   `json:"amo_status_id"`
	SortOrder            int     `json:"sort_order"`
	AmoResponsibleUserID *int64  `json:"amo_responsible_user_id"`
	CreatedAt            *string `json:"created_at"`
	UpdatedAt            *string `json:"updated_at"`
	IsActive             bool    `json:"is_active"`
}

func toRows(ms []domain.StatusMapping) []mappingRow {
	rows := make([]mappingRow, 0, len(ms))
	for _, m := range ms {
		row := mappingRow{ID: m.ID, KaspiStatus: m.KaspiStatus, AmoPipelineID: m.AmoPipelineID,
			AmoStatusID: m.AmoStatusID, SortOrder: m.SortOrder, IsActive: m.IsActive}
		if m.AmoResponsibleUserID != 0 {
			v := m.AmoResponsibleUserID
			row.AmoResponsibleUserID = &v
		}
		if !m.CreatedAt.IsZero() {
			s := m.CreatedAt.UTC().Format("2006-01-02 15:04:05")
			row.CreatedAt = &s
		}
		if !m.UpdatedAt.IsZero() {
			s := m.UpdatedAt.UTC().Format("2006-01-02 15:04:05")
			row.UpdatedAt = &s
		}
		rows = append(rows, row)
	}
	return rows
}

// KaspiValues is what get_kaspi_statuses returns: every Kaspi order state,
// then every status (a mapping key may be either).
func KaspiValues() []string {
	out := append([]string{}, domain.AllStates...)
	return append(out, domain.AllStatuses...)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	setCommonHeaders(w, "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (h *Mapping) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	limitBody(w, r, maxJSONBody)
	if !isTrusted(r) {
		if err := secretProblem(h.Secret); err != nil {
			_, msg := answer(err)
			jsonError(w, http.StatusForbidden, msg)
			return
		}
		got := r.Header.Get("X-API-Secret")
		if got == "" || subtle.ConstantTimeCompare([]byte(h.Secret), []byte(got)) != 1 {
			jsonError(w, http.StatusForbidden, "Forbidden")
			return
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		jsonError(w, http.StatusMethodNotAllowed, "Method Not Allowed")
		return
	}
	q := r.URL.Query()
	action := q.Get("action")
	if action == "" {
		jsonError(w, http.StatusBadRequest, "Missing action query parameter")
		return
	}
	var (
		data any
		err  error
	)
	if r.Method == http.MethodGet {
		data, err = h.get(r.Context(), action, q)
	} else {
		data, err = h.post(r, action)
	}
	var bad badInput
	switch {
	case errors.As(err, &bad):
		jsonError(w, bad.status(), bad.msg)
	case err != nil:
		noteError(r, err)
		if h.Log != nil {
			h.Log.Error("status mapping api failed", slog.String("action", action), slog.String("error", logText(err)))
		}
		// A 500 from the table is the generic text; a PublicError's (a bad
		// .env naming its keys) is safe and says what to fix.
		status, msg := http.StatusInternalServerError, "Internal Server Error"
		var pe *PublicError
		if s, m := answerTo(r, err); s != http.StatusInternalServerError || errors.As(err, &pe) {
			status, msg = s, m
		}
		jsonError(w, status, msg)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": data})
	}
}

// badInput is a 400 (or 413) with the PHP version's message.
type badInput struct {
	msg  string
	code int
}

func (b badInput) Error() string { return b.msg }
func (b badInput) status() int {
	if b.code != 0 {
		return b.code
	}
	return http.StatusBadRequest
}

func (h *Mapping) get(ctx context.Context, action string, q map[string][]string) (any, error) {
	get := func(k string) (string, bool) {
		v, ok := q[k]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	switch action {
	case "get_mappings":
		status, _ := get("kaspi_status")
		status = strings.TrimSpace(status)
		rawPipe, hasPipe := get("amo_pipeline_id")
		if status != "" && hasPipe {
			pipe, ok := parseInt(rawPipe)
			if !ok {
				return nil, badInput{msg: "amo_pipeline_id must be an integer"}
			}
			onlyActive := false
			if raw, ok := get("only_active"); ok {
				if b, ok := parseBool(raw); ok {
					onlyActive = b
				}
			}
			ms, err := h.Backend.FindStatusMappings(ctx, status, pipe, onlyActive)
			if err != nil {
				return nil, err
			}
			return toRows(ms), nil
		}
		ms, err := h.Backend.StatusMappings(ctx)
		if err != nil {
			return nil, err
		}
		return toRows(ms), nil
	case "get_kaspi_statuses":
		return KaspiValues(), nil
	case "get_stats":
		ms, err := h.Backend.StatusMappings(ctx)
		if err != nil {
			return nil, err
		}
		active := 0
		for _, m := range ms {
			if m.IsActive {
				active++
			}
		}
		return map[string]int{"total": len(ms), "active": active, "inactive": len(ms) - active}, nil
	case "get_amo_pipelines":
		ps, err := h.Backend.Pipelines(ctx)
		if err != nil {
			return nil, err
		}
		sortPipelines(ps)
		return ps, nil
	case "get_amo_status_ids":
		status, _ := get("kaspi_status")
		status = strings.TrimSpace(status)
		rawPipe, hasPipe := get("amo_pipeline_id")
		if status == "" || !hasPipe {
			return nil, badInput{msg: "kaspi_status and amo_pipeline_id are required"}
		}
		pipe, ok := parseInt(rawPipe)
		if !ok {
			return nil, badInput{msg: "amo_pipeline_id must be an integer"}
		}
		onlyActive := true
		if raw, ok := get("only_active"); ok {
			if b, ok := parseBool(raw); ok {
				onlyActive = b
			}
		}
		ms, err := h.Backend.FindStatusMappings(ctx, status, pipe, onlyActive)
		if err != nil {
			return nil, err
		}
		ids := make([]int64, 0, len(ms))
		for _, m := range ms {
			ids = append(ids, m.AmoStatusID)
		}
		var first *int64
		if len(ids) > 0 {
			first = &ids[0]
		}
		return map[string]any{"amo_status_id": first, "amo_status_ids": ids}, nil
	}
	return nil, badInput{msg: "Unknown action query parameter value"}
}

func sortPipelines(ps []Pipeline) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Sort != ps[j].Sort {
			return ps[i].Sort < ps[j].Sort
		}
		return ps[i].ID < ps[j].ID
	})
	for _, p := range ps {
		sort.SliceStable(p.Statuses, func(i, j int) bool {
			if p.Statuses[i].Sort != p.Statuses[j].Sort {
				return p.Statuses[i].Sort < p.Statuses[j].Sort
			}
			return p.Statuses[i].ID < p.Statuses[j].ID
		})
	}
}

func (h *Mapping) post(r *http.Request, action string) (any, error) {
	ctx := r.Context()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r.Body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, badInput{msg: "Request body too large", code: http.StatusRequestEntityTooLarge}
		}
		return nil, badInput{msg: "Invalid JSON body"}
	}
	payload := map[string]any{}
	if body := bytes.TrimSpace(buf.Bytes()); len(body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.UseNumber()
		if err := dec.Decode(&payload); err != nil {
			return nil, badInput{msg: "Invalid JSON body"}
		}
	}
	switch action {
	case "upsert_mapping":
		status, _ := payload["kaspi_status"].(string)
		status = strings.TrimSpace(status)
		active := true
		if raw, ok := payload["is_active"]; ok {
			b, ok := jsonBool(raw)
			if !ok {
				return nil, badInput{msg: "is_active must be a boolean value"}
			}
			active = b
		}
		if status == "" {
			return nil, badInput{msg: "kaspi_status is required"}
		}
		pipe, ok := jsonInt(payload["amo_pipeline_id"])
		if !ok {
			return nil, badInput{msg: "amo_pipeline_id must be an integer"}
		}
		var statusID int64
		if raw, ok := payload["amo_status_id"]; ok && raw != nil {
			statusID, ok = jsonInt(raw)
			if !ok {
				return nil, badInput{msg: "amo_status_id must be an integer"}
			}
		} else if list, ok := payload["amo_status_ids"].([]any); ok {
			// The legacy form: a list, of which the first counts.
			if len(list) == 0 {
				return nil, badInput{msg: "amo_status_ids must be a non-empty array of integers"}
			}
			statusID, ok = jsonInt(list[0])
			if !ok {
				return nil, badInput{msg: "amo_status_ids must contain integers"}
			}
		} else {
			return nil, badInput{msg: "amo_status_id must be an integer"}
		}
		sortOrder := 0
		if raw, ok := payload["sort_order"]; ok {
			if v, ok := jsonInt(raw); ok {
				sortOrder = int(v)
			}
		}
		id, err := h.Backend.UpsertStatusMapping(ctx, domain.StatusMapping{
			KaspiStatus: status, AmoPipelineID: pipe, AmoStatusID: statusID, SortOrder: sortOrder, IsActive: active,
		})
		if err != nil {
			return nil, err
		}
		return map[string]int64{"id": id}, nil
	case "delete_mapping":
		id, ok := parseInt(r.URL.Query().Get("id"))
		if !ok {
			return nil, badInput{msg: "id query parameter must be an integer"}
		}
		return h.Backend.DeleteStatusMapping(ctx, id)
	case "toggle_mapping":
		id, ok := jsonInt(payload["id"])
		if !ok {
			return nil, badInput{msg: "id in request body must be an integer"}
		}
		active, ok := jsonBool(payload["is_active"])
		if !ok {
			return nil, badInput{msg: "is_active must be a boolean value"}
		}
		return h.Backend.SetStatusMappingActive(ctx, id, active)
	}
	return nil, badInput{msg: "Unknown action query parameter value"}
}

// parseInt accepts what PHP's FILTER_VALIDATE_INT does: an optionally
// signed decimal integer, surrounding blanks allowed.
func parseInt(s string) (int64, bool) {
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	return v, err == nil
}

// parseBool accepts what PHP's FILTER_VALIDATE_BOOLEAN does.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "on", "yes":
		return true, true
	case "0", "false", "off", "no", "":
		return false, true
	}
	return false, false
}

func jsonInt(v any) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, true
		}
		f, err := x.Float64()
		if err == nil && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), true
		}
	case string:
		return parseInt(x)
	}
	return 0, false
}

func jsonBool(v any) (bool, bool) {
	switch x := v.(type) {
	case bool:
		return x, true
	case json.Number:
		return parseBool(x.String())
	case string:
		return parseBool(x)
	}
	return false, false
}
