package amocrm

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// Wire shapes of API v4. Outgoing structs omit every optional field that
// is unset: amoCRM wants optional fields left out, never null.

type links struct {
	Next *struct {
		Href string `json:"href"`
	} `json:"next"`
}

// page is a HAL collection page.
type page[T any] struct {
	Links    links `json:"_links"`
	Embedded T     `json:"_embedded"`
}

type fieldValueOut struct {
	FieldID   int64          `json:"field_id,omitempty"`
	FieldCode string         `json:"field_code,omitempty"`
	Values    []fieldItemOut `json:"values"`
}

type fieldItemOut struct {
	Value    any    `json:"value"`
	EnumCode string `json:"enum_code,omitempty"`
}

type fieldValueIn struct {
	FieldID   int64  `json:"field_id"`
	FieldCode string `json:"field_code"`
	FieldType string `json:"field_type"`
	Values    []struct {
		Value    any    `json:"value"`
		EnumCode string `json:"enum_code"`
	} `json:"values"`
}

// fieldsOut converts custom field values, dropping empty ones (a nil value
// would be sent as null).
func fieldsOut(fs []domain.FieldValue) ([]fieldValueOut, error) {
	var out []fieldValueOut
	for _, f := range fs {
		if f.FieldID == 0 && f.FieldCode == "" {
			return nil, fmt.Errorf("custom field value without field id or code: %w", domain.ErrBadRequest)
		}
		fv := fieldValueOut{FieldID: f.FieldID, FieldCode: f.FieldCode}
		if f.FieldID != 0 {
			fv.FieldCode = ""
		}
		for _, it := range f.Values {
			if it.Value == nil {
				continue
			}
			fv.Values = append(fv.Values, fieldItemOut{Value: it.Value, EnumCode: it.EnumCode})
		}
		if len(fv.Values) > 0 {
			out = append(out, fv)
		}
	}
	return out, nil
}

func fieldsIn(in []fieldValueIn) []domain.FieldValue {
	var out []domain.FieldValue
	for _, f := range in {
		fv := domain.FieldValue{FieldID: f.FieldID, FieldCode: f.FieldCode, FieldType: f.FieldType}
		for _, v := range f.Values {
			fv.Values = append(fv.Values, domain.FieldItem{Value: plainValue(v.Value), EnumCode: v.EnumCode})
		}
		out = append(out, fv)
	}
	return out
}

// plainValue turns whole JSON numbers into int64 (dates, ids), as the
// domain promises string, int64, float64 or bool.
func plainValue(v any) any {
	if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
		return int64(f)
	}
	return v
}

// valueString reads a field value as text ("159990", 159990, 999.12).
func valueString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return ""
	}
	return fmt.Sprint(v)
}

func firstValue(fs []fieldValueIn, code string) (any, bool) {
	for _, f := range fs {
		if strings.EqualFold(f.FieldCode, code) && len(f.Values) > 0 {
			return f.Values[0].Value, true
		}
	}
	return nil, false
}

// number decodes an int or fractional JSON number, or a numeric string.
type number float64

func (n *number) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*n = 0
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("not a number: %s", b)
	}
	*n = number(f)
	return nil
}

// created is an item of a create answer: _embedded.<entity>[].
type created struct {
	ID        int64           `json:"id"`
	RequestID json.RawMessage `json:"request_id"`
}

// matchCreated maps the created items back to the request_ids sent, by
// request_id, or by position when the answer carries none.
func matchCreated(items []created, ids []string) (map[string]int64, error) {
	got := make(map[string]int64, len(items))
	for i, it := range items {
		id := rawString(it.RequestID)
		if id == "" && i < len(ids) {
			id = ids[i]
		}
		if it.ID > 0 {
			got[id] = it.ID
		}
	}
	for _, id := range ids {
		if got[id] == 0 {
			// The batch went through but an item is missing: its
			// outcome is unknown to us.
			return got, fmt.Errorf("answer has no id for request_id %q: %w", id, domain.ErrTransient)
		}
	}
	return got, nil
}

// requestIDs fills empty request_ids with the item's position and checks
// that they are unique, since results are matched by them.
func requestIDs(n int, get func(int) string) ([]string, error) {
	ids := make([]string, n)
	seen := make(map[string]bool, n)
	for i := range ids {
		id := get(i)
		if id == "" {
			id = strconv.Itoa(i)
		}
		if seen[id] {
			return nil, fmt.Errorf("duplicate request_id %q in one batch: %w", id, domain.ErrBadRequest)
		}
		seen[id] = true
		ids[i] = id
	}
	return ids, nil
}
