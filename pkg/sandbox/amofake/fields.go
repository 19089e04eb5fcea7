package amofake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FieldItem is one stored value of a custom field. Value is a string for
// text-like, numeric and price fields, an int64 (Unix seconds) for dates,
// a bool for checkboxes.
type FieldItem struct {
	Value    any
	EnumID   int64
	EnumCode string
}

// Field is a stored custom field value of an entity.
type Field struct {
	ID     int64
	Code   string
	Name   string
	Type   string
	Values []FieldItem
}

func catalogKey(id int64) string { return "catalogs/" + strconv.FormatInt(id, 10) }

func (s *Server) fieldByID(entity string, id int64) *fieldDef {
	for _, d := range s.fields[entity] {
		if d.ID == id {
			return d
		}
	}
	return nil
}

func (s *Server) fieldByCode(entity, code string) *fieldDef {
	for _, d := range s.fields[entity] {
		if d.Code != "" && d.Code == code {
			return d
		}
	}
	return nil
}

// fieldChange is one parsed custom_fields_values item: the new values of a
// field, or a clear (values: null).
type fieldChange struct {
	def   *fieldDef
	items []FieldItem
	clear bool
}

var fieldKeys = map[string]bool{"field_id": true, "field_code": true, "values": true}
var valueKeys = map[string]bool{"value": true, "enum_id": true, "enum_code": true, "subtype": true}

// parseFields validates custom_fields_values of one entity of kind entity
// ("leads", "contacts", "catalogs/{id}") and returns the changes.
func (s *Server) parseFields(entity string, raw any, c *check) []fieldChange {
	if raw == nil {
		return nil
	}
	arr, ok := raw.([]any)
	if !ok {
		c.add(codeInvalidType, "custom_fields_values")
		return nil
	}
	var out []fieldChange
	for i, rawItem := range arr {
		p := fmt.Sprintf("custom_fields_values.%d", i)
		item, ok := rawItem.(map[string]any)
		if !ok {
			c.add(codeInvalidType, p)
			continue
		}
		for k := range item {
			if !fieldKeys[k] {
				c.add(codeNotExpected, p+"."+k)
			}
		}
		var def *fieldDef
		if rawID, has := item["field_id"]; has {
			id, ok := asInt(rawID)
			if ok {
				def = s.fieldByID(entity, id)
			}
			if def == nil {
				c.add(codeNotSupported, p+".field_id")
				continue
			}
			if code, has := item["field_code"]; has && code != def.Code {
				c.add(codeNotSupported, p+".field_code")
				continue
			}
		} else if rawCode, has := item["field_code"]; has {
			code, _ := rawCode.(string)
			if def = s.fieldByCode(entity, code); def == nil {
				c.add(codeNotSupported, p+".field_code")
				continue
			}
		} else {
			c.add(codeNotBlank, p+".field_id")
			continue
		}
		rawValues, has := item["values"]
		if !has {
			c.add(codeNotBlank, p+".values")
			continue
		}
		if rawValues == nil {
			out = append(out, fieldChange{def: def, clear: true})
			continue
		}
		vals, ok := rawValues.([]any)
		if !ok {
			c.add(codeInvalidType, p+".values")
			continue
		}
		ch := fieldChange{def: def, clear: len(vals) == 0}
		for j, rv := range vals {
			vp := fmt.Sprintf("%s.values.%d", p, j)
			v, ok := rv.(map[string]any)
			if !ok {
				c.add(codeInvalidType, vp)
				continue
			}
			for k := range v {
				if !valueKeys[k] {
					c.add(codeNotExpected, vp+"."+k)
				}
			}
			if it, ok := parseValue(def, v, vp, c); ok {
				ch.items = append(ch.items, it)
			}
		}
		if len(ch.items) > 1 && !multiValued(def.Type) {
			c.add(codeInvalidLength, p+".values")
		}
		out = append(out, ch)
	}
	return out
}

func multiValued(typ string) bool { return typ == "multitext" || typ == "multiselect" }

// parseValue checks one values[] item against the field's type.
func parseValue(def *fieldDef, v map[string]any, p string, c *check) (FieldItem, bool) {
	raw, hasValue := v["value"]
	switch def.Type {
	case "text", "textarea", "url", "streetaddress":
		str, ok := raw.(string)
		if !ok {
			c.add(codeInvalidType, p+".value")
			return FieldItem{}, false
		}
		return FieldItem{Value: str}, true
	case "numeric", "price", "monetary":
		_, text, ok := asFloat(raw)
		if !ok {
			c.add(codeInvalidType, p+".value")
			return FieldItem{}, false
		}
		return FieldItem{Value: text}, true
	case "checkbox":
		b, ok := raw.(bool)
		if !ok {
			c.add(codeInvalidType, p+".value")
			return FieldItem{}, false
		}
		return FieldItem{Value: b}, true
	case "date", "date_time", "birthday":
		if n, ok := asInt(raw); ok {
			return FieldItem{Value: n}, true
		}
		if str, ok := raw.(string); ok {
			if t, err := time.Parse(time.RFC3339, str); err == nil {
				return FieldItem{Value: t.Unix()}, true
			}
		}
		c.add(codeInvalidType, p+".value")
		return FieldItem{}, false
	case "select", "multiselect", "radiobutton", "category":
		if rawEnum, has := v["enum_id"]; has {
			id, _ := asInt(rawEnum)
			for _, e := range def.Enums {
				if e.ID == id {
					return FieldItem{Value: e.Value, EnumID: e.ID}, true
				}
			}
			c.add(codeNotSupported, p+".enum_id")
			return FieldItem{}, false
		}
		label, _ := raw.(string)
		for _, e := range def.Enums {
			if e.Value == label {
				return FieldItem{Value: e.Value, EnumID: e.ID}, true
			}
		}
		c.add(codeNotSupported, p+".value")
		return FieldItem{}, false
	case "multitext":
		str, ok := raw.(string)
		if !ok || !hasValue {
			c.add(codeInvalidType, p+".value")
			return FieldItem{}, false
		}
		enum := def.Enums[0]
		if rawEnum, has := v["enum_id"]; has {
			id, _ := asInt(rawEnum)
			found := false
			for _, e := range def.Enums {
				if e.ID == id {
					enum, found = e, true
				}
			}
			if !found {
				c.add(codeNotSupported, p+".enum_id")
				return FieldItem{}, false
			}
		} else if rawCode, has := v["enum_code"]; has {
			code, _ := rawCode.(string)
			found := false
			for _, e := range def.Enums {
				if e.Value == code {
					enum, found = e, true
				}
			}
			if !found {
				c.add(codeNotSupported, p+".enum_code")
				return FieldItem{}, false
			}
		}
		return FieldItem{Value: str, EnumID: enum.ID, EnumCode: enum.Value}, true
	}
	// Other types are stored as sent.
	return FieldItem{Value: jsonPlain(raw)}, true
}

// jsonPlain turns json.Number values into strings for storage.
func jsonPlain(v any) any {
	if n, ok := v.(json.Number); ok {
		return string(n)
	}
	return v
}

// applyFields merges changes into stored values: a field sent replaces
// all its values (multitext included); a clear removes the field.
func applyFields(cur []Field, changes []fieldChange) []Field {
	for _, ch := range changes {
		idx := -1
		for i, f := range cur {
			if f.ID == ch.def.ID {
				idx = i
			}
		}
		if ch.clear || len(ch.items) == 0 {
			if idx >= 0 {
				cur = append(cur[:idx], cur[idx+1:]...)
			}
			continue
		}
		f := Field{ID: ch.def.ID, Code: ch.def.Code, Name: ch.def.Name, Type: ch.def.Type, Values: ch.items}
		if idx >= 0 {
			cur[idx] = f
		} else {
			cur = append(cur, f)
		}
	}
	return cur
}

// renderFields is custom_fields_values as the API returns it (null when
// the entity has none).
func renderFields(fields []Field) any {
	if len(fields) == 0 {
		return nil
	}
	out := make([]map[string]any, 0, len(fields))
	for _, f := range fields {
		vals := make([]map[string]any, 0, len(f.Values))
		for _, it := range f.Values {
			v := map[string]any{"value": it.Value}
			if it.EnumID != 0 {
				v["enum_id"] = it.EnumID
			}
			if it.EnumCode != "" {
				v["enum_code"] = it.EnumCode
			}
			vals = append(vals, v)
		}
		var code any
		if f.Code != "" {
			code = f.Code
		}
		out = append(out, map[string]any{
			"field_id": f.ID, "field_name": f.Name, "field_code": code,
			"field_type": f.Type, "values": vals,
		})
	}
	return out
}

func copyFields(fields []Field) []Field {
	out := make([]Field, len(fields))
	for i, f := range fields {
		f.Values = append([]FieldItem(nil), f.Values...)
		out[i] = f
	}
	return out
}

// matchQuery is the `query` search: a case-insensitive substring of any
// of the texts, or, for a query of digits only, a substring of the digits
// of a phone value (phones are stored as people typed them).
func matchQuery(query string, texts []string, fields []Field) bool {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return true
	}
	for _, t := range texts {
		if strings.Contains(strings.ToLower(t), q) {
			return true
		}
	}
	digitsOnly := strings.Trim(q, "0123456789") == ""
	for _, f := range fields {
		for _, it := range f.Values {
			text := strings.ToLower(fmt.Sprint(it.Value))
			if strings.Contains(text, q) {
				return true
			}
			if digitsOnly && f.Code == "PHONE" && strings.Contains(digits(text), q) {
				return true
			}
		}
	}
	return false
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// FieldText returns the first value of a field as text ("" when absent).
func FieldText(fields []Field, id int64) string {
	for _, f := range fields {
		if f.ID == id && len(f.Values) > 0 {
			return fmt.Sprint(f.Values[0].Value)
		}
	}
	return ""
}

// FieldTextByCode is FieldText by field code (PHONE, SKU, PRICE).
func FieldTextByCode(fields []Field, code string) string {
	for _, f := range fields {
		if f.Code == code && len(f.Values) > 0 {
			return fmt.Sprint(f.Values[0].Value)
		}
	}
	return ""
}
