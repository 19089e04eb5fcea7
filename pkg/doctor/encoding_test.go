package doctor

import (
	"strings"
	"testing"
	"unicode/utf16"
)

// A .env saved by Windows Notepad as «Юникод» (UTF-16LE with a byte order
// mark) is read, and doctor names the encoding with the fix.
func TestDoctor_UTF16EnvIsReadAndNamed(t *testing.T) {
	in := newInstall(t)
	if _, ok := in.run().Find("env.encoding"); ok {
		t.Fatal("a UTF-8 .env flagged")
	}
	var plain strings.Builder
	for k, v := range in.env {
		plain.WriteString(k + "=" + v + "\r\n")
	}
	units := utf16.Encode([]rune(plain.String()))
	b := []byte{0xFF, 0xFE}
	for _, u := range units {
		b = append(b, byte(u), byte(u>>8))
	}
	in.writeFile(".env", string(b), 0o600)
	r := in.run()
	c, ok := r.Find("env.encoding")
	if !ok || c.Mark != Warn || !strings.Contains(c.Detail, "UTF-16") || !strings.Contains(c.Fix, "UTF-8") {
		t.Fatalf("encoding check: %+v %v\n%s", c, ok, text(r))
	}
	expectFail(t, r) // everything else reads as before
}
