// Command demo shows the whole product working in one command (make demo):
// it builds the real programs, starts bin/sandbox (fake Kaspi and fake
// amoCRM on loopback), installs the hosting tree into a temporary folder
// with SQLite as a shop owner would, and then runs the real pipeline
// through the real binaries: migrate.cgi → oauth_callback.cgi with the
// sandbox's authorization code → fetch_new → a few orders change status
// at Kaspi → reconcile. It ends with a readable summary of what amoCRM now
// holds. Exit 0 on success; otherwise the failing step is named.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	keep := fs.Bool("keep", false, "keep the installed tree and print where it is")
	dir := fs.String("dir", "", "install into this folder instead of a temporary one (implies -keep)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	os.Exit(Run(Options{Out: os.Stdout, Keep: *keep || *dir != "", Dir: *dir}))
}

// Options tune Run.
type Options struct {
	Out  io.Writer
	Keep bool   // keep the installed tree
	Dir  string // install here ("" = a new temporary folder)
	// ModuleDir is the source tree to build ("" = found with go env GOMOD).
	ModuleDir string
}

// Run performs the demo and returns the exit code.
func Run(o Options) int {
	d, err := newDemo(o)
	if err != nil {
		fmt.Fprintf(o.Out, "\n✗ demo could not start: %v\n", err)
		return 1
	}
	defer d.cleanup()
	if err := d.run(); err != nil {
		fmt.Fprintf(o.Out, "\n✗ demo failed at step %q: %v\n", d.step, err)
		if d.logTail != "" {
			fmt.Fprintf(o.Out, "\nlast lines of the sandbox output:\n%s\n", d.logTail)
		}
		return 1
	}
	return 0
}
