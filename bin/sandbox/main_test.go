package main

import (
	"bytes"
	"context"
	"io"
	"kaspi-amocrm/pkg/app/apptest"
	"strings"
	"testing"
)

func TestRun_PrintsEnvLinesAndStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"--seed-orders", "3"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, key := range []string{"KASPI_API_BASE=http://127.0.0.1:", "AMO_SUBDOMAIN=http://127.0.0.1:", "AMO_ACCESS_TOKEN="} {
		if !strings.Contains(out.String(), key) {
			t.Errorf("output lacks %q:\n%s", key, out.String())
		}
	}
}

func TestRun_RejectsStrayArguments(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"extra"}, &out, &errOut); code != 2 {
		t.Errorf("exit %d", code)
	}
}

func TestRun_VersionWorksWithoutEnv(t *testing.T) { apptest.CheckVersion(t, sandboxMain, "sandbox") }

// sandboxMain adapts run to the shape of the other programs' mains.
func sandboxMain(args []string, _ func(string) string, stdout, stderr io.Writer) int {
	return run(context.Background(), args, stdout, stderr)
}
