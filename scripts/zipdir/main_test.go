package main

import (
	"archive/zip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWrite_KeepsExecBitsHiddenFilesAndEmptyFolders(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "storage"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "bin", "fetch_new"), []byte("\x7fELF"), 0o755))
	must(os.WriteFile(filepath.Join(dir, ".htaccess"), []byte("Require all denied\n"), 0o644))
	out := filepath.Join(t.TempDir(), "x.zip")
	must(write(out, dir, time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)))

	zr, err := zip.OpenReader(out)
	must(err)
	defer zr.Close()
	modes := map[string]os.FileMode{}
	for _, f := range zr.File {
		modes[f.Name] = f.Mode()
	}
	want := map[string]os.FileMode{
		".htaccess":     0o644,
		"bin/":          os.ModeDir | 0o755,
		"bin/fetch_new": 0o755,
		"storage/":      os.ModeDir | 0o755,
	}
	for name, mode := range want {
		got, ok := modes[name]
		if !ok {
			t.Errorf("%s missing from the archive (have %v)", name, modes)
			continue
		}
		if got != mode {
			t.Errorf("%s: mode %v, want %v", name, got, mode)
		}
	}
	if len(modes) != len(want) {
		t.Errorf("archive holds %v, want exactly %v", modes, want)
	}
}
