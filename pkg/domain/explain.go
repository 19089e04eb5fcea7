package domain

import (
	"context"
	"errors"
	"strings"
)

// Service is implemented by errors that know which outside system failed
// (amoCRM, Kaspi, the database), so that the owner's line names it instead
// of "amoCRM или Kaspi".
type Service interface {
	Service() string
}

// ServiceOf returns the service an error names somewhere in its chain,
// "" when none does.
func ServiceOf(err error) string {
	var s Service
	if errors.As(err, &s) {
		return s.Service()
	}
	return ""
}

// Owner is implemented by errors that carry a Russian line meant for the
// shop owner (what happened and what to do); Explain prefers it.
type Owner interface {
	OwnerText() string
}

// Explain is the one Russian line a shop owner reads for an error that
// stopped a run: what happened, which service, what to do. It never
// repeats the chain of Go prefixes ("fetch_new: amocrm: search ...");
// the service's own English text is quoted where it helps.
func Explain(err error) string {
	if err == nil {
		return ""
	}
	var se *SettingError
	if errors.As(err, &se) {
		return se.Error()
	}
	var ow Owner
	if errors.As(err, &ow) {
		return ow.OwnerText()
	}
	svc := ServiceOf(err)
	switch {
	case errors.Is(err, ErrBanned):
		return "amoCRM заблокировал доступ к API (слишком много запросов): запросы приостановлены. Если блокировка не снимается, напишите в поддержку amoCRM."
	case errors.Is(err, ErrPaymentRequired):
		return "amoCRM: аккаунт не оплачен (HTTP 402) — оплатите аккаунт amoCRM."
	case errors.Is(err, ErrForbidden):
		return "amoCRM: у пользователя, который подключил интеграцию, нет прав на этот запрос («" + quote(err) +
			"»). Подключите интеграцию от имени администратора аккаунта (cgi-bin/oauth_callback.cgi?start=1) или дайте этому пользователю нужные права."
	case errors.Is(err, ErrAuth):
		switch svc {
		case "Kaspi":
			return "Kaspi не принял токен: проверьте KASPI_API_TOKEN в .env (кабинет продавца Kaspi → Настройки → Токен API)."
		case "amoCRM":
			return "amoCRM не принял авторизацию: пройдите её заново — откройте cgi-bin/oauth_callback.cgi?start=1."
		}
		return "Авторизация отклонена: проверьте KASPI_API_TOKEN и авторизацию amoCRM (bin/doctor)."
	case errors.Is(err, context.Canceled):
		return "Запуск прерван (остановлен сигналом или сервером)."
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrTransient):
		if svc == "" {
			svc = "Внешний сервис"
		}
		return svc + " временно не отвечает; следующий запуск повторит."
	}
	if svc == "база данных" {
		return "Ошибка базы данных: «" + quote(err) + "». Проверьте DB_* в .env и что сервер базы данных работает (bin/doctor)."
	}
	if svc != "" {
		return svc + " ответил ошибкой: «" + quote(err) + "»."
	}
	return "Ошибка: «" + quote(err) + "»."
}

// quote is the innermost useful part of an error's text: the Go prefixes
// ("fetch_new: ledger: set lead 1: ") are cut where the text repeats them.
func quote(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if r := []rune(s); len(r) > 300 {
		s = string(r[:300]) + "…"
	}
	return s
}
