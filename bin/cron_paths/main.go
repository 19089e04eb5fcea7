// Command cron_paths prints, in Russian, the ready-to-paste cron lines,
// systemd unit, Supervisor block and HTTP cron URLs for this installation,
// with absolute paths. It works without a .env.
package main

import (
	"fmt"
	"io"
	"os"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/cronpaths"
)

const usage = `Usage: cron_paths [--show-secret]

Печатает готовые строки для cron, systemd и Supervisor и адреса HTTP-cron
с абсолютными путями этой установки. Работает и без .env.
Prints the cron lines, systemd unit and HTTP cron URLs for this installation.

  --show-secret   put the real CRON_SECRET into the URLs / подставить CRON_SECRET в адреса
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if app.PrintVersion("cron_paths", args, stdout) {
		return app.ExitOK
	}
	if app.WantsHelp(args) {
		fmt.Fprint(stdout, usage)
		return app.ExitOK
	}
	return cronpaths.Main(args, app.Options{Getenv: getenv}, stdout, stderr)
}
