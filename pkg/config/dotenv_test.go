package config

import (
	"maps"
	"testing"
	"unicode/utf16"
)

// phpExample is the PHP version's env.example as shops have it, inline
// comments included.
const phpExample = `APP_ENV=prod
# DB: mysql (MariaDB 10.6) or pgsql (PostgreSQL 9.2)
DB_DRIVER=mysql
DB_HOST=127.0.0.1
DB_PORT=3306
DB_NAME=kaspi_amocrm
DB_USER=username
DB_PASS=password

# Kaspi Shop API
KASPI_API_BASE=https://kaspi.kz/shop/api/v2
KASPI_API_TOKEN=put_kaspi_api_token_here

# amoCRM OAuth & API
AMO_SUBDOMAIN=your_subdomain # e.g. example for https://example.amocrm.ru
AMO_CLIENT_ID=your_client_id
AMO_CLIENT_SECRET=your_client_secret
AMO_REDIRECT_URI=https://yourdomain.tld/oauth_callback.php

# (Optional bootstrap) paste initial tokens after first auth
AMO_ACCESS_TOKEN=
AMO_REFRESH_TOKEN=
AMO_EXPIRES_AT=0

# Mapping
AMO_PIPELINE_ID=0
AMO_STATUS_ID=0
AMO_RESPONSIBLE_USER_ID=0
AMO_CATALOG_ID=0
AMO_LEAD_ORDER_CODE_FIELD_ID=0  # optional custom field for order code on leads
AMO_CONTACT_ADDRESS_FIELD_ID=0   # optional custom field for contact address
AMO_LEAD_DELIVERY_ADDRESS_FIELD_ID=0  # optional custom field for lead delivery address
AMO_LEAD_ORDER_DATE_FIELD_ID=0  # optional custom field for lead order date

DEFAULT_COUNTRY=KZ

# Security for web cron & migrate endpoints
CRON_SECRET=change_this_strong_random
`

func TestParseDotenv_PHPExampleGivesPHPValues(t *testing.T) {
	got := ParseDotenv([]byte(phpExample))
	want := map[string]string{
		"APP_ENV": "prod", "DB_DRIVER": "mysql", "DB_HOST": "127.0.0.1", "DB_PORT": "3306",
		"DB_NAME": "kaspi_amocrm", "DB_USER": "username", "DB_PASS": "password",
		"KASPI_API_BASE": "https://kaspi.kz/shop/api/v2", "KASPI_API_TOKEN": "put_kaspi_api_token_here",
		"AMO_SUBDOMAIN": "your_subdomain", "AMO_CLIENT_ID": "your_client_id",
		"AMO_CLIENT_SECRET": "your_client_secret", "AMO_REDIRECT_URI": "https://yourdomain.tld/oauth_callback.php",
		"AMO_ACCESS_TOKEN": "", "AMO_REFRESH_TOKEN": "", "AMO_EXPIRES_AT": "0",
		"AMO_PIPELINE_ID": "0", "AMO_STATUS_ID": "0", "AMO_RESPONSIBLE_USER_ID": "0", "AMO_CATALOG_ID": "0",
		"AMO_LEAD_ORDER_CODE_FIELD_ID": "0", "AMO_CONTACT_ADDRESS_FIELD_ID": "0",
		"AMO_LEAD_DELIVERY_ADDRESS_FIELD_ID": "0", "AMO_LEAD_ORDER_DATE_FIELD_ID": "0",
		"DEFAULT_COUNTRY": "KZ", "CRON_SECRET": "change_this_strong_random",
	}
	if !maps.Equal(got, want) {
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected key %s = %q", k, got[k])
			}
		}
	}
}

// Each line is read as the PHP version read it.
func TestParseDotenv_PHPLineRules(t *testing.T) {
	tests := []struct {
		name, line, key, want string
	}{
		{"plain", "K=v", "K", "v"},
		{"spaces around", "  K =   v  ", "K", "v"},
		{"inline comment", "K=0  # optional # note", "K", "0"},
		{"tab before comment", "K=0\t# note", "K", "0"},
		{"hash inside word stays", "K=abc#def", "K", "abc#def"},
		{"value starting with hash is empty", "K=#abc", "K", ""},
		{"empty", "K=", "K", ""},
		{"equals in value", "K=a=b=c", "K", "a=b=c"},
		{"dollar not expanded", "K=pa$Word1${X}", "K", "pa$Word1${X}"},
		{"dollar in double quotes not expanded", `K="pa$Word"`, "K", "pa$Word"},
		{"double quoted keeps hash and spaces", `K="a # b  " # comment`, "K", "a # b  "},
		{"single quoted keeps backslash", `K='a\nb'`, "K", `a\nb`},
		{"double quoted escapes", `K="a\nb\t\"c\"\\d\x41\101"`, "K", "a\nb\t\"c\"\\dAA"},
		{"text after closing quote kept", `K="ab"cd`, "K", "abcd"},
		{"quote inside value kept", `K=it's`, "K", "it's"},
		{"unterminated quote keeps rest", `K="abc`, "K", "abc"},
		{"crlf", "K=v\r", "K", "v"},
		{"url with query", "K=https://x.tld/a?b=1&c=2", "K", "https://x.tld/a?b=1&c=2"},
		{"cyrillic", "K=Привет мир # коммент", "K", "Привет мир"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseDotenv([]byte(tt.line + "\n"))
			if v, ok := got[tt.key]; !ok || v != tt.want {
				t.Errorf("%s: got %q (present %v), want %q", tt.line, v, ok, tt.want)
			}
		})
	}
}

func TestParseDotenv_SkipsWhatPHPSkipped(t *testing.T) {
	got := ParseDotenv([]byte("\xef\xbb\xbf# comment\n   # indented comment\nno equals sign here\n=orphan\nexport A=1\nB=2\nB=3\n\n"))
	want := map[string]string{"export A": "1", "B": "3"}
	if !maps.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A .env saved as UTF-16 (Notepad's «Юникод»), with or without the byte
// order mark, little or big endian, reads like the UTF-8 file.
func TestParseDotenv_UTF16(t *testing.T) {
	text := "DB_DRIVER=sqlite\r\nAMO_SUBDOMAIN=магазин # комментарий\r\n"
	enc := func(bom bool, big bool) []byte {
		var b []byte
		if bom {
			if big {
				b = append(b, 0xFE, 0xFF)
			} else {
				b = append(b, 0xFF, 0xFE)
			}
		}
		for _, u := range utf16.Encode([]rune(text)) {
			if big {
				b = append(b, byte(u>>8), byte(u))
			} else {
				b = append(b, byte(u), byte(u>>8))
			}
		}
		return b
	}
	for _, c := range []struct{ bom, big bool }{{true, false}, {false, false}, {true, true}, {false, true}} {
		got := ParseDotenv(enc(c.bom, c.big))
		if got["DB_DRIVER"] != "sqlite" || got["AMO_SUBDOMAIN"] != "магазин" {
			t.Errorf("bom %v big-endian %v: %q", c.bom, c.big, got)
		}
	}
	if _, ok := DecodeUTF16([]byte(text)); ok {
		t.Error("UTF-8 text taken for UTF-16")
	}
}
