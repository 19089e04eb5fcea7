package config

import (
	"strings"
	"unicode/utf8"
)

// MinCronSecretLen is the shortest CRON_SECRET the web endpoints accept
// (pkg/web refuses shorter ones with 403).
const MinCronSecretLen = 16

// WarnShortCronSecret is the warning of a CRON_SECRET set but shorter than
// MinCronSecretLen: command-line and scheduler runs go on, the web
// endpoints (cron.cgi, migrate.cgi, oauth_callback.cgi?start=1, the
// mapping API) answer 403.
const WarnShortCronSecret = "CRON_SECRET короче 16 символов: cron.cgi, migrate.cgi и авторизация через браузер отвечают 403. " +
	"Задайте в .env длинное случайное значение (32 буквы и цифры) и обновите адреса HTTP-cron."

// Warnings lists what works but needs the owner's attention, in Russian,
// one line each, for the status report and the alerts. It never shows a
// value.
func (c Config) Warnings() []string {
	var out []string
	if s := strings.TrimSpace(c.CronSecret.Reveal()); s != "" && utf8.RuneCountInString(s) < MinCronSecretLen {
		out = append(out, WarnShortCronSecret)
	}
	return out
}
