// Command cron_paths prints, in Russian, the ready-to-paste cron lines,
// systemd unit, Supervisor block and HTTP cron URLs for this installation,
// with absolute paths. It works without a .env.
package main

import (
	"fmt"
	"io"
	"os"
	"os/user"
	"runtime"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/config"
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
	if app.WantsHelp(args) {
		fmt.Fprint(stdout, usage)
		return app.ExitOK
	}
	showSecret := false
	for _, a := range args {
		if a != "--show-secret" {
			fmt.Fprintf(stderr, "cron_paths: unknown argument %q\n%s", a, usage)
			return app.ExitConfig
		}
		showSecret = true
	}
	paths, err := app.Locate(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return app.ExitFail
	}
	paths.Ensure()
	// A missing or broken .env must not hide the paths: use what reads.
	cfg, _ := config.Load(paths.Root, getenv, 0)
	p := cronpaths.Params{
		Root:    paths.Root,
		Arch:    runtime.GOARCH,
		CGIBase: cronpaths.CGIBaseFromRedirect(cfg.AmoRedirectURI),
	}
	if showSecret {
		p.Secret = cfg.CronSecret.Reveal()
	}
	if u, err := user.Current(); err == nil {
		p.User = u.Username
	}
	if err := cronpaths.Write(stdout, p); err != nil {
		fmt.Fprintln(stderr, err)
		return app.ExitFail
	}
	return app.ExitOK
}
