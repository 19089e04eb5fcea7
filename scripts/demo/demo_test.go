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
	// The demo shop sells in two Kaspi stores: each deal names its store.
	for _, store := range []string{"Магазин 1", "Магазин 2"} {
		deals := regexp.MustCompile(`(?m)^    Deal \d+ «Kaspi Order \d+ · `+store+`» — `).FindAllString(text, -1)
		if len(deals) < 3 {
			t.Fatalf("demo printed %d deals of %s:\n%s", len(deals), store, text)
		}
	}
	for _, want := range []string{
		"Migration OK", "Токены сохранены", "stage «Успешно реализовано»", "stage «Закрыто и не реализовано»",
		"contact: ", "item: ", "per deal", "✓ demo finished",
		"orders in Kaspi give", "Магазины Kaspi:", "states fetch_new does not import", "Why reconcile moved", "starts in AMO_STATUS_ID",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
}
