package main

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The demo is the README's first command: it must exit 0 and show deals
// made by the real binaries from the sandbox's orders. It builds every
// program, so -short leaves it out; CI runs the full suite and make demo.
func TestDemo_ExitsZeroAndPrintsDeals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every program and runs the whole pipeline; run without -short")
	}
	mod, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code := Run(Options{Out: &out, ModuleDir: mod, Dir: t.TempDir()})
	text := out.String()
	if code != 0 {
		t.Fatalf("demo exit code %d:\n%s", code, text)
	}
	deals := regexp.MustCompile(`(?m)^    Deal \d+ «Kaspi Order \d+» — `).FindAllString(text, -1)
	if len(deals) < 5 {
		t.Fatalf("demo printed %d deals:\n%s", len(deals), text)
	}
	for _, want := range []string{
		"Migration OK", "Токены сохранены", "stage «Успешно реализовано»", "stage «Закрыто и не реализовано»",
		"contact: ", "item: ", "per deal", "✓ demo finished",
		"orders in Kaspi give", "states fetch_new does not import", "Why reconcile moved", "starts in AMO_STATUS_ID",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
}
