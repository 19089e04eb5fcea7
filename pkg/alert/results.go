package alert

import (
	"context"
	"encoding/json"
	"fmt"

	"kaspi-amocrm/pkg/domain"
	"kaspi-amocrm/pkg/status"
)

// ResultsKey is the settings key holding the last result told per task
// (JSON object: task → ok|warn|error).
const ResultsKey = "alert_task_results"

// KindResult is the alert about a task's result changing: the first warn
// or error after an ok, a worse result, and the recovery to ok.
const KindResult = "result"

var taskTitles = map[string]string{
	domain.TaskFetchNew:  "новые заказы (fetch_new)",
	domain.TaskReconcile: "сверка (reconcile)",
}

// ResultChanges lists the alerts the tasks' last results call for, given
// the results told before (a task absent from told counts as ok), and the
// results to remember. A result that stays the same, or gets better
// without reaching ok, says nothing: no alert repeats every minute.
func ResultChanges(r status.Report, told map[string]string) ([]Alert, map[string]string) {
	var out []Alert
	next := map[string]string{}
	for k, v := range told {
		next[k] = v
	}
	for _, ts := range r.Tasks {
		cur := domain.Result(ts.Result)
		if cur == "" {
			continue
		}
		prev := domain.Result(told[ts.Task])
		if prev == "" {
			prev = domain.ResultOK
		}
		if cur == prev {
			continue
		}
		title := taskTitles[ts.Task]
		if title == "" {
			title = ts.Task
		}
		key := KindResult + ":" + ts.Task
		switch {
		case cur == domain.ResultOK:
			out = append(out, Alert{Key: key, Text: fmt.Sprintf("✓ Kaspi → amoCRM: %s — снова без ошибок.", title)})
		case prev.Worse(cur) == cur: // ok → warn/error, warn → error
			mark, word := status.ResultSign(string(cur))
			text := fmt.Sprintf("%s Kaspi → amoCRM: %s — %s", mark, title, word)
			if ts.Reason != "" {
				text += ": " + short(ts.Reason)
			}
			text += "\nПодробности: cron.cgi?task=status или bin/doctor --status."
			out = append(out, Alert{Key: key, Text: text})
		default: // error → warn: better, not yet ok; remembered silently
			next[ts.Task] = string(cur)
			continue
		}
		next[ts.Task] = string(cur)
	}
	return out, next
}

// checkResults sends the result-change alerts and remembers each one sent;
// an alert that could not be sent is tried again next time.
func (n *Notifier) checkResults(ctx context.Context, r status.Report) ([]string, error) {
	told := map[string]string{}
	v, ok, err := n.settings.Setting(ctx, ResultsKey)
	if err != nil {
		return nil, fmt.Errorf("alert: read %s: %w", ResultsKey, err)
	}
	if ok && v != "" {
		_ = json.Unmarshal([]byte(v), &told) // a damaged value costs one alert at most
	}
	alerts, next := ResultChanges(r, told)
	var keys []string
	var firstErr error
	for _, a := range alerts {
		task := a.Key[len(KindResult)+1:]
		if err := n.tg.Send(ctx, a.Text); err != nil {
			n.log.Warn("alert not sent", "alert", a.Key, "err", err)
			if firstErr == nil {
				firstErr = err
			}
			next[task] = told[task] // try again next time
			continue
		}
		n.log.Info("alert sent", "alert", a.Key)
		keys = append(keys, a.Key)
	}
	if len(alerts) == 0 && len(next) == len(told) {
		same := true
		for k, v := range next {
			if told[k] != v {
				same = false
			}
		}
		if same {
			return keys, firstErr
		}
	}
	raw, _ := json.Marshal(next)
	if err := n.settings.SetSetting(ctx, ResultsKey, string(raw)); err != nil {
		return keys, fmt.Errorf("alert: save %s: %w", ResultsKey, err)
	}
	return keys, firstErr
}
