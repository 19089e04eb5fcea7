// Package config reads the application settings: the .env file in the app
// root (in the PHP version's format, see ParseDotenv) with real environment
// variables winning, into one typed and validated Config. Every key of the
// PHP version keeps its name, meaning and default. Errors name the key and
// what is expected, never a secret value.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// EnvFile is the name of the settings file in the app root.
const EnvFile = ".env"

// Need says which settings the program at hand cannot work without. A key
// counts as missing only when a flag needing it is given; a malformed
// value is reported whatever the flags.
type Need uint

const (
	// NeedDB: DB_DRIVER must be set (there is no default, see DB).
	NeedDB Need = 1 << iota
	// NeedKaspi: KASPI_API_TOKEN must be set.
	NeedKaspi
	// NeedAmo: AMO_SUBDOMAIN must be set.
	NeedAmo
	// NeedOAuth: AMO_CLIENT_ID, AMO_CLIENT_SECRET and AMO_REDIRECT_URI
	// must be set (the OAuth code exchange and token refresh).
	NeedOAuth
	// NeedSecret: CRON_SECRET must be set. The web endpoints do not use
	// it: an empty secret makes them answer 403 instead.
	NeedSecret
)

// Database drivers.
const (
	DriverMySQL  = "mysql"
	DriverPgSQL  = "pgsql"
	DriverSQLite = "sqlite"
)

// DefaultSQLiteFile is the SQLite database file, relative to the app root,
// when DB_NAME is empty.
const DefaultSQLiteFile = "storage/kaspi_amocrm.sqlite"

// DB is the database connection. Driver is one of the Driver constants
// ("postgres" is read as pgsql). For SQLite, Name is the absolute path of
// the database file and Host, Port, User, Pass are unused.
type DB struct {
	Driver string
	Host   string
	Port   int
	Name   string
	User   string
	Pass   Secret
}

// String describes the database without the password.
func (d DB) String() string {
	if d.Driver == DriverSQLite {
		return d.Driver + " " + d.Name
	}
	return fmt.Sprintf("%s %s@%s:%d/%s", d.Driver, d.User, d.Host, d.Port, d.Name)
}

// Config is every setting, with defaults applied. An id of 0 means "not set".
type Config struct {
	Root string // the app root the .env was looked for in
	DB   DB

	KaspiAPIBase  string // without a trailing slash
	KaspiAPIToken Secret
	// KaspiStores are the Kaspi stores, store 1 (KASPI_API_TOKEN) first;
	// store 1's amoCRM values are the unsuffixed ones below.
	KaspiStores []KaspiStore

	// AmoSubdomain is AMO_SUBDOMAIN as written: a subdomain, a host or a
	// URL. The amoCRM client turns it into the API base.
	AmoSubdomain    string
	AmoClientID     string
	AmoClientSecret Secret
	AmoRedirectURI  string
	// Bootstrap tokens, copied once into the token table (PHP behaviour).
	AmoAccessToken  Secret
	AmoRefreshToken Secret
	AmoExpiresAt    int64 // unix seconds; 0 = now + 1 hour

	AmoPipelineID        int64
	AmoStatusID          int64
	AmoResponsibleUserID int64
	AmoCatalogID         int64 // 0 = no products

	AmoLeadOrderCodeFieldID       int64
	AmoContactAddressFieldID      int64
	AmoLeadDeliveryAddressFieldID int64
	AmoLeadOrderDateFieldID       int64

	OrderProcessingTimeout time.Duration
	DefaultCountry         string // ISO 3166 alpha-2, upper case
	CronSecret             Secret

	AmoMaxRPS int
	// AmoContactIndexMax: the phone index of the account's contacts is
	// built for accounts of at most this many contacts (0 = no index).
	AmoContactIndexMax int
	RunTimeBudget      time.Duration
	KaspiLookback      time.Duration
	// KaspiReturnWindow: how long a completed order is watched for a
	// return (KASPI_RETURN_WINDOW_DAYS, 0 = not watched).
	KaspiReturnWindow time.Duration
	KaspiImportStates []string
	// AmoStatusMap maps a Kaspi state or status to an amoCRM status id.
	AmoStatusMap map[string]int64
	// KaspiAutoAccept: accept in Kaspi every new order once its deal exists.
	KaspiAutoAccept bool
	// KaspiActions: the Kaspi actions a deal's stage triggers (KASPI_ACTIONS
	// and the settings of those actions; none when unset).
	KaspiActions domain.ActionSettings

	LogRetentionDays      int // 0 = keep forever
	SnapshotRetentionDays int // 0 = keep forever
	MemoryLimitMB         int // 0 = no limit

	AlertTelegramBotToken Secret
	AlertTelegramChatID   string
	AlertTelegramAPIBase  string // without a trailing slash
}

// Defaults of the keys that have one.
const (
	DefaultKaspiAPIBase          = "https://kaspi.kz/shop/api/v2"
	DefaultAlertTelegramAPIBase  = "https://api.telegram.org"
	DefaultAmoMaxRPS             = 6
	MaxAmoMaxRPS                 = 7
	DefaultAmoContactIndexMax    = 25000
	DefaultRunTimeBudgetSeconds  = 50
	DefaultKaspiLookbackMinutes  = 180
	DefaultKaspiReturnWindowDays = 30
	DefaultLogRetentionDays      = 30
	DefaultSnapshotRetentionDays = 90
	DefaultProcessingTimeoutSecs = 300
	DefaultCountry               = "KZ"
)

// DefaultKaspiImportStates are the states fetch_new lists by default.
var DefaultKaspiImportStates = []string{
	domain.StateNew, domain.StatePickup, domain.StateDelivery, domain.StateKaspiDelivery,
}

// Error lists every problem found, one plain line each, naming the key and
// what is expected. It never holds a secret value.
type Error struct {
	Lines []string
	// Public, when set, are the same lines without any value, for an
	// anonymous web caller: a value cut from a broken .env may hold the
	// keys after it, secrets included. Values appear only on the command
	// line and in doctor.
	Public []string
}

func (e *Error) Error() string { return strings.Join(e.Lines, "\n") }

// PublicText is the text a web caller may see: Public, else Lines.
func (e *Error) PublicText() string {
	if e.Public != nil {
		return strings.Join(e.Public, "\n")
	}
	return e.Error()
}

// Load reads root/.env and the environment (getenv; nil means none) into a
// Config. Environment values win over the file; an empty value means the
// default; unknown keys are ignored. On error (always a *Error) the
// returned Config still holds what could be read, for diagnostics.
func Load(root string, getenv func(string) string, need Need) (Config, error) {
	r := reader{env: getenv}
	path := filepath.Join(root, EnvFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		r.file = ParseDotenv(data)
	case errors.Is(err, fs.ErrNotExist):
		r.noFile = true
	default:
		r.problem(EnvFile + ": не удаётся прочитать файл (" + errorCause(err) + ")")
	}

	c := Config{Root: root}
	c.DB = r.db(root, need&NeedDB != 0)

	c.KaspiAPIBase = r.url("KASPI_API_BASE", DefaultKaspiAPIBase)
	c.KaspiAPIToken = r.secret("KASPI_API_TOKEN", need&NeedKaspi != 0, "токен Kaspi Shop API (Настройки → API в кабинете продавца)")

	c.AmoSubdomain = r.str("AMO_SUBDOMAIN")
	if c.AmoSubdomain == "" && need&NeedAmo != 0 {
		r.missing("AMO_SUBDOMAIN", "поддомен amoCRM (shop), хост (shop.amocrm.ru) или адрес (https://shop.amocrm.ru)")
	} else if strings.ContainsAny(c.AmoSubdomain, " \t") {
		r.malformed("AMO_SUBDOMAIN", c.AmoSubdomain, "поддомен amoCRM (shop), хост (shop.amocrm.ru) или адрес (https://shop.amocrm.ru) без пробелов")
	}
	oauth := need&NeedOAuth != 0
	c.AmoClientID = r.str("AMO_CLIENT_ID")
	if c.AmoClientID == "" && oauth {
		r.missing("AMO_CLIENT_ID", "ID интеграции amoCRM")
	}
	c.AmoClientSecret = r.secret("AMO_CLIENT_SECRET", oauth, "секретный ключ интеграции amoCRM")
	c.AmoRedirectURI = r.url("AMO_REDIRECT_URI", "")
	if c.AmoRedirectURI == "" && oauth && r.str("AMO_REDIRECT_URI") == "" {
		r.missing("AMO_REDIRECT_URI", "адрес oauth_callback.cgi, как он указан в интеграции amoCRM")
	}
	c.AmoAccessToken = r.secret("AMO_ACCESS_TOKEN", false, "")
	c.AmoRefreshToken = r.secret("AMO_REFRESH_TOKEN", false, "")
	c.AmoExpiresAt = r.int64("AMO_EXPIRES_AT", 0, "время истечения токена в секундах Unix (0 — через час)")

	const idHint = "ID из amoCRM (0 — не задано)"
	c.AmoPipelineID = r.int64("AMO_PIPELINE_ID", 0, idHint)
	c.AmoStatusID = r.int64("AMO_STATUS_ID", 0, idHint)
	c.AmoResponsibleUserID = r.int64("AMO_RESPONSIBLE_USER_ID", 0, idHint)
	c.AmoCatalogID = r.int64("AMO_CATALOG_ID", 0, idHint+"; 0 — без товаров")
	c.AmoLeadOrderCodeFieldID = r.int64("AMO_LEAD_ORDER_CODE_FIELD_ID", 0, idHint)
	c.AmoContactAddressFieldID = r.int64("AMO_CONTACT_ADDRESS_FIELD_ID", 0, idHint)
	c.AmoLeadDeliveryAddressFieldID = r.int64("AMO_LEAD_DELIVERY_ADDRESS_FIELD_ID", 0, idHint)
	c.AmoLeadOrderDateFieldID = r.int64("AMO_LEAD_ORDER_DATE_FIELD_ID", 0, idHint)

	c.OrderProcessingTimeout = time.Duration(r.intRange("ORDER_PROCESSING_TIMEOUT_SECONDS", DefaultProcessingTimeoutSecs, 1, 86400, "секунды")) * time.Second
	c.DefaultCountry = r.country("DEFAULT_COUNTRY")
	c.CronSecret = r.secret("CRON_SECRET", need&NeedSecret != 0, "длинную случайную строку для cron.cgi и migrate.cgi")

	c.AmoMaxRPS = r.intRange("AMO_MAX_RPS", DefaultAmoMaxRPS, 1, MaxAmoMaxRPS, "запросов в секунду к amoCRM (amoCRM разрешает не больше 7)")
	c.AmoContactIndexMax = r.intRange("AMO_CONTACT_INDEX_MAX", DefaultAmoContactIndexMax, 0, 10_000_000, "контактов (0 — без индекса телефонов, поиск по каждому номеру)")
	c.RunTimeBudget = time.Duration(r.intRange("RUN_TIME_BUDGET_SECONDS", DefaultRunTimeBudgetSeconds, 1, 3600, "секунды на один запуск")) * time.Second
	c.KaspiLookback = time.Duration(r.intRange("KASPI_LOOKBACK_MINUTES", DefaultKaspiLookbackMinutes, 0, 14*24*60, "минуты (не больше 14 дней)")) * time.Minute
	c.KaspiReturnWindow = time.Duration(r.intRange("KASPI_RETURN_WINDOW_DAYS", DefaultKaspiReturnWindowDays, 0, 365, "дни (от 0 до 365)")) * 24 * time.Hour
	c.KaspiImportStates = r.states("KASPI_IMPORT_STATES")
	c.AmoStatusMap = r.statusMap("AMO_STATUS_MAP")
	c.KaspiAutoAccept = r.flag("KASPI_AUTO_ACCEPT")
	c.KaspiActions = r.actions(domain.DefaultActionKeys)
	c.KaspiStores = r.kaspiStores(&c)

	c.LogRetentionDays = r.intRange("LOG_RETENTION_DAYS", DefaultLogRetentionDays, 0, 36500, "дни (0 — хранить всегда)")
	c.SnapshotRetentionDays = r.intRange("SNAPSHOT_RETENTION_DAYS", DefaultSnapshotRetentionDays, 0, 36500, "дни (0 — хранить всегда)")
	c.MemoryLimitMB = r.intRange("MEMORY_LIMIT_MB", 0, 0, 1<<20, "мегабайты (0 — без ограничения)")

	c.AlertTelegramBotToken = r.secret("ALERT_TELEGRAM_BOT_TOKEN", false, "")
	c.AlertTelegramChatID = r.str("ALERT_TELEGRAM_CHAT_ID")
	if c.AlertTelegramBotToken.IsSet() && c.AlertTelegramChatID == "" {
		r.missing("ALERT_TELEGRAM_CHAT_ID", "ID чата Telegram для оповещений (задан ALERT_TELEGRAM_BOT_TOKEN)")
	}
	if !c.AlertTelegramBotToken.IsSet() && c.AlertTelegramChatID != "" {
		r.missing("ALERT_TELEGRAM_BOT_TOKEN", "токен бота Telegram для оповещений (задан ALERT_TELEGRAM_CHAT_ID)")
	}
	c.AlertTelegramAPIBase = r.url("ALERT_TELEGRAM_API_BASE", DefaultAlertTelegramAPIBase)

	if len(r.lines) == 0 {
		return c, nil
	}
	if r.missed && r.noFile {
		r.lines = append([]string{EnvFile + ": файл не найден в " + root + " — скопируйте .env.example в .env и заполните его"}, r.lines...)
		r.public = append([]string{EnvFile + ": файл не найден — скопируйте .env.example в .env и заполните его"}, r.public...)
	}
	return c, &Error{Lines: r.lines, Public: r.public}
}

// reader looks keys up (environment first) and collects problems.
type reader struct {
	env    func(string) string
	file   map[string]string
	noFile bool
	missed bool
	lines  []string
	public []string // lines without values
}

// str returns the trimmed value of key; "" when unset or empty.
func (r *reader) str(key string) string {
	if r.env != nil {
		if v := strings.TrimSpace(r.env(key)); v != "" {
			return v
		}
	}
	return strings.TrimSpace(r.file[key])
}

func (r *reader) problem(line string) {
	r.lines = append(r.lines, line)
	r.public = append(r.public, line)
}

func (r *reader) missing(key, what string) {
	r.missed = true
	r.problem(key + ": не задан — укажите " + what)
}

// malformed reports a bad value. Only non-secret keys come here, so the
// value may be shown (shortened) to help find the typo.
func (r *reader) malformed(key, value, expected string) {
	if len([]rune(value)) > 40 {
		value = string([]rune(value)[:40]) + "…"
	}
	r.lines = append(r.lines, fmt.Sprintf("%s: ожидается %s, а задано %q", key, expected, value))
	r.public = append(r.public, fmt.Sprintf("%s: ожидается %s (значение видно в консоли: bin/doctor)", key, expected))
}

func (r *reader) secret(key string, required bool, what string) Secret {
	v := r.str(key)
	if v == "" && required {
		r.missing(key, what)
	}
	return Secret(v)
}

func (r *reader) int64(key string, def int64, hint string) int64 {
	v := r.str(key)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		r.malformed(key, v, "целое число ≥ 0 — "+hint)
		return def
	}
	return n
}

// flag reads a 0/1 switch (empty is 0).
func (r *reader) flag(key string) bool {
	switch v := strings.ToLower(r.str(key)); v {
	case "", "0", "false", "no":
		return false
	case "1", "true", "yes":
		return true
	default:
		r.malformed(key, v, "0 (выключено) или 1 (включено)")
		return false
	}
}

func (r *reader) intRange(key string, def, lo, hi int, unit string) int {
	v := r.str(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.malformed(key, v, fmt.Sprintf("целое число от %d до %d — %s", lo, hi, unit))
		return def
	}
	return n
}

// url checks an http(s) base address and drops trailing slashes.
func (r *reader) url(key, def string) string {
	v := r.str(key)
	if v == "" {
		return def
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.malformed(key, v, "адрес вида https://host/путь")
		return def
	}
	return strings.TrimRight(v, "/")
}

func (r *reader) country(key string) string {
	v := strings.ToUpper(r.str(key))
	if v == "" {
		return DefaultCountry
	}
	if len(v) != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z' {
		r.malformed(key, v, "двухбуквенный код страны (KZ)")
		return DefaultCountry
	}
	return v
}

func (r *reader) db(root string, required bool) DB {
	d := DB{}
	switch v := strings.ToLower(r.str("DB_DRIVER")); v {
	case "":
		if required {
			r.missing("DB_DRIVER", "mysql, pgsql или sqlite (у PHP-версии было mysql)")
		}
	case DriverMySQL, DriverPgSQL, DriverSQLite:
		d.Driver = v
	case "postgres", "postgresql":
		d.Driver = DriverPgSQL
	default:
		r.malformed("DB_DRIVER", v, "mysql, pgsql или sqlite")
	}
	d.Host = r.str("DB_HOST")
	if d.Host == "" {
		d.Host = "127.0.0.1"
	}
	defPort := 3306
	if d.Driver == DriverPgSQL {
		defPort = 5432
	}
	d.Port = r.intRange("DB_PORT", defPort, 1, 65535, "номер порта")
	d.Name = r.str("DB_NAME")
	if d.Driver == DriverSQLite {
		if d.Name == "" {
			d.Name = DefaultSQLiteFile
		}
		if !filepath.IsAbs(d.Name) {
			d.Name = filepath.Join(root, filepath.FromSlash(d.Name))
		}
	} else if d.Name == "" {
		d.Name = "kaspi_amocrm"
	}
	d.User = r.str("DB_USER")
	if d.User == "" {
		d.User = "root"
	}
	d.Pass = Secret(r.str("DB_PASS"))
	return d
}

// isKaspiValue reports whether v is a real Kaspi state or status.
func isKaspiValue(v string, withStatuses bool) bool {
	for _, s := range domain.AllStates {
		if v == s {
			return true
		}
	}
	if withStatuses {
		for _, s := range domain.AllStatuses {
			if v == s {
				return true
			}
		}
	}
	return false
}

func (r *reader) states(key string) []string {
	v := r.str(key)
	if v == "" {
		return append([]string(nil), DefaultKaspiImportStates...)
	}
	var out []string
	seen := map[string]bool{}
	for _, s := range strings.Split(v, ",") {
		s = strings.ToUpper(strings.TrimSpace(s))
		if s == "" || seen[s] {
			continue
		}
		if !isKaspiValue(s, false) {
			r.malformed(key, v, "список состояний Kaspi через запятую из "+strings.Join(domain.AllStates, ", "))
			return append([]string(nil), DefaultKaspiImportStates...)
		}
		seen[s] = true
		out = append(out, s)
	}
	if len(out) == 0 {
		return append([]string(nil), DefaultKaspiImportStates...)
	}
	return out
}

func (r *reader) statusMap(key string) map[string]int64 {
	v := r.str(key)
	out := map[string]int64{}
	if v == "" {
		return out
	}
	const expected = "список пар СОСТОЯНИЕ_ИЛИ_СТАТУС_KASPI:ID_ЭТАПА_AMO через запятую (COMPLETED:142,CANCELLED:143)"
	pairs, bad := idPairs(v)
	if bad != "" {
		r.malformed(key, bad, expected)
		return map[string]int64{}
	}
	for _, p := range pairs {
		k, n := strings.ToUpper(p.name), p.id
		if !isKaspiValue(k, true) {
			r.malformed(key, k, "состояние или статус Kaspi из "+strings.Join(domain.AllStates, ", ")+", "+strings.Join(domain.AllStatuses, ", "))
			return map[string]int64{}
		}
		out[k] = n
	}
	return out
}

// actions reads the stage actions; a bad value is one problem line.
func (r *reader) actions(keys domain.ActionKeys) domain.ActionSettings {
	s, err := ReadActions(r.str, keys)
	if r.settingProblem(err) {
		return domain.ActionSettings{Keys: keys, CancelReason: domain.DefaultCancelReason, MaxPerRun: domain.DefaultActionsMaxPerRun}
	}
	return s
}

// settingProblem records a *domain.SettingError as one problem line (the
// full line for the log, key and reason for the web page) and reports
// whether err was one.
func (r *reader) settingProblem(err error) bool {
	se, ok := err.(*domain.SettingError)
	if ok {
		r.lines = append(r.lines, se.Error())
		r.public = append(r.public, se.Key+": "+se.Reason)
	}
	return ok
}

// errorCause keeps the reason of a file error without its path.
func errorCause(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
