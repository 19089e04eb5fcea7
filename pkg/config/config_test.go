package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// writeEnv makes an app root holding a .env with the given text.
func writeEnv(t *testing.T, text string) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, EnvFile), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return root
}

// envMap is a getenv over a map.
func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// configLines returns the lines of a *Error, failing on any other error.
func configLines(t *testing.T, err error) []string {
	t.Helper()
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T) is not a *config.Error", err, err)
	}
	return ce.Lines
}

func TestLoad_PHPExampleFileGivesPHPMeaning(t *testing.T) {
	root := writeEnv(t, phpExample)
	c, err := Load(root, nil, NeedDB|NeedKaspi|NeedAmo|NeedOAuth|NeedSecret)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	wantDB := DB{Driver: "mysql", Host: "127.0.0.1", Port: 3306, Name: "kaspi_amocrm", User: "username", Pass: "password"}
	if c.DB != wantDB {
		t.Errorf("DB = %+v, want %+v", c.DB, wantDB)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"KaspiAPIBase", c.KaspiAPIBase, "https://kaspi.kz/shop/api/v2"},
		{"KaspiAPIToken", c.KaspiAPIToken.Reveal(), "put_kaspi_api_token_here"},
		{"AmoSubdomain", c.AmoSubdomain, "your_subdomain"},
		{"AmoClientID", c.AmoClientID, "your_client_id"},
		{"AmoClientSecret", c.AmoClientSecret.Reveal(), "your_client_secret"},
		{"AmoRedirectURI", c.AmoRedirectURI, "https://yourdomain.tld/oauth_callback.php"},
		{"AmoAccessToken", c.AmoAccessToken.Reveal(), ""},
		{"AmoExpiresAt", c.AmoExpiresAt, int64(0)},
		{"AmoCatalogID", c.AmoCatalogID, int64(0)},
		{"AmoLeadOrderCodeFieldID", c.AmoLeadOrderCodeFieldID, int64(0)},
		{"AmoContactAddressFieldID", c.AmoContactAddressFieldID, int64(0)},
		{"AmoLeadDeliveryAddressFieldID", c.AmoLeadDeliveryAddressFieldID, int64(0)},
		{"AmoLeadOrderDateFieldID", c.AmoLeadOrderDateFieldID, int64(0)},
		{"DefaultCountry", c.DefaultCountry, "KZ"},
		{"CronSecret", c.CronSecret.Reveal(), "change_this_strong_random"},
		{"OrderProcessingTimeout", c.OrderProcessingTimeout, 300 * time.Second},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
}

func TestLoad_DefaultsWithoutAnyEnv(t *testing.T) {
	root := t.TempDir()
	c, err := Load(root, nil, 0)
	if err != nil {
		t.Fatalf("Load with no .env and no needs: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Root", c.Root, root},
		{"DB.Driver", c.DB.Driver, ""},
		{"DB.Host", c.DB.Host, "127.0.0.1"},
		{"DB.Port", c.DB.Port, 3306},
		{"DB.Name", c.DB.Name, "kaspi_amocrm"},
		{"DB.User", c.DB.User, "root"},
		{"KaspiAPIBase", c.KaspiAPIBase, DefaultKaspiAPIBase},
		{"DefaultCountry", c.DefaultCountry, "KZ"},
		{"OrderProcessingTimeout", c.OrderProcessingTimeout, 300 * time.Second},
		{"AmoMaxRPS", c.AmoMaxRPS, 6},
		{"RunTimeBudget", c.RunTimeBudget, 50 * time.Second},
		{"KaspiLookback", c.KaspiLookback, 180 * time.Minute},
		{"KaspiImportStates", c.KaspiImportStates, []string{"NEW", "PICKUP", "DELIVERY", "KASPI_DELIVERY"}},
		{"AmoStatusMap", c.AmoStatusMap, map[string]int64{}},
		{"LogRetentionDays", c.LogRetentionDays, 30},
		{"SnapshotRetentionDays", c.SnapshotRetentionDays, 90},
		{"MemoryLimitMB", c.MemoryLimitMB, 0},
		{"AlertTelegramAPIBase", c.AlertTelegramAPIBase, "https://api.telegram.org"},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.name, ch.got, ch.want)
		}
	}
}

// An empty value means the default, in the file and in the environment.
func TestLoad_EmptyValueMeansDefault(t *testing.T) {
	root := writeEnv(t, "DB_DRIVER=pgsql\nDB_PORT=\nAMO_MAX_RPS=\nKASPI_API_BASE=\nKASPI_IMPORT_STATES=\nDEFAULT_COUNTRY=\n")
	c, err := Load(root, envMap(map[string]string{"LOG_RETENTION_DAYS": ""}), NeedDB)
	if err != nil {
		t.Fatal(err)
	}
	if c.DB.Port != 5432 || c.AmoMaxRPS != 6 || c.KaspiAPIBase != DefaultKaspiAPIBase ||
		len(c.KaspiImportStates) != 4 || c.DefaultCountry != "KZ" || c.LogRetentionDays != 30 {
		t.Errorf("defaults not applied: %+v", c)
	}
}

func TestLoad_EnvironmentWinsOverFile(t *testing.T) {
	root := writeEnv(t, "DB_DRIVER=mysql\nDB_HOST=file-host\nAMO_PIPELINE_ID=111\nKASPI_API_TOKEN=file-token\n")
	env := envMap(map[string]string{
		"DB_HOST":         "env-host",
		"AMO_PIPELINE_ID": "222",
		"KASPI_API_TOKEN": "", // empty in the environment: the file's value stays
	})
	c, err := Load(root, env, NeedDB|NeedKaspi)
	if err != nil {
		t.Fatal(err)
	}
	if c.DB.Host != "env-host" || c.AmoPipelineID != 222 {
		t.Errorf("environment did not win: host %q pipeline %d", c.DB.Host, c.AmoPipelineID)
	}
	if c.KaspiAPIToken.Reveal() != "file-token" {
		t.Errorf("empty environment value replaced the file's: %q", c.KaspiAPIToken.Reveal())
	}
	if c.DB.Driver != "mysql" {
		t.Errorf("file value lost: driver %q", c.DB.Driver)
	}
}

func TestLoad_EnvironmentAloneIsEnough(t *testing.T) {
	c, err := Load(t.TempDir(), envMap(map[string]string{"DB_DRIVER": "sqlite", "KASPI_API_TOKEN": "tok"}), NeedDB|NeedKaspi)
	if err != nil {
		t.Fatal(err)
	}
	if c.DB.Driver != DriverSQLite || c.KaspiAPIToken.Reveal() != "tok" {
		t.Errorf("got %+v", c)
	}
}

func TestLoad_UnknownKeysAreIgnored(t *testing.T) {
	root := writeEnv(t, "APP_ENV=prod\nCLI_PHP=/usr/bin/php\nSOMETHING_ELSE=!!!\nDB_DRIVER=sqlite\n")
	if _, err := Load(root, nil, NeedDB); err != nil {
		t.Fatalf("unknown keys caused an error: %v", err)
	}
}

func TestLoad_DBDriverUnsetIsAnErrorWhenNeeded(t *testing.T) {
	root := writeEnv(t, "DB_HOST=127.0.0.1\n")
	_, err := Load(root, nil, NeedDB)
	lines := configLines(t, err)
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "DB_DRIVER: ") {
		t.Fatalf("lines = %q, want one DB_DRIVER line", lines)
	}
	for _, d := range []string{"mysql", "pgsql", "sqlite"} {
		if !strings.Contains(lines[0], d) {
			t.Errorf("line %q does not name %s", lines[0], d)
		}
	}
	// A program that needs no database does not care.
	if _, err := Load(root, nil, 0); err != nil {
		t.Errorf("no needs: %v", err)
	}
}

func TestLoad_DBDrivers(t *testing.T) {
	tests := []struct {
		env        string
		wantDriver string
		wantPort   int
		wantName   string // relative names are under root
	}{
		{"DB_DRIVER=mysql", "mysql", 3306, "kaspi_amocrm"},
		{"DB_DRIVER=MySQL", "mysql", 3306, "kaspi_amocrm"},
		{"DB_DRIVER=pgsql", "pgsql", 5432, "kaspi_amocrm"},
		{"DB_DRIVER=postgres", "pgsql", 5432, "kaspi_amocrm"},
		{"DB_DRIVER=pgsql\nDB_PORT=6543", "pgsql", 6543, "kaspi_amocrm"},
		{"DB_DRIVER=sqlite", "sqlite", 3306, "@/storage/kaspi_amocrm.sqlite"},
		{"DB_DRIVER=sqlite\nDB_NAME=data/shop.db", "sqlite", 3306, "@/data/shop.db"},
		{"DB_DRIVER=sqlite\nDB_NAME=/var/db/shop.db", "sqlite", 3306, "/var/db/shop.db"},
	}
	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.env, "\n", ","), func(t *testing.T) {
			root := writeEnv(t, tt.env+"\n")
			c, err := Load(root, nil, NeedDB)
			if err != nil {
				t.Fatal(err)
			}
			wantName := strings.Replace(tt.wantName, "@", root, 1)
			if c.DB.Driver != tt.wantDriver || c.DB.Port != tt.wantPort || c.DB.Name != filepath.FromSlash(wantName) {
				t.Errorf("DB = %+v, want driver %s port %d name %s", c.DB, tt.wantDriver, tt.wantPort, wantName)
			}
		})
	}
}

// Every malformed key is reported at once, one line each, naming the key.
func TestLoad_EachMalformedKeyIsReported(t *testing.T) {
	bad := map[string]string{
		"DB_DRIVER":                          "mssql",
		"DB_PORT":                            "33o6",
		"KASPI_API_BASE":                     "kaspi.kz/shop/api/v2",
		"AMO_SUBDOMAIN":                      "my shop",
		"AMO_REDIRECT_URI":                   "oauth_callback.cgi",
		"AMO_EXPIRES_AT":                     "tomorrow",
		"AMO_PIPELINE_ID":                    "12 34",
		"AMO_STATUS_ID":                      "-5",
		"AMO_RESPONSIBLE_USER_ID":            "1.5",
		"AMO_CATALOG_ID":                     "abc",
		"AMO_LEAD_ORDER_CODE_FIELD_ID":       "x",
		"AMO_CONTACT_ADDRESS_FIELD_ID":       "x",
		"AMO_LEAD_DELIVERY_ADDRESS_FIELD_ID": "x",
		"AMO_LEAD_ORDER_DATE_FIELD_ID":       "x",
		"ORDER_PROCESSING_TIMEOUT_SECONDS":   "0",
		"DEFAULT_COUNTRY":                    "KAZ",
		"AMO_MAX_RPS":                        "8",
		"RUN_TIME_BUDGET_SECONDS":            "fifty",
		"KASPI_LOOKBACK_MINUTES":             "-1",
		"KASPI_IMPORT_STATES":                "NEW,SHIPPED",
		"AMO_STATUS_MAP":                     "COMPLETED=142",
		"KASPI_AUTO_ACCEPT":                  "да",
		"LOG_RETENTION_DAYS":                 "month",
		"SNAPSHOT_RETENTION_DAYS":            "-90",
		"MEMORY_LIMIT_MB":                    "64MB",
		"ALERT_TELEGRAM_API_BASE":            "ftp://telegram",
	}
	var b strings.Builder
	for k, v := range bad {
		fmt.Fprintf(&b, "%s=%s\n", k, v)
	}
	_, err := Load(writeEnv(t, b.String()), nil, 0)
	lines := configLines(t, err)
	if len(lines) != len(bad) {
		t.Errorf("got %d lines, want %d:\n%s", len(lines), len(bad), strings.Join(lines, "\n"))
	}
	for key := range bad {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, key+": ") {
				n++
				if !strings.Contains(l, "ожидается") {
					t.Errorf("line for %s does not say what is expected: %q", key, l)
				}
			}
		}
		if n != 1 {
			t.Errorf("%s reported %d times, want once", key, n)
		}
	}
	for _, l := range lines {
		if strings.Contains(l, "\n") {
			t.Errorf("line spans several lines: %q", l)
		}
	}
}

func TestLoad_AmoMaxRPS(t *testing.T) {
	for v, ok := range map[string]bool{"1": true, "6": true, "7": true, "8": false, "0": false, "100": false} {
		c, err := Load(writeEnv(t, "AMO_MAX_RPS="+v+"\n"), nil, 0)
		if ok && (err != nil || fmt.Sprint(c.AmoMaxRPS) != v) {
			t.Errorf("AMO_MAX_RPS=%s: got %d, %v", v, c.AmoMaxRPS, err)
		}
		if !ok {
			lines := configLines(t, err)
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "AMO_MAX_RPS: ") || !strings.Contains(lines[0], "7") {
				t.Errorf("AMO_MAX_RPS=%s: lines %q", v, lines)
			}
		}
	}
}

func TestLoad_NeedFlagsDecideWhatIsMissing(t *testing.T) {
	root := t.TempDir() // no .env at all
	tests := []struct {
		need Need
		keys []string
	}{
		{0, nil},
		{NeedDB, []string{"DB_DRIVER"}},
		{NeedKaspi, []string{"KASPI_API_TOKEN"}},
		{NeedAmo, []string{"AMO_SUBDOMAIN"}},
		{NeedOAuth, []string{"AMO_CLIENT_ID", "AMO_CLIENT_SECRET", "AMO_REDIRECT_URI"}},
		{NeedSecret, []string{"CRON_SECRET"}},
		{NeedDB | NeedKaspi | NeedAmo, []string{"DB_DRIVER", "KASPI_API_TOKEN", "AMO_SUBDOMAIN"}},
	}
	for _, tt := range tests {
		_, err := Load(root, nil, tt.need)
		if tt.keys == nil {
			if err != nil {
				t.Errorf("need %b: %v", tt.need, err)
			}
			continue
		}
		lines := configLines(t, err)
		// The first line says that .env is missing; then one line per key.
		if len(lines) != len(tt.keys)+1 || !strings.HasPrefix(lines[0], ".env: ") {
			t.Errorf("need %b: lines %q", tt.need, lines)
			continue
		}
		for i, key := range tt.keys {
			if !strings.HasPrefix(lines[i+1], key+": ") {
				t.Errorf("need %b: line %d = %q, want key %s", tt.need, i+1, lines[i+1], key)
			}
		}
	}
}

func TestLoad_TelegramTokenAndChatGoTogether(t *testing.T) {
	_, err := Load(writeEnv(t, "ALERT_TELEGRAM_BOT_TOKEN=123:abc\n"), nil, 0)
	if l := configLines(t, err); len(l) != 1 || !strings.HasPrefix(l[0], "ALERT_TELEGRAM_CHAT_ID: ") {
		t.Errorf("token without chat: %q", l)
	}
	_, err = Load(writeEnv(t, "ALERT_TELEGRAM_CHAT_ID=-100123\n"), nil, 0)
	if l := configLines(t, err); len(l) != 1 || !strings.HasPrefix(l[0], "ALERT_TELEGRAM_BOT_TOKEN: ") {
		t.Errorf("chat without token: %q", l)
	}
	c, err := Load(writeEnv(t, "ALERT_TELEGRAM_BOT_TOKEN=123:abc\nALERT_TELEGRAM_CHAT_ID=-100123\nALERT_TELEGRAM_API_BASE=http://127.0.0.1:9999/\n"), nil, 0)
	if err != nil || c.AlertTelegramChatID != "-100123" || c.AlertTelegramAPIBase != "http://127.0.0.1:9999" {
		t.Errorf("both set: %+v %v", c, err)
	}
}

func TestLoad_KaspiImportStates(t *testing.T) {
	c, err := Load(writeEnv(t, "KASPI_IMPORT_STATES= new, pickup ,NEW,SIGN_REQUIRED\n"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"NEW", "PICKUP", "SIGN_REQUIRED"}; !reflect.DeepEqual(c.KaspiImportStates, want) {
		t.Errorf("states = %q, want %q", c.KaspiImportStates, want)
	}
	// A status is not a state: it cannot be listed.
	_, err = Load(writeEnv(t, "KASPI_IMPORT_STATES=NEW,COMPLETED\n"), nil, 0)
	if l := configLines(t, err); len(l) != 1 || !strings.HasPrefix(l[0], "KASPI_IMPORT_STATES: ") {
		t.Errorf("status in states: %q", l)
	}
}

func TestLoad_AmoStatusMap(t *testing.T) {
	c, err := Load(writeEnv(t, "AMO_STATUS_MAP=COMPLETED:142, cancelled:143,KASPI_DELIVERY:555001,\n"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"COMPLETED": 142, "CANCELLED": 143, "KASPI_DELIVERY": 555001}
	if !reflect.DeepEqual(c.AmoStatusMap, want) {
		t.Errorf("map = %v, want %v", c.AmoStatusMap, want)
	}
	for _, bad := range []string{"DONE:142", "COMPLETED:abc", "COMPLETED", "COMPLETED:0", "COMPLETED:-1"} {
		_, err := Load(writeEnv(t, "AMO_STATUS_MAP="+bad+"\n"), nil, 0)
		if l := configLines(t, err); len(l) != 1 || !strings.HasPrefix(l[0], "AMO_STATUS_MAP: ") {
			t.Errorf("%s: lines %q", bad, l)
		}
	}
}

func TestLoad_KaspiAutoAccept(t *testing.T) {
	for env, want := range map[string]bool{"": false, "KASPI_AUTO_ACCEPT=0\n": false, "KASPI_AUTO_ACCEPT=1\n": true, "KASPI_AUTO_ACCEPT=true\n": true} {
		c, err := Load(writeEnv(t, env), nil, 0)
		if err != nil {
			t.Fatalf("%q: %v", env, err)
		}
		if c.KaspiAutoAccept != want {
			t.Errorf("%q: KaspiAutoAccept = %v, want %v", env, c.KaspiAutoAccept, want)
		}
	}
}

func TestLoad_URLsLoseTrailingSlash(t *testing.T) {
	c, err := Load(writeEnv(t, "KASPI_API_BASE=http://127.0.0.1:8080/shop/api/v2/\n"), nil, 0)
	if err != nil || c.KaspiAPIBase != "http://127.0.0.1:8080/shop/api/v2" {
		t.Errorf("base %q, %v", c.KaspiAPIBase, err)
	}
}

// No secret value ever appears in an error, even next to broken keys.
func TestLoad_ErrorsNeverShowSecrets(t *testing.T) {
	secrets := []string{"kaspi-secret-1", "client-secret-2", "access-secret-3", "refresh-secret-4", "cron-secret-5", "db-pass-6", "bot-secret-7"}
	root := writeEnv(t, "KASPI_API_TOKEN="+secrets[0]+"\nAMO_CLIENT_SECRET="+secrets[1]+
		"\nAMO_ACCESS_TOKEN="+secrets[2]+"\nAMO_REFRESH_TOKEN="+secrets[3]+"\nCRON_SECRET="+secrets[4]+
		"\nDB_PASS="+secrets[5]+"\nALERT_TELEGRAM_BOT_TOKEN="+secrets[6]+
		"\nDB_PORT=x\nAMO_MAX_RPS=9\nDB_DRIVER=oracle\n")
	c, err := Load(root, nil, NeedDB|NeedKaspi|NeedAmo|NeedOAuth|NeedSecret)
	if err == nil {
		t.Fatal("want an error")
	}
	var out strings.Builder
	out.WriteString(err.Error())
	fmt.Fprintf(&out, "%v %+v %#v %s", c, c, c, c.DB)
	j, _ := json.Marshal(c)
	out.Write(j)
	slog.New(slog.NewTextHandler(&out, nil)).Info("config", "cfg", c, "token", c.KaspiAPIToken)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("config", "cfg", c, "token", c.CronSecret)
	for _, s := range secrets {
		if strings.Contains(out.String(), s) {
			t.Errorf("secret %q leaked into: %s", s, out.String())
		}
	}
}

func TestLoad_UnreadableEnvIsReported(t *testing.T) {
	root := t.TempDir()
	if err := os.Mkdir(filepath.Join(root, EnvFile), 0o700); err != nil { // a directory cannot be read as a file
		t.Fatal(err)
	}
	_, err := Load(root, nil, 0)
	if l := configLines(t, err); len(l) != 1 || !strings.HasPrefix(l[0], ".env: ") || strings.Contains(l[0], root) {
		t.Errorf("lines %q", l)
	}
}

func TestSecret_PrintsPlaceholder(t *testing.T) {
	s := Secret("abc123")
	for _, got := range []string{fmt.Sprint(s), fmt.Sprintf("%s|%v|%q|%x|%#v|%+v", s, s, s, s, s, s), s.String()} {
		if strings.Contains(got, "abc123") || strings.Contains(got, "616263") {
			t.Errorf("secret printed: %s", got)
		}
	}
	if s.Reveal() != "abc123" || !s.IsSet() || Secret("").IsSet() || Secret("").String() != "" {
		t.Error("Reveal/IsSet/empty String")
	}
}

// The shipped example loads without a single complaint, for every program.
func TestLoad_ShippedExampleIsValid(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", ".env.example"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(writeEnv(t, string(data)), nil, NeedDB|NeedKaspi|NeedAmo|NeedOAuth|NeedSecret)
	if err != nil {
		t.Fatalf(".env.example: %v", err)
	}
	if c.DB.Driver != DriverSQLite || c.DB.Port != 3306 || !strings.HasSuffix(c.DB.Name, filepath.FromSlash("storage/kaspi_amocrm.sqlite")) {
		t.Errorf("DB = %+v", c.DB)
	}
}

func TestLoad_AmoContactIndexMax(t *testing.T) {
	c, err := Load(writeEnv(t, ""), nil, 0)
	if err != nil || c.AmoContactIndexMax != DefaultAmoContactIndexMax || DefaultAmoContactIndexMax != 25000 {
		t.Fatalf("default: %d, %v", c.AmoContactIndexMax, err)
	}
	for v, ok := range map[string]bool{"0": true, "1000": true, "25000": true, "-1": false, "many": false} {
		c, err := Load(writeEnv(t, "AMO_CONTACT_INDEX_MAX="+v+"\n"), nil, 0)
		if ok && (err != nil || fmt.Sprint(c.AmoContactIndexMax) != v) {
			t.Errorf("AMO_CONTACT_INDEX_MAX=%s: got %d, %v", v, c.AmoContactIndexMax, err)
		}
		if !ok {
			lines := configLines(t, err)
			if len(lines) != 1 || !strings.HasPrefix(lines[0], "AMO_CONTACT_INDEX_MAX: ") || !strings.Contains(lines[0], "0 — без индекса") {
				t.Errorf("AMO_CONTACT_INDEX_MAX=%s: lines %q", v, lines)
			}
		}
	}
}

// The status map's message reads as Russian: «ожидается список пар», not
// «ожидается пары».
func TestStatusMap_MessageIsGrammatical(t *testing.T) {
	_, err := Load(writeEnv(t, "DB_DRIVER=sqlite\nAMO_STATUS_MAP=COMPLETED=142\n"), envMap(nil), NeedDB)
	if err == nil || !strings.Contains(err.Error(), "AMO_STATUS_MAP: ожидается список пар ") || strings.Contains(err.Error(), "ожидается пары") {
		t.Fatalf("err = %v", err)
	}
}
