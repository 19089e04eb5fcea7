package applog

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
)

// fixedNow returns a clock stuck at t.
func fixedNow(t time.Time) func() time.Time { return func() time.Time { return t } }

func readLog(t *testing.T, dir, day string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, day+".log"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// The file is named by the date in Asia/Almaty, not UTC.
func TestOpen_FileNamedByAlmatyDate(t *testing.T) {
	dir := t.TempDir()
	// 20:30 UTC on 1 March is after midnight in Almaty (UTC+5).
	log, c, err := Open(dir, fixedNow(time.Date(2025, 3, 1, 20, 30, 0, 0, time.UTC)), 30, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("fetch_new finished", "created", 3)
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got := readLog(t, dir, "2025-03-02")
	if strings.Count(got, "\n") != 1 || !strings.Contains(got, `msg="fetch_new finished"`) || !strings.Contains(got, "created=3") {
		t.Errorf("log = %q", got)
	}
	if !strings.Contains(got, "+05:00") {
		t.Errorf("time is not written in Almaty time: %q", got)
	}
}

func TestOpen_OneLinePerEventAndLevel(t *testing.T) {
	dir := t.TempDir()
	now := fixedNow(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	log, c, err := Open(dir, now, 30, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("not written")
	log.Info("a", "text", "two\nlines")
	log.Error("b", "err", errors.New("x\ny"))
	c.Close()
	got := readLog(t, dir, "2025-03-01")
	if strings.Contains(got, "not written") {
		t.Error("debug line written at info level")
	}
	if n := strings.Count(got, "\n"); n != 2 {
		t.Errorf("%d lines, want 2: %q", n, got)
	}
}

// A process running past midnight moves on to the next day's file.
func TestOpen_SwitchesFileWhenTheDateChanges(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2025, 3, 1, 18, 59, 0, 0, time.UTC) // 23:59 in Almaty
	log, c, err := Open(dir, func() time.Time { return now }, 30, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	log.Info("before midnight")
	now = now.Add(2 * time.Minute)
	log.Info("after midnight")
	if a, b := readLog(t, dir, "2025-03-01"), readLog(t, dir, "2025-03-02"); !strings.Contains(a, "before") || !strings.Contains(b, "after") || strings.Contains(a, "after") {
		t.Errorf("day files: %q / %q", a, b)
	}
}

func TestOpen_RemovesOnlyDailyFilesPastRetention(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"2025-01-01.log", "2025-01-30.log", "2025-02-01.log", "2025-02-28.log", "scheduler.log", "notes.txt", "2024-12-31.log.gz"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, c, err := Open(dir, fixedNow(time.Date(2025, 3, 2, 12, 0, 0, 0, time.UTC)), 30, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// 30 days before 2025-03-02 is 2025-01-31: older daily files go. A
	// .log something else appends to (a cron line's redirect) is set aside
	// under today's date, to go in its turn.
	want := []string{"2024-12-31.log.gz", "2025-02-01.log", "2025-02-28.log", "2025-03-02.log", "notes.txt", "scheduler.2025-03-02.log"}
	if got := listDir(t, dir); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("files = %v, want %v", got, want)
	}
}

// scheduler.log, appended by a cron line every minute, never ages by its
// modification time: it is set aside once every retention days and the
// copies go after retention days. Other files of logs/ go when not
// written for retention days; .htaccess stays.
func TestOpen_SchedulerLogIsPrunedToo(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, age time.Duration, now time.Time) {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	open := func(now time.Time) {
		_, c, err := Open(dir, fixedNow(now), 30, slog.LevelInfo)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	day1 := time.Date(2025, 3, 2, 12, 0, 0, 0, time.UTC)
	write(".htaccess", 400*24*time.Hour, day1)
	write("old-notes.txt", 40*24*time.Hour, day1)
	write("scheduler.log", 0, day1)
	open(day1)
	if got := strings.Join(listDir(t, dir), " "); got != ".htaccess 2025-03-02.log scheduler.2025-03-02.log" {
		t.Fatalf("day 1: %s", got)
	}
	// Cron goes on appending; ten days later nothing moves.
	day10 := day1.AddDate(0, 0, 10)
	write("scheduler.log", 0, day10)
	open(day10)
	if got := strings.Join(listDir(t, dir), " "); got != ".htaccess 2025-03-02.log 2025-03-12.log scheduler.2025-03-02.log scheduler.log" {
		t.Fatalf("day 10: %s", got)
	}
	// After the retention the old copy goes and the file is set aside again.
	day40 := day1.AddDate(0, 0, 40)
	write("scheduler.log", 0, day40)
	open(day40)
	if got := strings.Join(listDir(t, dir), " "); got != ".htaccess 2025-03-12.log 2025-04-11.log scheduler.2025-04-11.log" {
		t.Fatalf("day 40: %s", got)
	}
}

func TestOpen_RetentionZeroKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "2000-01-01.log"), nil, 0o600)
	_, c, err := Open(dir, fixedNow(time.Date(2025, 3, 2, 12, 0, 0, 0, time.UTC)), 0, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := os.Stat(filepath.Join(dir, "2000-01-01.log")); err != nil {
		t.Error("old file removed with retention 0")
	}
}

func TestOpenWith_AlsoWritesToStderr(t *testing.T) {
	dir := t.TempDir()
	var also bytes.Buffer
	log, c, err := OpenWith(Options{Dir: dir, Now: fixedNow(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)), Also: &also, Secrets: []string{"tee-secret-1"}})
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hello", "note", "tee-secret-1")
	c.Close()
	if !strings.Contains(also.String(), "hello") || strings.Contains(also.String(), "tee-secret-1") {
		t.Errorf("stderr copy = %q", also.String())
	}
	if readLog(t, dir, "2025-03-01") != also.String() {
		t.Error("file and stderr differ")
	}
}

func TestClose_LaterWritesFailQuietly(t *testing.T) {
	log, c, err := Open(t.TempDir(), time.Now, 30, slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	log.Info("after close") // must not panic or reopen
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// No secret reaches the file, whatever shape it is logged in.
func TestLog_SecretsNeverWritten(t *testing.T) {
	s := func(i int) string { return fmt.Sprintf("S3CR3T%02dq", i) }
	jwt := "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4eXoiLCJqdGkiOiIxMjMifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
	refresh := "def502001a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d"

	dir := t.TempDir()
	log, c, err := OpenWith(Options{Dir: dir, Now: fixedNow(time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)),
		Level: slog.LevelDebug, Secrets: []string{s(30)}})
	if err != nil {
		t.Fatal(err)
	}
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+s(10))
	hdr.Set("X-Auth-Token", s(11))
	hdr.Set("X-Cron-Token", s(12))
	u, _ := url.Parse("https://shop.example/cgi-bin/cron.cgi?task=new&token=" + s(13))
	cfg := config.Config{KaspiAPIToken: config.Secret(s(14)), CronSecret: config.Secret(s(15)),
		AmoClientSecret: config.Secret(s(16)), DB: config.DB{Pass: config.Secret(s(17))}}

	// Secret-named attributes.
	log.Info("keys", "token", s(1), "access_token", s(2), "refresh_token", s(3), "client_secret", s(4),
		"password", s(5), "authorization", "Bearer "+s(6), "secret", s(7), "X-Auth-Token", s(8), "CRON_SECRET", s(9))
	// Headers, URLs, typed secrets.
	log.Info("request", "headers", hdr, "url", u, "url_text", u.String(), "cfg", cfg, "kaspi", cfg.KaspiAPIToken)
	log.Info("form", "body", "grant_type=refresh_token&client_id=abc&client_secret="+s(18)+"&refresh_token="+s(19),
		"values", url.Values{"client_secret": {s(20)}, "password": {s(21)}})
	// Error bodies and errors.
	log.Error("token refresh failed", "err", fmt.Errorf("amocrm: refresh: %w",
		errors.New(`400 {"token_type":"Bearer","access_token":"`+s(22)+`","refresh_token":"`+s(23)+`"}`)),
		"body", []byte(`{"client_secret": "`+s(24)+`"}`))
	// Message text, groups, With, structs and maps.
	log.Warn("sent Authorization: Bearer " + s(25) + " to amo")
	log.With("api_token", s(26)).Info("with", slog.Group("req", "authorization", "Bearer "+s(27), "path", "/api/v4/leads"))
	log.Info("stored", "tok", domain.Token{AccessToken: s(28), RefreshToken: s(29), ExpiresAt: 1700000000},
		"m", map[string]string{"access_token": s(31)})
	// Literal values given to the logger, and token shapes in free text.
	log.Info("note", "text", "the shop secret is "+s(30), "jwt", "got "+jwt, "r", "rt="+refresh)
	log.Info("callback", "query", "code="+s(32)+"&state=x", "raw", "oauth_callback.cgi?code="+s(33)+"&referer=shop.amocrm.ru")
	c.Close()

	got := readLog(t, dir, "2025-03-01")
	for i := 1; i <= 33; i++ {
		if i == 32 { // a bare "code=" (not a query) is not known to be secret
			continue
		}
		if strings.Contains(got, s(i)) {
			t.Errorf("secret %d leaked", i)
		}
	}
	for _, v := range []string{jwt, refresh} {
		if strings.Contains(got, v) {
			t.Errorf("token %s… leaked", v[:10])
		}
	}
	// What is not secret stays readable.
	for _, keep := range []string{"task=new", "client_id=abc", "grant_type=refresh_token", "/api/v4/leads", "ExpiresAt:1700000000", "token refresh failed", "state=x", "referer=shop.amocrm.ru"} {
		if !strings.Contains(got, keep) {
			t.Errorf("%q missing from the log", keep)
		}
	}
	if t.Failed() {
		t.Log(got)
	}
}

func TestRedact_KeepsOrdinaryText(t *testing.T) {
	for _, s := range []string{
		"order 123456789 set aside: 400 validation failed",
		"tokens_saved=true expires_at=1700000000",
		"GET /orders?page[number]=0&filter[orders][code]=123",
		"basic information",
	} {
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q", s, got)
		}
	}
}

func TestSensitiveKey(t *testing.T) {
	for k, want := range map[string]bool{
		"token": true, "access_token": true, "refresh_token": true, "client_secret": true, "password": true,
		"Authorization": true, "secret": true, "X-Auth-Token": true, "CRON_SECRET": true, "DB_PASS": true,
		"order_code": false, "lead_id": false, "phone": false, "url": false, "expires_at": false,
	} {
		if SensitiveKey(k) != want {
			t.Errorf("SensitiveKey(%q) = %v", k, !want)
		}
	}
}
