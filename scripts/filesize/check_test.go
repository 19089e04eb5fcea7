package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, root, rel string, lines int, header string) {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString(header)
	for n := strings.Count(header, "\n"); n < lines; n++ {
		b.WriteString("var _ = 1\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// A product file over the limit is found; tests, the sandbox, testdata and
// a file at exactly the limit are not.
func TestCheckTree_FindsOnlyProductFilesOverTheLimit(t *testing.T) {
	root := t.TempDir()
	write(t, root, "pkg/syncer/process.go", MaxLines+1, "package syncer\n")
	write(t, root, "pkg/syncer/leads.go", MaxLines, "package syncer\n")
	write(t, root, "pkg/syncer/process_test.go", 2000, "package syncer\n")
	write(t, root, "pkg/sandbox/amofake/api.go", 2000, "package amofake\n")
	write(t, root, "pkg/store/testdata/big.go", 2000, "package x\n")
	write(t, root, "scripts/bench/main.go", 900, "package main\n")
	findings, exemptions, err := CheckTree(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range findings {
		got = append(got, f.Path)
	}
	if strings.Join(got, ",") != "pkg/syncer/process.go,scripts/bench/main.go" || len(exemptions) != 0 {
		t.Fatalf("findings %v, exemptions %v", findings, exemptions)
	}
	if findings[0].Lines != MaxLines+1 {
		t.Fatalf("counted %d lines, want %d", findings[0].Lines, MaxLines+1)
	}
}

// A reason in the first comment excuses a file; the mark without a reason,
// or a mark further down the file, does not.
func TestCheckTree_ExemptionNeedsAReasonInTheFirstComment(t *testing.T) {
	root := t.TempDir()
	write(t, root, "a/justified.go", 700, "// Package a does one thing.\n//\n// "+ExemptMark+" one generated table.\npackage a\n")
	write(t, root, "a/bare.go", 700, "// "+ExemptMark+"\npackage a\n")
	write(t, root, "a/late.go", 700, "package a\n\n// "+ExemptMark+" too late.\n")
	findings, exemptions, err := CheckTree(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(exemptions) != 1 || exemptions[0].Path != "a/justified.go" || exemptions[0].Reason != "one generated table." {
		t.Fatalf("exemptions %v", exemptions)
	}
	if len(findings) != 2 || findings[0].Path != "a/bare.go" || findings[1].Path != "a/late.go" {
		t.Fatalf("findings %v", findings)
	}
}
