// Command doctor checks an installation and prints a checklist in Russian with
// the fix for every problem; exits non-zero when something is wrong.
package main

import (
	"fmt"
	"io"
	"os"

	"kaspi-amocrm/pkg/app"
)

const usage = `Usage: doctor [--status] [--format=json]

Проверяет установку: .env, папки, базу данных, токены amoCRM и Kaspi, ID
воронки, статусов, полей и каталога. Для каждой ошибки говорит, как её
исправить. Код выхода не 0, если есть ошибки.
Checks the installation and explains how to fix each problem.

  --status        last runs, orders by step, quarantine, token expiry / состояние
  --format=json   the status as JSON / состояние в JSON
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if app.WantsHelp(args) {
		fmt.Fprint(stdout, usage)
		return app.ExitOK
	}
	return app.Stub("doctor", getenv, stderr)
}
