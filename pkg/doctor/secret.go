package doctor

import (
	"strings"
	"unicode/utf8"

	"kaspi-amocrm/pkg/config"
)

// checkCronSecret flags a CRON_SECRET too short for the web endpoints:
// they refuse it with 403, while cron lines of bin/ programs go on.
func checkCronSecret(r *Report, cfg config.Config) {
	s := strings.TrimSpace(cfg.CronSecret.Reveal())
	if s == "" {
		return // env.keys reports a missing key
	}
	c := Check{ID: "env.secret", Title: "Длина CRON_SECRET"}
	if n := utf8.RuneCountInString(s); n < config.MinCronSecretLen {
		c.Mark, c.Detail = Fail, "короче 16 символов: cron.cgi, migrate.cgi, api_status_mapping.cgi и oauth_callback.cgi?start=1 отвечают 403"
		c.Fix = "Задайте в .env CRON_SECRET из 32 случайных букв и цифр (в консоли: head -c 24 /dev/urandom | base64) " +
			"и обновите token= в адресах HTTP-cron. Задания cron с bin/scheduler, bin/fetch_new, bin/reconcile работают и так."
	} else {
		c.Mark, c.Detail = OK, "16 символов или длиннее"
	}
	r.add(c)
}
