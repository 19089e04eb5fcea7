package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLocate_AppRootOverrides(t *testing.T) {
	root := t.TempDir()
	p, err := Locate(func(k string) string {
		if k == "APP_ROOT" {
			return root
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Paths{Root: root, Storage: filepath.Join(root, "storage"), Logs: filepath.Join(root, "logs"), Env: filepath.Join(root, ".env")}
	if p != want {
		t.Errorf("got %+v, want %+v", p, want)
	}
}

func TestLocate_ParentOfBinaryFolder(t *testing.T) {
	p, err := Locate(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	exe, _ := os.Executable()
	exe, _ = filepath.EvalSymlinks(exe)
	if want := filepath.Dir(filepath.Dir(exe)); p.Root != want {
		t.Errorf("root %s, want %s", p.Root, want)
	}
}

// A binary reached through a symlink belongs to the tree it lives in.
func TestRootOf_ResolvesSymlinks(t *testing.T) {
	tree := t.TempDir()
	if err := os.MkdirAll(filepath.Join(tree, "app", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(tree, "app", "bin", "fetch_new")
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(tree, "elsewhere", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(tree, "elsewhere", "x", "fetch_new")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	want, _ := filepath.EvalSymlinks(filepath.Join(tree, "app"))
	if got := RootOf(link); got != want {
		t.Errorf("RootOf(link) = %s, want %s", got, want)
	}
}

func TestEnsure_CreatesStorageAndLogs(t *testing.T) {
	p := At(t.TempDir())
	for i := 0; i < 2; i++ { // twice: existing folders are fine
		if err := p.Ensure(); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{p.Storage, p.Logs} {
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			t.Errorf("%s: %v", d, err)
		}
	}
}

func TestAlmatyLoads(t *testing.T) {
	t.Setenv("ZONEINFO", filepath.Join(t.TempDir(), "none"))
	loc, err := time.LoadLocation("Asia/Almaty")
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).In(loc).Hour(); got != 5 && got != 6 {
		t.Errorf("UTC midnight is %d:00 in Almaty", got)
	}
}
