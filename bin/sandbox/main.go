// Command sandbox serves a fake Kaspi and a fake amoCRM on loopback ports
// and prints the .env lines that point the integration at them, for manual
// tries and the demo. It runs until interrupted.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"kaspi-amocrm/pkg/app"
	"os"
	"os/signal"
	"syscall"
	"time"

	"kaspi-amocrm/pkg/sandbox"
)

const usage = `Usage: sandbox [--kaspi-addr ADDR] [--amo-addr ADDR] [--kaspi-stores N] [--seed-orders N] [--seed S] [--amo-rps N] [--redirect-uri URL]

Запускает на этом компьютере учебные (поддельные) Kaspi и amoCRM и печатает
строки для .env, чтобы попробовать интеграцию без настоящих аккаунтов.
Serves a fake Kaspi and a fake amoCRM on loopback ports and prints the .env
lines to use them. Admin endpoints: GET <amoCRM URL>/_sandbox/

  --kaspi-addr ADDR   listen address of the fake Kaspi (127.0.0.1:0 = any free port)
  --amo-addr ADDR     listen address of the fake amoCRM (127.0.0.1:0)
  --kaspi-stores N    Kaspi stores served at the one Kaspi address, each with its
                      own token and orders (1; up to 9)
  --seed-orders N     orders the fake Kaspi starts with (0)
  --seed S            generator seed (1)
  --amo-rps N         amoCRM requests allowed per second (7; negative: no limit)
  --redirect-uri URL  the install's oauth_callback.cgi address (AMO_REDIRECT_URI);
                      the sandbox's authorize page sends the owner back there
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run serves until ctx is done.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if app.PrintVersion("sandbox", args, stdout) {
		return 0
	}
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage) }
	var cfg sandbox.Config
	fs.StringVar(&cfg.KaspiAddr, "kaspi-addr", "127.0.0.1:0", "")
	fs.StringVar(&cfg.AmoAddr, "amo-addr", "127.0.0.1:0", "")
	fs.IntVar(&cfg.SeedOrders, "seed-orders", 0, "")
	fs.IntVar(&cfg.KaspiStores, "kaspi-stores", 1, "")
	fs.Int64Var(&cfg.Seed, "seed", 1, "")
	fs.IntVar(&cfg.AmoRPS, "amo-rps", 7, "")
	fs.StringVar(&cfg.RedirectURI, "redirect-uri", "", "")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	sb, err := sandbox.Start(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprint(stdout, sb.EnvLines())
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := sb.Close(shutdown); err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}
