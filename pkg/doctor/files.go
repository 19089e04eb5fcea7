package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"kaspi-amocrm/pkg/config"
)

// mustChange are keys whose value in .env.example is a placeholder: left
// as is, the integration talks to nobody (or, for CRON_SECRET, to anyone).
var mustChange = map[string]bool{
	"KASPI_API_TOKEN": true, "AMO_SUBDOMAIN": true, "AMO_CLIENT_ID": true, "AMO_CLIENT_SECRET": true,
	"AMO_REDIRECT_URI": true, "CRON_SECRET": true, "AMO_ACCESS_TOKEN": true, "AMO_REFRESH_TOKEN": true,
	"DB_PASS": true, "ALERT_TELEGRAM_BOT_TOKEN": true, "ALERT_TELEGRAM_CHAT_ID": true,
}

// placeholderWords mark a value somebody forgot to replace.
var placeholderWords = []string{"your", "example", "changeme", "change_me", "change-me", "change_this", "put_", "_here", "xxxx", "ваш", "заполните", "<", "..."}

func looksLikePlaceholder(v string) bool {
	l := strings.ToLower(v)
	isURL := strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
	for _, w := range placeholderWords {
		// A real address may well contain "example" (a test domain, a
		// sandbox); for URLs only the exact .env.example value counts.
		if isURL && w == "example" {
			continue
		}
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// checkEnvFile checks that .env exists, is not readable by other users of
// the host, and that no example value was left in it. It returns the raw
// key/value pairs (nil when the file cannot be read).
func checkEnvFile(r *Report, root string) map[string]string {
	path := filepath.Join(root, config.EnvFile)
	c := Check{ID: "env.file", Title: "Файл .env"}
	st, err := os.Stat(path)
	if err != nil {
		c.Mark = Fail
		if errors.Is(err, fs.ErrNotExist) {
			c.Detail = "не найден в " + root
			c.Fix = "Скопируйте .env.example в .env (в той же папке) и заполните значения."
		} else {
			c.Detail = "не удаётся прочитать: " + errCause(err)
			c.Fix = "Проверьте права на файл .env в файловом менеджере панели хостинга."
		}
		r.add(c)
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		c.Mark, c.Detail = Fail, "не удаётся прочитать: "+errCause(err)
		c.Fix = "Дайте владельцу сайта право чтения .env (права 600)."
		r.add(c)
		return nil
	}
	c.Mark, c.Detail = OK, path
	r.add(c)

	m := Check{ID: "env.mode", Title: "Права на .env"}
	perm := st.Mode().Perm()
	if perm&0o004 != 0 {
		m.Mark, m.Detail = Fail, fmt.Sprintf("%04o — файл с паролями и токенами могут прочитать другие пользователи сервера", perm)
		m.Fix = "Поставьте права 600 (чтение и запись только владельцу): в файловом менеджере панели «Права» → 600, или chmod 600 .env."
	} else {
		m.Mark, m.Detail = OK, fmt.Sprintf("%04o", perm)
	}
	r.add(m)

	if _, utf16 := config.DecodeUTF16(data); utf16 {
		r.add(Check{ID: "env.encoding", Title: "Кодировка .env", Mark: Warn,
			Detail: "файл сохранён в UTF-16 (в Блокноте Windows — «Юникод»); программа его прочитала",
			Fix:    "Сохраните .env в UTF-8: Блокнот → «Сохранить как» → Кодировка: UTF-8. Другие программы на хостинге UTF-16 не читают."})
	}
	env := config.ParseDotenv(data)
	checkExamples(r, root, env)
	return env
}

// checkExamples flags values copied unchanged from .env.example or that
// read like a placeholder.
func checkExamples(r *Report, root string, env map[string]string) {
	example := map[string]string{}
	if data, err := os.ReadFile(filepath.Join(root, ".env.example")); err == nil {
		example = config.ParseDotenv(data)
	}
	var left []string
	for k, v := range env {
		v = strings.TrimSpace(v)
		if v == "" || v == "0" {
			continue
		}
		ex, inExample := example[k]
		if (mustChange[k] && inExample && strings.TrimSpace(ex) == v) || (mustChange[k] && looksLikePlaceholder(v)) {
			left = append(left, k)
		}
	}
	sort.Strings(left)
	c := Check{ID: "env.examples", Title: "Значения-примеры в .env"}
	if len(left) == 0 {
		c.Mark, c.Detail = OK, "не найдены"
	} else {
		c.Mark, c.Detail = Fail, "остались значения из примера: "+strings.Join(left, ", ")
		c.Fix = "Замените их настоящими значениями: токен Kaspi — в кабинете продавца (Настройки → API), " +
			"ID и секрет интеграции — в amoCRM (Настройки → Интеграции), CRON_SECRET — любая длинная случайная строка."
	}
	r.add(c)
}

// exampleValue reports whether v is a placeholder: the .env.example value
// of key, or a value that reads like one.
func exampleValue(root, key, v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	if data, err := os.ReadFile(filepath.Join(root, ".env.example")); err == nil {
		if ex := strings.TrimSpace(config.ParseDotenv(data)[key]); ex != "" && ex == v {
			return true
		}
	}
	return looksLikePlaceholder(v)
}

// checkConfig reports the problems config.Load found, one per key.
func checkConfig(r *Report, cfg config.Config, err error) {
	c := Check{ID: "env.keys", Title: "Настройки в .env"}
	var ce *config.Error
	envFailed := false
	for _, prev := range r.Checks {
		if strings.HasPrefix(prev.ID, "env.") && prev.Mark == Fail {
			envFailed = true
		}
	}
	switch {
	case err == nil && envFailed:
		// Never a ✓ under an ✗ of the same file.
		c.Mark, c.Detail = Skip, "ключи на месте, но исправьте отмеченное ✗ выше"
	case err == nil:
		c.Mark, c.Detail = OK, "все нужные ключи заданы"
	case errors.As(err, &ce):
		c.Mark, c.Detail = Fail, fmt.Sprintf("ошибок: %d", len(ce.Lines))
		c.Fix = strings.Join(ce.Lines, "\n")
	default:
		c.Mark, c.Detail = Fail, errCause(err)
		c.Fix = "Проверьте файл .env."
	}
	r.add(c)

	ids := Check{ID: "env.target", Title: "Куда класть сделки (AMO_PIPELINE_ID, AMO_STATUS_ID)"}
	switch {
	case cfg.AmoPipelineID == 0 && cfg.AmoStatusID == 0:
		ids.Mark, ids.Detail = Warn, "не заданы — сделки попадут в первый этап главной воронки"
		ids.Fix = "Укажите ID воронки и этапа: их список выводит эта проверка ниже, когда токен amoCRM работает."
	case cfg.AmoPipelineID == 0 || cfg.AmoStatusID == 0:
		ids.Mark, ids.Detail = Fail, "задан только один из двух ключей"
		ids.Fix = "Задайте оба: AMO_PIPELINE_ID (воронка) и AMO_STATUS_ID (этап этой воронки)."
	default:
		ids.Mark, ids.Detail = OK, fmt.Sprintf("воронка %d, этап %d", cfg.AmoPipelineID, cfg.AmoStatusID)
	}
	r.add(ids)
}

// checkDirs checks that storage/ and logs/ exist and take a new file.
func checkDirs(r *Report, root string) {
	for _, dir := range []string{"storage", "logs"} {
		c := Check{ID: "dir." + dir, Title: "Папка " + dir + "/ доступна для записи"}
		path := filepath.Join(root, dir)
		if err := os.MkdirAll(path, 0o700); err != nil {
			c.Mark, c.Detail = Fail, errCause(err)
			c.Fix = "Создайте папку " + dir + " рядом с .env и дайте владельцу сайта права на запись (750)."
			r.add(c)
			continue
		}
		f, err := os.CreateTemp(path, ".doctor-*")
		if err != nil {
			c.Mark, c.Detail = Fail, "запись не удалась: "+errCause(err)
			c.Fix = "Дайте владельцу сайта права на запись в папку " + dir + " (750) в файловом менеджере панели."
			r.add(c)
			continue
		}
		f.Close()
		os.Remove(f.Name())
		c.Mark, c.Detail = OK, path
		r.add(c)
	}
}

// errCause drops the path prefix of an *fs.PathError: the path is shown
// elsewhere, and the cause ("permission denied") is what helps.
func errCause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
