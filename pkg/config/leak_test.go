package config

import (
	"errors"
	"strings"
	"testing"
)

// A .env with old Mac line endings (CR only) reads as separate lines: the
// value of the first key does not swallow the keys after it.
func TestParseDotenv_LoneCRIsALineBreak(t *testing.T) {
	got := ParseDotenv([]byte("AMO_MAX_RPS=6\rKASPI_API_TOKEN=kaspi-secret\rCRON_SECRET=cron-secret\r"))
	want := map[string]string{"AMO_MAX_RPS": "6", "KASPI_API_TOKEN": "kaspi-secret", "CRON_SECRET": "cron-secret"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all: %q)", k, got[k], v, got)
		}
	}
	// Mixed endings in one file.
	got = ParseDotenv([]byte("A=1\r\nB=2\rC=3\nD=4"))
	if got["A"] != "1" || got["B"] != "2" || got["C"] != "3" || got["D"] != "4" {
		t.Fatalf("mixed endings: %q", got)
	}
}

// The lines a web caller sees name the key and what is expected, never
// the value; the full lines (command line, doctor) keep it.
func TestLoad_PublicLinesHoldNoValue(t *testing.T) {
	root := writeEnv(t, "DB_DRIVER=sqlite\nAMO_MAX_RPS=6 KASPI_API_TOKEN=leaked-secret-value\nDB_PORT=x-leak\n")
	_, err := Load(root, nil, NeedDB)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	pub := ce.PublicText()
	if !strings.Contains(pub, "AMO_MAX_RPS: ожидается") || !strings.Contains(pub, "DB_PORT: ожидается") {
		t.Fatalf("public text does not name the keys: %q", pub)
	}
	for _, v := range []string{"leaked-secret-value", "x-leak", "KASPI_API_TOKEN"} {
		if strings.Contains(pub, v) {
			t.Errorf("public text shows %q: %q", v, pub)
		}
	}
	if !strings.Contains(ce.Error(), "x-leak") {
		t.Fatalf("the full lines lost the value: %q", ce.Error())
	}
	// A missing .env: the public line does not name the folder.
	_, err = Load(t.TempDir(), nil, NeedDB)
	if !errors.As(err, &ce) || strings.Contains(ce.PublicText(), "/") || !strings.Contains(ce.PublicText(), ".env: файл не найден") {
		t.Fatalf("missing file: %v / %q", err, ce.PublicText())
	}
}

// A CRON_SECRET shorter than 16 characters is a warning (runs go on);
// a long one or none is not, and the warning never shows the value.
func TestConfig_WarningsShortCronSecret(t *testing.T) {
	for _, c := range []struct {
		secret string
		warn   bool
	}{{"12345", true}, {"abcdefghijklmno", true}, {"abcdefghijklmnop", false}, {"", false}, {"ключ-из-16-симв.", false}} {
		w := Config{CronSecret: Secret(c.secret)}.Warnings()
		if (len(w) == 1) != c.warn {
			t.Errorf("%q: %q", c.secret, w)
		}
		if c.warn && (!strings.Contains(w[0], "CRON_SECRET короче 16 символов") || strings.Contains(w[0], c.secret)) {
			t.Errorf("%q: %q", c.secret, w[0])
		}
	}
}
