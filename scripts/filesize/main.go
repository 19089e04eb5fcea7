// Command filesize fails when a product Go file (not a test, not the
// sandbox's fakes) is longer than 600 lines and its first comment does not
// say why. Usage: go run ./scripts/filesize [root]
package main

import (
	"fmt"
	"os"
)

func main() {
	root := "."
	if len(os.Args) > 1 {
		root = os.Args[1]
	}
	findings, exemptions, err := CheckTree(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "filesize:", err)
		os.Exit(2)
	}
	for _, e := range exemptions {
		fmt.Printf("exempt: %s: %d lines: %s\n", e.Path, e.Lines, e.Reason)
	}
	for _, f := range findings {
		fmt.Fprintln(os.Stderr, f)
	}
	if len(findings) > 0 {
		os.Exit(1)
	}
	fmt.Printf("no product Go file over %d lines\n", MaxLines)
}
