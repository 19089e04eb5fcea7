package applog

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
)

// Placeholder replaces every secret in the log.
const Placeholder = "[hidden]"

// Redactor is a slog.Handler that hides secrets before the wrapped handler
// sees a record:
//   - the value of any attribute whose key names a secret (token,
//     access_token, refresh_token, client_secret, password, authorization,
//     secret, cookie, ... — see SensitiveKey), in any group;
//   - inside every string, error and printed value, and the message: URL
//     and form parameters such as token=, access_token=, client_secret=,
//     password=, an OAuth ?code=; JSON fields such as "access_token":"…";
//     Bearer credentials; fmt-printed structs and maps ({AccessToken:…});
//     Authorization, X-Auth-Token, X-Cron-Token,
//     X-API-Secret headers; JWTs and amoCRM refresh tokens by their shape;
//   - the literal secret values it was given.
//
// Values with a LogValue method (config.Secret) are resolved first.
type Redactor struct {
	inner   slog.Handler
	secrets []string
}

// NewRedactor wraps inner. secrets are literal values to mask wherever they
// appear; values shorter than 4 characters are ignored (masking "0" would
// garble every line).
func NewRedactor(inner slog.Handler, secrets ...string) *Redactor {
	var keep []string
	for _, s := range secrets {
		if len(s) >= 4 {
			keep = append(keep, s)
		}
	}
	return &Redactor{inner: inner, secrets: keep}
}

// Enabled implements slog.Handler.
func (h *Redactor) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

// Handle implements slog.Handler.
func (h *Redactor) Handle(ctx context.Context, r slog.Record) error {
	nr := slog.NewRecord(r.Time, r.Level, h.scrub(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(h.attr(a))
		return true
	})
	return h.inner.Handle(ctx, nr)
}

// WithAttrs implements slog.Handler.
func (h *Redactor) WithAttrs(attrs []slog.Attr) slog.Handler {
	clean := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		clean[i] = h.attr(a)
	}
	return &Redactor{inner: h.inner.WithAttrs(clean), secrets: h.secrets}
}

// WithGroup implements slog.Handler.
func (h *Redactor) WithGroup(name string) slog.Handler {
	return &Redactor{inner: h.inner.WithGroup(name), secrets: h.secrets}
}

func (h *Redactor) attr(a slog.Attr) slog.Attr {
	v := a.Value.Resolve()
	if SensitiveKey(a.Key) {
		if v.Kind() == slog.KindString && v.String() == "" {
			return slog.String(a.Key, "") // "not set" stays visible
		}
		return slog.String(a.Key, Placeholder)
	}
	switch v.Kind() {
	case slog.KindString:
		return slog.String(a.Key, h.scrub(v.String()))
	case slog.KindGroup:
		group := v.Group()
		clean := make([]any, len(group))
		for i, g := range group {
			clean[i] = h.attr(g)
		}
		return slog.Group(a.Key, clean...)
	case slog.KindAny:
		var s string
		switch x := v.Any().(type) {
		case error:
			s = x.Error()
		case fmt.Stringer:
			s = x.String()
		case []byte:
			s = string(x)
		default:
			s = fmt.Sprintf("%+v", x)
		}
		return slog.String(a.Key, h.scrub(s))
	default: // numbers, bools, times, durations: nothing to hide
		return slog.Attr{Key: a.Key, Value: v}
	}
}

func (h *Redactor) scrub(s string) string {
	for _, secret := range h.secrets {
		s = strings.ReplaceAll(s, secret, Placeholder)
	}
	return Redact(s)
}

// sensitiveWords make an attribute key secret when the key contains one.
var sensitiveWords = []string{"token", "secret", "password", "passwd", "authorization", "cookie", "api_key", "apikey"}

// SensitiveKey reports whether an attribute or parameter named key holds a
// secret (case-insensitive; "-" counts as "_").
func SensitiveKey(key string) bool {
	k := strings.ReplaceAll(strings.ToLower(key), "-", "_")
	switch k {
	case "pass", "db_pass", "pwd", "auth":
		return true
	}
	for _, w := range sensitiveWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// secretName is a parameter or field name that carries a secret.
const secretName = `[a-z0-9_\-]*(?:token|secret|password|passwd)|pass|api_?key`

var (
	// token=…, access_token=…, client_secret=…, password=… in URLs, form
	// bodies and "key=value" text; ?code=/&code= (the OAuth code).
	reParam = regexp.MustCompile(`(?i)(\b(?:` + secretName + `)=|[?&]code=)([^&\s"'<>\[\]]*)`)
	// "access_token": "…" in JSON text (error bodies, token answers).
	reJSON = regexp.MustCompile(`(?i)("(?:` + secretName + `)"\s*:\s*)"(?:[^"\\]|\\.)*"`)
	// Authorization: Bearer …, X-Auth-Token: …, also as printed by %v of
	// an http.Header (map[Authorization:[Bearer …]]).
	reHeader = regexp.MustCompile(`(?i)(\b(?:authorization|proxy_authorization|x[-_]auth[-_]token|x[-_]cron[-_]token|x[-_]api[-_]secret|cookie|set[-_]cookie)["']?\s*[:=]\s*\[?\s*)((?:bearer|basic)\s+)?[^\s"',;\[\]]+`)
	// A bare Bearer credential anywhere.
	reBearer = regexp.MustCompile(`(?i)(\bbearer\s+)[^\s"',;\[\]]+`)
	// Name:value as fmt prints structs ({AccessToken:…}) and maps
	// (map[client_secret:[…]]).
	rePrinted = regexp.MustCompile(`(?i)(\b(?:` + secretName + `)):(\[[^\]]*\]|[^\s{}\[\],]+)`)
	// JWTs (amoCRM access tokens) and amoCRM refresh tokens by shape.
	reJWT     = regexp.MustCompile(`\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+`)
	reRefresh = regexp.MustCompile(`\bdef50200[0-9a-f]{16,}`)
)

// Redact hides the secrets Redactor knows by their shape inside one string
// (URL parameters, JSON fields, headers, Bearer credentials, JWTs). Use it
// for text that is shown outside the log too, such as an API error body.
func Redact(s string) string {
	if s == "" {
		return s
	}
	s = reParam.ReplaceAllString(s, "${1}"+Placeholder)
	s = reJSON.ReplaceAllString(s, `${1}"`+Placeholder+`"`)
	s = reHeader.ReplaceAllString(s, "${1}${2}"+Placeholder)
	s = reBearer.ReplaceAllString(s, "${1}"+Placeholder)
	s = rePrinted.ReplaceAllString(s, "${1}:"+Placeholder)
	s = reJWT.ReplaceAllString(s, Placeholder)
	s = reRefresh.ReplaceAllString(s, Placeholder)
	return s
}
