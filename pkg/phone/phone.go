// Package phone turns phone numbers as Kaspi sends them and as people type
// them into amoCRM into one comparable form (E.164), so that a customer is
// matched to an existing contact by number and not by a fuzzy text hit.
package phone

import (
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// Normalize returns raw in E.164 ("+77011234567") and true, or "" and
// false when raw holds no usable number (empty, masked "+0(000)-000-00-00",
// too short, not a number of any country).
//
// defaultCountry (ISO 3166 alpha-2, "KZ" when empty) applies to numbers
// written without a country code. In the +7 zone (KZ, RU) ten digits are
// the national number as Kaspi sends it ("7011234567": the leading 7 is
// the operator code, not the country code), and eleven digits starting
// with 7 or 8 are that number with a country code or trunk prefix.
func Normalize(raw, defaultCountry string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", false
	}
	region := strings.ToUpper(strings.TrimSpace(defaultCountry))
	if region == "" {
		region = "KZ"
	}
	digits := Digits(raw)
	if len(digits) < 7 || strings.Trim(digits, "0") == "" {
		return "", false
	}

	input := raw
	if !strings.HasPrefix(raw, "+") && phonenumbers.GetCountryCodeForRegion(region) == 7 {
		switch {
		case len(digits) == 11 && (digits[0] == '7' || digits[0] == '8'):
			input = "+7" + digits[1:]
		case len(digits) == 10:
			input = "+7" + digits
		}
	}
	num, err := phonenumbers.Parse(input, region)
	if err != nil {
		return "", false
	}
	if !phonenumbers.IsValidNumber(num) && !plausibleZone7(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

// plausibleZone7 accepts a +7 number with a ten-digit national number in a
// range that is allocated in Kazakhstan or Russia (3xx, 4xx, 6xx, 7xx,
// 8xx, 9xx). Operators open new prefixes faster than the metadata follows,
// and losing a real customer's contact costs more than a rare false match
// (a match still needs the stored number to normalise to the same value).
func plausibleZone7(num *phonenumbers.PhoneNumber) bool {
	if num.GetCountryCode() != 7 {
		return false
	}
	national := phonenumbers.GetNationalSignificantNumber(num)
	if len(national) != 10 {
		return false
	}
	switch national[0] {
	case '3', '4', '6', '7', '8', '9':
		return true
	}
	return false
}

// Last10 returns the last ten digits of a number (all of them when it has
// fewer): the national part of a +7 number, which is what amoCRM's
// full-text contact search finds whatever way the number was typed.
func Last10(e164 string) string {
	d := Digits(e164)
	if len(d) > 10 {
		return d[len(d)-10:]
	}
	return d
}

// Digits returns the decimal digits of s in order.
func Digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
