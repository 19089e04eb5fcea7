package cronpaths

import (
	"fmt"
	"io"
	"os/user"
	"runtime"
	"strconv"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/web"
)

// Main is bin/cron_paths [--show-secret]. It works without .env, and
// opens no database (so the program links no database driver).
func Main(args []string, o app.Options, stdout, stderr io.Writer) int {
	show := false
	for _, a := range args {
		switch a {
		case "--show-secret", "-show-secret":
			show = true
		case "--help", "-h":
			fmt.Fprintln(stdout, "Usage: cron_paths [--show-secret]\nPrints the cron lines, a systemd unit, a Supervisor block and the HTTP cron URLs for this install.")
			return 0
		default:
			fmt.Fprintf(stderr, "cron_paths: unknown argument %q\n", a)
			return 2
		}
	}
	p, cfg, _ := app.LoadConfig(0, o) // a missing or broken .env only leaves placeholders
	if p.Root == "" {
		fmt.Fprintln(stderr, "cron_paths: cannot find the app root")
		return 1
	}
	_ = p.Ensure()
	params := Params{
		Root:    p.Root,
		Arch:    runtime.GOARCH,
		CGIBase: CGIBaseFromRedirect(cfg.AmoRedirectURI),
	}
	for _, st := range cfg.KaspiStores {
		if st.Token.IsSet() {
			params.KaspiStores = append(params.KaspiStores, st.Label())
		}
	}
	if show && !web.IsExampleSecret(cfg.CronSecret.Reveal()) {
		params.Secret = cfg.CronSecret.Reveal()
	}
	if u, err := user.Current(); err == nil && u.Username != "" && u.Uid != strconv.Itoa(0) {
		params.User = u.Username
	}
	if err := Write(stdout, params); err != nil {
		fmt.Fprintln(stderr, "cron_paths:", err)
		return 1
	}
	return 0
}
