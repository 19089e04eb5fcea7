package runner

// The one place a finished run is put into words for whoever started it:
// the shell and the scheduler's output (tell), cron.cgi's answer
// (AnswerLine) and the exit code (ExitFor). The summary line itself is
// syncer.Summary's.

import (
	"fmt"
	"io"
	"log/slog"

	"kaspi-amocrm/pkg/app"
	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/syncer"
)

// tell prints a finished run: its summary line on out (after stamp, when
// set), then on errOut "<task>: ВНИМАНИЕ: <first reason>" for a warn or an
// error with a reason; a run stopped by err is logged and told on errOut
// as "<task>: ОШИБКА: <explanation>" instead.
func tell(out, errOut io.Writer, log *slog.Logger, stamp, task string, sum syncer.Summary, err error) {
	if err != nil {
		log.Error(task+" failed", slog.String("error", err.Error()))
		fmt.Fprintln(errOut, task+": ОШИБКА: "+domain.Explain(err))
		return
	}
	if stamp != "" {
		fmt.Fprintln(out, stamp, sum.String())
	} else {
		fmt.Fprintln(out, sum.String())
	}
	if r := toldReason(sum); r != "" {
		fmt.Fprintln(errOut, task+": ВНИМАНИЕ: "+r)
	}
}

// toldReason is the reason a run's words name: the first one, unless the
// run was ok.
func toldReason(s syncer.Summary) string {
	if s.Result == domain.ResultOK {
		return ""
	}
	return s.Reason()
}

// AnswerLine is what follows "<WORD> <task>: " in cron.cgi's answer: the
// counts, and for a warn or an error the first reason.
func AnswerLine(s syncer.Summary) string {
	line := s.Counts()
	if r := toldReason(s); r != "" {
		return line + ". Причина: " + r
	}
	return line
}

// ExitFor is a finished run's exit code: 0 ok, 1 warn or a run stopped by
// the database, a token or a ban, 2 a configuration error (a .env value
// the account refuses, a bad .env).
func ExitFor(sum syncer.Summary, err error) int {
	if err != nil {
		return app.ExitCode(err) // a SettingError is a configuration error
	}
	if sum.Result == domain.ResultOK || sum.Result == "" {
		return app.ExitOK
	}
	return app.ExitFail
}
