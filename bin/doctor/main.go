// Command doctor checks an installation and prints a checklist in Russian with
// the fix for every problem; exits non-zero when something is wrong. With
// --status it prints the status report instead (as cron.cgi?task=status).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"kaspi-amocrm/pkg/alert"
	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/wiring"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/doctor"
	"kaspi-amocrm/pkg/status"
)

const usage = `Usage: doctor [--status] [--fix] [--format=json]

Проверяет установку: .env, папки, базу данных, токены amoCRM и Kaspi, ID
воронки, статусов, полей и каталога, последние запуски, ядро и память.
Для каждой ошибки говорит, как её исправить. Код выхода не 0, если есть
ошибки. К amoCRM и Kaspi делает только запросы на чтение.
Checks the installation and explains how to fix each problem (read-only
calls to the APIs); exits 1 when a check fails.

  --status        last runs, orders by step, quarantine, token expiry / состояние
  --fix           take away other users' access to .env, storage/, logs/ and the
                  database files / убрать доступ других пользователей к файлам
  --format=json   JSON instead of text / вывод в JSON

Settings are read from .env in the folder above bin/ (APP_ROOT overrides).
Настройки читаются из .env в папке над bin/.
`

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if app.PrintVersion("doctor", args, stdout) {
		return app.ExitOK
	}
	if app.WantsHelp(args) {
		fmt.Fprint(stdout, usage)
		return app.ExitOK
	}
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	showStatus := fs.Bool("status", false, "print the status report")
	fix := fs.Bool("fix", false, "fix the modes of private files")
	format := fs.String("format", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return app.ExitConfig
	}
	if fs.NArg() > 0 || (*format != "text" && *format != "json") {
		fmt.Fprint(stderr, usage)
		return app.ExitConfig
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *showStatus {
		return printStatus(ctx, getenv, *format, stdout, stderr)
	}
	return check(ctx, getenv, *format, *fix, stdout, stderr)
}

// printStatus prints the status report; it needs only the database.
func printStatus(ctx context.Context, getenv func(string) string, format string, stdout, stderr io.Writer) int {
	env, err := wiring.Open(ctx, config.NeedDB, app.Options{Getenv: getenv, AnySchema: true})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return app.ExitCode(err)
	}
	defer env.Close()
	rep, err := status.Collect(ctx, env.Store, status.Options{Version: app.Version})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return app.ExitFail
	}
	if err := status.Write(stdout, rep, format); err != nil {
		fmt.Fprintln(stderr, err)
		return app.ExitFail
	}
	return app.ExitOK
}

// check runs the checklist. It must work on a broken install, so it reads
// the config itself instead of refusing to start like the other programs.
func check(ctx context.Context, getenv func(string) string, format string, fix bool, stdout, stderr io.Writer) int {
	paths, err := app.Locate(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return app.ExitFail
	}
	rep := doctor.Run(ctx, doctor.Options{
		Root: paths.Root, Getenv: getenv, Fix: fix, Version: app.Version,
		Connect: doctor.Wiring{StoreConfig: wiring.StoreConfig, Logger: slog.New(slog.DiscardHandler)},
		// "No successful run for 30 minutes" must reach the owner even
		// when cron itself stopped: doctor checks the alerts too.
		Alerts: func(ctx context.Context) (int, bool, error) { return sendAlerts(ctx, getenv) },
	})
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return app.ExitFail
	}
	if rep.Failed() {
		return app.ExitFail
	}
	return app.ExitOK
}

func sendAlerts(ctx context.Context, getenv func(string) string) (sent int, configured bool, err error) {
	env, err := wiring.Open(ctx, config.NeedDB, app.Options{Getenv: getenv, AnySchema: true})
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			return 0, false, nil // doctor has already listed the config problems
		}
		return 0, false, err
	}
	defer env.Close()
	c := env.Config
	tg := alert.NewTelegram(c.AlertTelegramBotToken.Reveal(), c.AlertTelegramChatID, c.AlertTelegramAPIBase, nil)
	n := alert.New(tg, env.Store, env.Log, alert.Policy{})
	if !n.Enabled() {
		return 0, false, nil
	}
	keys, err := n.CheckSource(ctx, env.Store, time.Now())
	return len(keys), true, err
}
