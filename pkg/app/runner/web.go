package runner

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/status"
	"kaspi-amocrm/pkg/web"
)

// CronHandler serves cron.cgi?task=new|reconcile|status.
func CronHandler(o app.Options) http.Handler {
	return app.WebHandler(o, app.NeedSync, false, func(cfg config.Config, log *slog.Logger, lz *app.Lazy) (http.Handler, error) {
		return &web.Cron{Secret: cfg.CronSecret.Reveal(), Tasks: cronTasks{lz}, Log: log}, nil
	})
}

type cronTasks struct{ lz *app.Lazy }

func (t cronTasks) Run(ctx context.Context, task string) (string, error) {
	env, err := t.lz.Get(ctx)
	if err != nil {
		return "", err
	}
	sum, err := Run(ctx, env, task, Options{})
	if err != nil {
		return "", err
	}
	return SummaryLine(sum), nil
}

func (t cronTasks) Status(ctx context.Context, asJSON bool) (string, error) {
	// The report needs the database only; a missing Kaspi token must not
	// hide it.
	t.lz.Need = config.NeedDB
	env, err := t.lz.Get(ctx)
	if err != nil {
		return "", err
	}
	rep, err := status.Collect(ctx, env.Store, status.Options{})
	if err != nil {
		return "", err
	}
	format := status.FormatText
	if asJSON {
		format = status.FormatJSON
	}
	var b bytes.Buffer
	if err := status.Write(&b, rep, format); err != nil {
		return "", err
	}
	return b.String(), nil
}
