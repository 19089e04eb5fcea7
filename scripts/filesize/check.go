package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// MaxLines is the most lines a product Go file may have. A file that grows
// past it holds more than one room's worth; split it by what it holds.
const MaxLines = 600

// ExemptMark, in a file's first comment, excuses the file from the limit;
// the rest of that line says why. The reason is read by a reviewer, so it
// must say something: the mark alone does not count.
const ExemptMark = "Longer than 600 lines:"

// A Finding is one file over the limit.
type Finding struct {
	Path  string
	Lines int
}

func (f Finding) String() string {
	return fmt.Sprintf("%s: %d lines (limit %d); split it by what it holds, or justify it in its first comment with %q", f.Path, f.Lines, MaxLines, ExemptMark+" <why>")
}

// An Exemption is a file over the limit whose first comment says why.
type Exemption struct {
	Path   string
	Lines  int
	Reason string
}

// skipped reports whether a path (slash-separated, relative to the root)
// is outside the product code the limit covers: tests, the sandbox's
// fakes, and folders Go ignores.
func skipped(rel string, d fs.DirEntry) bool {
	name := d.Name()
	if d.IsDir() {
		return rel == "pkg/sandbox" || rel == ".git" || (rel != "." && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || name == "testdata" || name == "build" || name == "dist"))
	}
	return !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go")
}

// CheckTree walks root and returns the product files over MaxLines, and
// those excused by their first comment.
func CheckTree(root string) ([]Finding, []Exemption, error) {
	var (
		findings   []Finding
		exemptions []Exemption
	)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if skipped(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		lines, reason, err := measure(path)
		if err != nil {
			return err
		}
		switch {
		case lines <= MaxLines:
		case reason != "":
			exemptions = append(exemptions, Exemption{rel, lines, reason})
		default:
			findings = append(findings, Finding{rel, lines})
		}
		return nil
	})
	sort.Slice(findings, func(i, j int) bool { return findings[i].Path < findings[j].Path })
	sort.Slice(exemptions, func(i, j int) bool { return exemptions[i].Path < exemptions[j].Path })
	return findings, exemptions, err
}

// measure counts a file's lines and reads the reason of an exemption from
// its first comment (the comment lines before the first other line).
func measure(path string) (lines int, reason string, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	inFirstComment := true
	for sc.Scan() {
		lines++
		line := strings.TrimSpace(sc.Text())
		if !inFirstComment {
			continue
		}
		if !strings.HasPrefix(line, "//") {
			inFirstComment = false
			continue
		}
		text := strings.TrimSpace(strings.TrimPrefix(line, "//"))
		if r, ok := strings.CutPrefix(text, ExemptMark); ok && reason == "" {
			reason = strings.TrimSpace(r)
		}
	}
	return lines, reason, sc.Err()
}
