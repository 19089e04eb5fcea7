package runner

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/app/endpoints"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/status"
	"kaspi-amocrm/pkg/web"
)

// CronHandler serves cron.cgi?task=new|reconcile|status.
func CronHandler(o app.Options) http.Handler {
	return endpoints.WebHandler(o, app.NeedSync, false, func(cfg config.Config, log *slog.Logger, lz *endpoints.Lazy) (http.Handler, error) {
		return &web.Cron{Secret: cfg.CronSecret.Reveal(), Tasks: cronTasks{lz}, Log: log}, nil
	})
}

type cronTasks struct{ lz *endpoints.Lazy }

func (t cronTasks) Run(ctx context.Context, task string) (domain.Result, string, error) {
	env, err := t.lz.Get(ctx)
	if err != nil {
		return domain.ResultError, "", err
	}
	sum, err := Run(ctx, env, task, Options{})
	if err != nil {
		return domain.ResultError, "", err
	}
	return sum.Result, AnswerLine(sum), nil
}

func (t cronTasks) Status(ctx context.Context, format string) (string, error) {
	// The report needs the database only; a missing Kaspi token must not
	// hide it.
	t.lz.Need = config.NeedDB
	env, err := t.lz.Get(ctx)
	if err != nil {
		return "", err
	}
	rep, err := status.Collect(ctx, env.Store, status.Options{Version: app.Version})
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := status.Write(&b, rep, format); err != nil {
		return "", err
	}
	return b.String(), nil
}
