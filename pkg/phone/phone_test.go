package phone

import "testing"

func TestNormalize_AcceptsEveryWayAKazakhMobileIsWritten(t *testing.T) {
	for _, raw := range []string{
		"7011234567",         // Kaspi: ten digits, the 7 is the operator code
		"77011234567",        // with the country code
		"87011234567",        // with the trunk prefix
		"+77011234567",       // E.164
		"8 (701) 123-45-67",  // typed by a manager
		"+7 701 123 4567",    // typed by a manager
		"+7 (701) 123-45-67", // as in the amoCRM docs
		" 8-701-123-45-67 ",
	} {
		got, ok := Normalize(raw, "KZ")
		if !ok || got != "+77011234567" {
			t.Errorf("Normalize(%q) = %q, %v; want +77011234567, true", raw, got, ok)
		}
	}
}

func TestNormalize_RejectsMaskedAndUnusableValues(t *testing.T) {
	for _, raw := range []string{
		"", "   ", "+0(000)-000-00-00", "0000000000", "12345", "abc", "+7 (000) 000-00-00",
		"0123456789",
	} {
		if got, ok := Normalize(raw, "KZ"); ok {
			t.Errorf("Normalize(%q) = %q, true; want not ok", raw, got)
		}
	}
}

func TestNormalize_KeepsNumbersOfOtherCountries(t *testing.T) {
	cases := map[string]string{
		"+998 90 123 45 67": "+998901234567",
		"+7 916 123-45-67":  "+79161234567",
		"9161234567":        "+79161234567", // Russian mobile without a prefix, +7 zone
	}
	for raw, want := range cases {
		if got, ok := Normalize(raw, "KZ"); !ok || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", raw, got, ok, want)
		}
	}
}

func TestNormalize_EmptyDefaultCountryMeansKazakhstan(t *testing.T) {
	if got, ok := Normalize("7011234567", ""); !ok || got != "+77011234567" {
		t.Fatalf("got %q, %v", got, ok)
	}
}

func TestNormalize_UsesDefaultCountryOutsideTheSevenZone(t *testing.T) {
	if got, ok := Normalize("90 123 45 67", "UZ"); !ok || got != "+998901234567" {
		t.Fatalf("got %q, %v", got, ok)
	}
}

func TestLast10_IsTheNationalPartOfASevenZoneNumber(t *testing.T) {
	if got := Last10("+77011234567"); got != "7011234567" {
		t.Fatalf("Last10 = %q", got)
	}
	if got := Last10("+1234"); got != "1234" {
		t.Fatalf("Last10 short = %q", got)
	}
}
