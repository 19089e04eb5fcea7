package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

var (
	errForbidden   = errors.New("forbidden")
	errSecretUnset = errors.New("CRON_SECRET is empty or the example value")
)

const msgSecretUnset = "Доступ закрыт: CRON_SECRET в .env пустой или оставлен из примера. " +
	"Задайте в .env длинное случайное значение CRON_SECRET (например, 32 случайных символа) и передавайте его в token= или заголовке X-Cron-Token."

// MinSecretLen is the shortest CRON_SECRET the web endpoints accept. A
// shorter one (a PHP install's "12345") is guessed; command-line and
// scheduler runs need no secret and keep working, with a warning.
const MinSecretLen = 16

var errSecretShort = errors.New("CRON_SECRET is shorter than 16 characters")

const msgSecretShort = "Доступ закрыт: CRON_SECRET в .env короче 16 символов, такой пароль легко подобрать. " +
	"Задайте длинное случайное значение (например, 32 случайные буквы и цифры; в консоли его печатает head -c 24 /dev/urandom | base64) " +
	"и передавайте его в token= или заголовке X-Cron-Token."

// secretProblem says why secret cannot guard the web endpoints: unset or
// an example value, or too short; nil when it can.
func secretProblem(secret string) error {
	if IsExampleSecret(secret) {
		return errSecretUnset
	}
	if len([]rune(strings.TrimSpace(secret))) < MinSecretLen {
		return errSecretShort
	}
	return nil
}

// ExampleSecrets are placeholder values that ship in example files; a
// secret equal to one of them counts as unset (anyone could read it).
var ExampleSecrets = []string{
	"change_this_strong_random", // .env.example
	"change_me", "changeme", "change-me", "CHANGE_ME", "secret", "your_secret", "your-secret",
	"replace_me", "CRON_SECRET", "cron_secret", "long_random_string",
}

// IsExampleSecret reports whether s is empty or a known placeholder.
func IsExampleSecret(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return true
	}
	for _, e := range ExampleSecrets {
		if strings.EqualFold(s, e) {
			return true
		}
	}
	return false
}

// trustedKey marks a request built from the command line: whoever runs the
// program from a shell can read .env already, so no token is asked.
type trustedKey struct{}

func withTrusted(ctx context.Context) context.Context {
	return context.WithValue(ctx, trustedKey{}, true)
}

func isTrusted(r *http.Request) bool {
	v, _ := r.Context().Value(trustedKey{}).(bool)
	return v
}

// cronToken returns the token a request presents: header X-Cron-Token,
// then Authorization: Bearer, then token= in the query or a posted form.
func cronToken(r *http.Request) string {
	if t := r.Header.Get("X-Cron-Token"); t != "" {
		return t
	}
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return r.FormValue("token")
}

// checkSecret compares a presented token with the configured secret in
// constant time. An empty, example or short secret refuses everyone.
func checkSecret(secret, presented string) error {
	if err := secretProblem(secret); err != nil {
		return err
	}
	if presented == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(presented)) != 1 {
		return errForbidden
	}
	return nil
}

// requireCronSecret checks the CRON_SECRET of a request (shell runs pass).
func requireCronSecret(r *http.Request, secret string) error {
	if isTrusted(r) {
		return nil
	}
	return checkSecret(secret, cronToken(r))
}
