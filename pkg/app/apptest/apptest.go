// Package apptest installs a site for tests of the wiring: an app root in
// a temporary folder whose .env points at a fresh database (SQLite, or
// MariaDB/PostgreSQL when their KA_TEST_*_DSN is set) and at fake Kaspi and
// amoCRM servers. It checks every answer and log for leaked secrets.
package apptest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/sandbox/amofake"
	"kaspi-amocrm/pkg/sandbox/kaspifake"
	"kaspi-amocrm/pkg/sandbox/orders"
	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

// Secrets the sites use.
const (
	Secret     = "d2b7c9e1f4a6083b5c7d9e1f2a4b6c8d"
	KaspiToken = "kaspi-token-0123456789"
)

// Site is one installation.
type Site struct {
	T        *testing.T
	Root     string
	Amo      *amofake.Server
	AmoURL   string
	Kaspi    *kaspifake.Server
	KaspiURL string
	DBConfig store.Config
	// Access and Refresh are the token pair seeded into .env (if any).
	Access, Refresh string
	Extra           []string
}

// New installs a site on SQLite. withTokens seeds a token pair into .env;
// extra lines are appended to .env (later keys win).
func New(t *testing.T, withTokens bool, extra ...string) *Site {
	t.Helper()
	return NewOn(t, store.DriverSQLite, withTokens, extra...)
}

// NewOn installs a site on a fresh database of the driver.
func NewOn(t *testing.T, driver string, withTokens bool, extra ...string) *Site {
	t.Helper()
	s := &Site{T: t, Root: t.TempDir(), Extra: extra}
	if driver == store.DriverSQLite {
		s.DBConfig = store.Config{Driver: store.DriverSQLite, SQLitePath: filepath.Join(s.Root, "storage", "kaspi_amocrm.sqlite")}
	} else {
		_, s.DBConfig = storetest.OpenEmpty(t, driver)
	}
	s.Amo = amofake.New(amofake.Options{RPS: -1})
	as := httptest.NewServer(s.Amo)
	t.Cleanup(as.Close)
	s.AmoURL = as.URL
	s.Kaspi = kaspifake.New(kaspifake.Options{Token: KaspiToken})
	ks := httptest.NewServer(s.Kaspi)
	t.Cleanup(ks.Close)
	s.KaspiURL = ks.URL
	if withTokens {
		s.Access, s.Refresh, _ = s.Amo.IssueTokens()
	}
	s.WriteEnv()
	return s
}

// WriteEnv (re)writes the site's .env.
func (s *Site) WriteEnv() {
	o := s.Amo.Options()
	lines := []string{"DB_DRIVER=" + s.DBConfig.Driver}
	if s.DBConfig.Driver != store.DriverSQLite {
		lines = append(lines, "DB_HOST="+s.DBConfig.Host, "DB_PORT="+s.DBConfig.Port, "DB_NAME="+s.DBConfig.Name,
			"DB_USER="+s.DBConfig.User, "DB_PASS="+s.DBConfig.Pass)
	}
	lines = append(lines,
		"KASPI_API_BASE="+s.KaspiURL,
		"KASPI_API_TOKEN="+KaspiToken,
		"AMO_SUBDOMAIN="+s.AmoURL,
		"AMO_CLIENT_ID="+o.ClientID,
		"AMO_CLIENT_SECRET="+o.ClientSecret,
		"AMO_REDIRECT_URI="+o.RedirectURI,
		fmt.Sprintf("AMO_PIPELINE_ID=%d", amofake.PipelineID),
		fmt.Sprintf("AMO_STATUS_ID=%d", amofake.StatusNewOrder),
		"CRON_SECRET="+Secret,
		"RUN_TIME_BUDGET_SECONDS=30",
	)
	if s.Access != "" {
		lines = append(lines, "AMO_ACCESS_TOKEN="+s.Access, "AMO_REFRESH_TOKEN="+s.Refresh)
	}
	lines = append(lines, s.Extra...)
	if err := os.WriteFile(filepath.Join(s.Root, ".env"), []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		s.T.Fatal(err)
	}
}

// Getenv is an empty process environment (only .env counts).
func Getenv(string) string { return "" }

// DB opens the site's database directly, for setup and assertions.
func (s *Site) DB() *store.DB {
	s.T.Helper()
	db, err := store.Open(context.Background(), s.DBConfig)
	if err != nil {
		s.T.Fatal(err)
	}
	s.T.Cleanup(func() { db.Close() })
	return db
}

// Migrate brings the site's schema up to date.
func (s *Site) Migrate() {
	s.T.Helper()
	if _, err := s.DB().Migrate(context.Background()); err != nil {
		s.T.Fatal(err)
	}
}

// Storage is the site's storage/ folder.
func (s *Site) Storage() string { return filepath.Join(s.Root, "storage") }

// secrets lists what must never appear in an answer or a log.
func (s *Site) secrets() []string {
	out := []string{Secret, KaspiToken, s.Amo.Options().ClientSecret}
	if s.Access != "" {
		out = append(out, s.Access, s.Refresh)
	}
	if tok, err := s.tokenIfAny(); err == nil {
		out = append(out, tok.AccessToken, tok.RefreshToken)
	}
	return out
}

func (s *Site) tokenIfAny() (domain.Token, error) {
	if s.DBConfig.Driver == store.DriverSQLite {
		// Opening would create the file; tests check it stays absent.
		if _, err := os.Stat(s.DBConfig.SQLitePath); err != nil {
			return domain.Token{}, err
		}
	}
	db, err := store.Open(context.Background(), s.DBConfig)
	if err != nil {
		return domain.Token{}, err
	}
	defer db.Close()
	return db.Token(context.Background(), "amocrm")
}

// Do sends one request and fails the test when the answer holds a secret.
func (s *Site) Do(h http.Handler, method, target string, body io.Reader, hdr ...string) *httptest.ResponseRecorder {
	s.T.Helper()
	r := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	answer := w.Body.String()
	for k, v := range w.Header() {
		answer += k + ":" + strings.Join(v, ",")
	}
	for _, secret := range s.secrets() {
		if secret != "" && strings.Contains(answer, secret) {
			s.T.Fatalf("%s %s: the answer holds a secret: %q", method, target, answer)
		}
	}
	return w
}

// AddOrders puts n new orders, created in the last two hours, into the fake Kaspi.
func (s *Site) AddOrders(n int) []domain.Order {
	now := time.Now()
	os := orders.Generate(orders.Spec{N: n, Seed: 7, From: now.Add(-2 * time.Hour), To: now.Add(-time.Minute),
		States: []string{domain.StateNew}})
	s.Kaspi.AddOrders(os)
	return os
}

// AssertNoSecretInLogs reads every log file of the site.
func (s *Site) AssertNoSecretInLogs() {
	s.T.Helper()
	files, _ := filepath.Glob(filepath.Join(s.Root, "logs", "*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, secret := range s.secrets() {
			if secret != "" && bytes.Contains(b, []byte(secret)) {
				s.T.Fatalf("%s holds a secret", f)
			}
		}
	}
}

// BadEnv is a .env with one malformed key (AMO_MAX_RPS) among secrets
// that must never be printed (BadEnvSecrets).
const BadEnv = "DB_DRIVER=sqlite\nAMO_MAX_RPS=fast\nKASPI_API_BASE=http://127.0.0.1:1\n" +
	"KASPI_API_TOKEN=kaspi-secret-value-123\nAMO_CLIENT_SECRET=amo-secret-value-456\n" +
	"CRON_SECRET=cron-secret-value-789abcdef0123\n"

// BadEnvSecrets are the secret values of BadEnv.
var BadEnvSecrets = []string{"kaspi-secret-value-123", "amo-secret-value-456", "cron-secret-value-789abcdef0123"}

// Main is a program's run function: arguments, environment, output.
type Main func(args []string, getenv func(string) string, stdout, stderr io.Writer) int

// RunWithEnv runs a program from a shell on an install whose .env is env,
// and fails the test when its output holds a value of BadEnvSecrets.
func RunWithEnv(t *testing.T, run Main, env string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	getenv := func(k string) string {
		if k == "APP_ROOT" {
			return root
		}
		return ""
	}
	var o, e bytes.Buffer
	code = run(args, getenv, &o, &e)
	for _, s := range BadEnvSecrets {
		if strings.Contains(o.String()+e.String(), s) {
			t.Fatalf("a secret value was printed: %q %q", o.String(), e.String())
		}
	}
	return code, o.String(), e.String()
}

// rootEnv is a process environment naming only the app root.
func rootEnv(root string) func(string) string {
	return func(k string) string {
		if k == "APP_ROOT" {
			return root
		}
		return ""
	}
}

// CheckHelp asserts that --help and -h exit 0 and print a usage naming the
// program, on an install that has no .env at all.
func CheckHelp(t *testing.T, run Main, name string) {
	t.Helper()
	getenv := rootEnv(t.TempDir())
	for _, arg := range []string{"--help", "-h"} {
		var out, errb bytes.Buffer
		if code := run([]string{arg}, getenv, &out, &errb); code != 0 {
			t.Errorf("%s: exit %d, stderr %q", arg, code, errb.String())
		}
		if !strings.Contains(out.String(), name) || !strings.Contains(out.String(), "Usage:") {
			t.Errorf("%s: usage does not name %s: %q", arg, name, out.String())
		}
	}
}

// CheckCreatesFolders asserts that a run creates storage/ and logs/ under
// the app root, whatever else it then fails on.
func CheckCreatesFolders(t *testing.T, run Main, args ...string) {
	t.Helper()
	root := t.TempDir()
	var out, errb bytes.Buffer
	run(args, rootEnv(root), &out, &errb)
	for _, d := range []string{"storage", "logs"} {
		if _, err := os.Stat(filepath.Join(root, d)); err != nil {
			t.Errorf("%s not created: %v", d, err)
		}
	}
}

// CheckVersion asserts that run answers --version with its name and the
// version, exit 0, without an installation.
func CheckVersion(t *testing.T, run Main, name string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := run([]string{"--version"}, rootEnv(t.TempDir()), &out, &errb); code != 0 {
		t.Fatalf("--version: exit %d, stderr %q", code, errb.String())
	}
	if line := out.String(); !regexp.MustCompile(`^` + regexp.QuoteMeta(name) + `(\.cgi)? kaspi-amocrm \S+ \(\w+/\w+, go[^)]*\)\n$`).MatchString(line) {
		t.Fatalf("--version: %q", line)
	}
}
