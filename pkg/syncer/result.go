package syncer

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"kaspi-amocrm/pkg/domain"
)

// AddWarning makes the run's result at least warn and records why. Callers
// outside the engine (the wiring) add their own warnings the same way.
func (s *Summary) AddWarning(reason string) {
	s.Result = s.Result.Worse(domain.ResultWarn)
	if reason = strings.TrimSpace(reason); reason != "" {
		s.Reasons = append(s.Reasons, reason)
	}
}

// Reason is the first reason of a warn or error ("" for ok).
func (s Summary) Reason() string {
	if len(s.Reasons) == 0 {
		return ""
	}
	return s.Reasons[0]
}

// Counts is the summary's counters in words a shop owner uses: what was
// found in Kaspi, what was created (and how many of those were orders of
// earlier runs, retried), what is waiting, set aside or quarantined.
func (s Summary) Counts() string {
	var b strings.Builder
	fmt.Fprintf(&b, "новых заказов в Kaspi %d, создано сделок %d", s.Found, s.Created)
	if s.Retried > 0 {
		fmt.Fprintf(&b, " (из них по заказам прошлых запусков %d)", s.Retried)
	}
	fmt.Fprintf(&b, ", ждут обработки %d, отложено с ошибкой %d, в карантине %d", s.Pending, s.Failed, s.Quarantined)
	if s.Rejected > 0 {
		fmt.Fprintf(&b, ", отклонено как испорченные %d", s.Rejected)
	}
	if s.Task == domain.TaskReconcile {
		fmt.Fprintf(&b, ", сделок перемещено по этапам %d, примечаний %d, заказов перепроверено в Kaspi %d", s.Moved, s.Notes, s.Refreshed)
	}
	if s.Accepted > 0 || s.KaspiRefused > 0 {
		fmt.Fprintf(&b, ", принято в Kaspi %d, Kaspi отказал %d", s.Accepted, s.KaspiRefused)
	}
	if s.KaspiActions > 0 {
		fmt.Fprintf(&b, ", действий в Kaspi по этапам сделок %d", s.KaspiActions)
	}
	fmt.Fprintf(&b, "; запросов к amoCRM %d, к Kaspi %d; %s с", s.AmoRequests, s.KaspiReqs, strings.Replace(fmt.Sprintf("%.1f", s.Seconds), ".", ",", 1))
	return b.String()
}

// settle sets the result of a finished run from its error and what it
// saw: an error stops it (error); orders set aside by this run, or still
// waiting for a retry after an earlier failure, make it warn.
func (r *run) settle(err error, waiting int, waitingReason string) {
	if err != nil {
		r.sum.Result = domain.ResultError
		r.sum.Reasons = append([]string{domain.Explain(err)}, r.sum.Reasons...)
		return
	}
	if r.sum.Result == "" {
		r.sum.Result = domain.ResultOK
	}
	if r.sum.Failed > 0 {
		r.sum.AddWarning("")
	}
	if r.sum.Failed == 0 && waiting > 0 {
		r.sum.AddWarning(fmt.Sprintf("%d %s ждут повтора после ошибки: %s", waiting, orders(waiting), waitingReason))
	}
}

// orders is the Russian plural of «заказ» after n.
func orders(n int) string {
	switch {
	case n%10 == 1 && n%100 != 11:
		return "заказ"
	case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
		return "заказа"
	}
	return "заказов"
}

// apiText is what amoCRM or Kaspi said about a refused request, without
// our own Go prefixes: the validation messages when there are some.
func apiText(err error) string {
	var ve *domain.ValidationError
	if errors.As(err, &ve) && len(ve.Items) > 0 {
		keys := make([]string, 0, len(ve.Items))
		for k := range ve.Items {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var msgs []string
		for _, k := range keys {
			msgs = append(msgs, ve.Items[k]...)
		}
		return oneLine(strings.Join(msgs, "; "))
	}
	return oneLine(err.Error())
}
