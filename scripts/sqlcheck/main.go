// Command sqlcheck fails when the migrations or the store's SQL use a
// construct that PostgreSQL 9.2 or MySQL 5.7 lack (ON CONFLICT, jsonb,
// IF NOT EXISTS on indexes or columns, LATERAL, identity columns, ||
// concatenation, WITH ORDINALITY, CREATE SCHEMA IF NOT EXISTS, ...).
// Those servers cannot be run in CI, so this check and the lib/pq pin are
// what keep them working. It also runs as a test (go test ./...).
//
// Usage: sqlcheck [repository root, default .]
package main

import (
	"fmt"
	"os"
)

func main() {
	root := "."
	if len(os.Args) > 1 {
		if os.Args[1] == "-h" || os.Args[1] == "--help" {
			fmt.Println("usage: sqlcheck [repository root]\nchecks migrations/{pgsql,mysql}/*.sql and pkg/store/*.go for SQL that PostgreSQL 9.2 or MySQL 5.7 lack")
			return
		}
		root = os.Args[1]
	}
	findings, err := CheckTree(root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sqlcheck:", err)
		os.Exit(2)
	}
	for _, f := range findings {
		fmt.Println(f)
	}
	if len(findings) > 0 {
		os.Exit(1)
	}
}
