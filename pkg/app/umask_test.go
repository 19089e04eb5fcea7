package app

import (
	"os"
	"path/filepath"
	"testing"
)

// Every program runs with umask 077: what it creates is owner-only, and
// storage/ and logs/ are 0700.
func TestPrograms_CreateOwnerOnlyFiles(t *testing.T) {
	root := t.TempDir()
	p := At(root)
	if err := p.Ensure(); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{p.Storage, p.Logs} {
		st, err := os.Stat(d)
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("%s: %v %v", d, st.Mode(), err)
		}
	}
	f := filepath.Join(p.Logs, "x.log")
	if err := os.WriteFile(f, []byte("x"), 0o666); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(f); st.Mode().Perm() != 0o600 {
		t.Fatalf("a file created 0666 is %v", st.Mode().Perm())
	}
}
