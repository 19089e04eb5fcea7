package config

import (
	"encoding/json"
	"log/slog"
)

// Secret holds a token, password or client secret. Every way of printing
// it — fmt verbs, %#v, slog, JSON — shows a placeholder, so a Config or a
// struct holding one can be logged whole without leaking it. Reveal gives
// the value to the code that must send it.
type Secret string

// Redacted is what a non-empty Secret prints as.
const Redacted = "[hidden]"

// Reveal returns the secret value itself.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret is non-empty.
func (s Secret) IsSet() bool { return s != "" }

// String prints a placeholder ("" when the secret is empty, so that
// "not set" stays visible).
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return `config.Secret("` + s.String() + `")` }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON keeps encoding/json from printing the value.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }
