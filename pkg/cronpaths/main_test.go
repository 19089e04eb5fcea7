package cronpaths

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/apptest"
)

// cron_paths works without any .env.
func TestMain_WithoutEnv(t *testing.T) {
	root := t.TempDir()
	var out, errb bytes.Buffer
	code := Main(nil, app.Options{Paths: app.At(root), Getenv: apptest.Getenv}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), filepath.Join(root, "bin", "scheduler")+" --once") {
		t.Fatalf("exit %d out %q err %q", code, out.String(), errb.String())
	}
	if _, err := os.Stat(filepath.Join(root, "logs")); err != nil {
		t.Fatal("logs/ not created")
	}
}
