// Package status collects what a shop owner needs to know about the
// integration right now — the last runs, the watermark, orders by step,
// quarantined orders, the amoCRM token and the rate-limit/ban state — into
// one Report, rendered as Russian plain text or as JSON. cron.cgi?task=status
// and doctor --status print it; pkg/alert decides from it what to tell.
package status

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// Refresh-token lifetime as amoCRM documents it (about three months from the
// last refresh); access tokens live a day.
const (
	RefreshTokenLifetime = 90 * 24 * time.Hour
	AccessTokenLifetime  = 24 * time.Hour
)

// Source is what the report reads. pkg/store satisfies it.
type Source interface {
	domain.Settings
	// StepCounts counts ledger rows per step ("quarantined" separately).
	StepCounts(ctx context.Context) (map[string]int, error)
	// LastRuns returns the n most recent runs of a task ("" = every
	// task), newest first.
	LastRuns(ctx context.Context, task string, n int) ([]domain.Run, error)
	// QuarantinedRecords returns quarantined rows, at most limit.
	QuarantinedRecords(ctx context.Context, limit int) ([]domain.Record, error)
	// Token returns the stored OAuth pair; domain.ErrNotFound when absent.
	Token(ctx context.Context, service string) (domain.Token, error)
	// SetAsideRecords lists the orders set aside now (waiting for a
	// retry or quarantined), at most limit.
	SetAsideRecords(ctx context.Context, limit int) ([]domain.Record, error)
	// LastDeal is the most recently created deal (ok false: none yet).
	LastDeal(ctx context.Context) (domain.Deal, bool, error)
	// DealTimes lists when each deal created since a time was created.
	DealTimes(ctx context.Context, since time.Time) ([]time.Time, error)
}

// Report is the state of the integration at one moment.
type Report struct {
	GeneratedAt time.Time `json:"generated_at"`
	// Tasks has one entry per task (fetch_new, reconcile), in that order.
	Tasks []TaskState `json:"tasks"`
	// Recent is the run log, newest first (every task).
	Recent []RunInfo `json:"recent_runs"`
	// Watermark is the creation time of the newest order safely ingested;
	// nil before the first successful fetch.
	Watermark   *time.Time     `json:"watermark,omitempty"`
	WatermarkMs int64          `json:"watermark_ms"`
	Steps       map[string]int `json:"orders_by_step"`
	Quarantined []Quarantined  `json:"quarantined"`
	Token       TokenState     `json:"amocrm_token"`
	Limit       LimitState     `json:"amocrm_limit"`
	// ContactIndex is how new customers' contacts are found.
	ContactIndex ContactIndex `json:"contact_index"`
	// KaspiStores is each Kaspi store's last listing, by store number
	// (empty with one store: the runs say it all).
	KaspiStores []KaspiStore `json:"kaspi_stores,omitempty"`
	// AmoMovedTo is the amoCRM account's new address, found when its
	// subdomain was renamed ("" when it was not): the sync already uses
	// it, and AMO_SUBDOMAIN in .env should be updated.
	AmoMovedTo string `json:"amocrm_moved_to,omitempty"`
	// Version is the program's version.
	Version string `json:"version"`
	// SetAside lists the orders set aside now: waiting for their next try
	// after a failure, or quarantined.
	SetAside []SetAside `json:"set_aside"`
	// LastDeal is the most recently created deal; nil before the first.
	LastDeal *DealInfo `json:"last_deal,omitempty"`
	// DealsPerDay counts the deals created per Almaty day, the last 14
	// days, oldest first (today last).
	DealsPerDay []DayCount `json:"deals_per_day"`
	// Problems lists what could not be read (the rest of the report is
	// still filled).
	Problems []string `json:"problems,omitempty"`
}

// SetAside is an order a failure set aside.
type SetAside struct {
	Code        string     `json:"code"`
	Attempts    int        `json:"attempts"`
	NextTry     *time.Time `json:"next_try,omitempty"` // nil: the next run
	Reason      string     `json:"reason"`
	Quarantined bool       `json:"quarantined"`
}

// DealInfo is one deal the integration created.
type DealInfo struct {
	Code      string    `json:"order_code"`
	LeadID    int64     `json:"lead_id"`
	CreatedAt time.Time `json:"created_at"`
}

// DayCount is the number of deals created on one Almaty day.
type DayCount struct {
	Day   string `json:"day"` // YYYY-MM-DD
	Deals int    `json:"deals"`
}

// TaskState summarises the runs of one task.
type TaskState struct {
	Task string `json:"task"`
	// Result is the last finished run's result (ok, warn, error; "" when
	// none finished yet) and Reason its first reason.
	Result string   `json:"result"`
	Reason string   `json:"reason,omitempty"`
	Last   *RunInfo `json:"last,omitempty"`
	LastOK *RunInfo `json:"last_ok,omitempty"`
	// FailuresInRow counts the finished runs that failed since the last
	// successful one (within the runs read).
	FailuresInRow int `json:"failures_in_row"`
}

// RunInfo is one run of the run log.
type RunInfo struct {
	Task       string     `json:"task"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Outcome is "ok", "failed" or "running" (not finished: still running
	// or crashed).
	Outcome string `json:"outcome"`
	// Result is ok, warn or error ("" while running); Reason says why.
	Result          string  `json:"result,omitempty"`
	Reason          string  `json:"reason,omitempty"`
	AmoRequests     int64   `json:"amocrm_requests"`
	DurationSeconds float64 `json:"duration_seconds"`
	Summary         string  `json:"summary,omitempty"`
}

// Quarantined is an order the sync gave up retrying automatically.
type Quarantined struct {
	Code      string    `json:"code"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	UpdatedAt time.Time `json:"updated_at"`
}

// TokenState describes the stored amoCRM tokens.
type TokenState struct {
	Present bool `json:"present"`
	// LongLived: an access token without a refresh token.
	LongLived       bool       `json:"long_lived"`
	AccessExpiresAt *time.Time `json:"access_expires_at,omitempty"`
	// RefreshExpiresAt is estimated: the last refresh (access expiry minus
	// a day) plus three months.
	RefreshExpiresAt *time.Time `json:"refresh_expires_at,omitempty"`
	RefreshDaysLeft  *int       `json:"refresh_days_left,omitempty"`
}

// KaspiStore is how one Kaspi store's last listing went.
type KaspiStore struct {
	No int `json:"no"`
	domain.KaspiStoreState
}

// LimitState is amoCRM's rate-limit state as pkg/amocrm recorded it: a
// 403 ban opens a circuit breaker for 30 minutes. (429 answers are only
// paused and retried within a run; the run summary counts them.)
type LimitState struct {
	Banned      bool       `json:"banned"`
	BannedUntil *time.Time `json:"banned_until,omitempty"`
	// RequestsLastHour counts the amoCRM requests of the runs started in
	// the last hour (within the runs read); amoCRM allows 7 a second.
	RequestsLastHour int64 `json:"requests_last_hour"`
}

// Options tune Collect. Zero values mean the defaults.
type Options struct {
	Now            time.Time // default time.Now()
	Version        string    // the program's version, shown as is
	RecentRuns     int       // run log entries read, every task (default 20)
	TaskRuns       int       // run log entries read per task (default 100)
	MaxQuarantined int       // quarantined rows listed (default 50)
}

// Collect reads the report. A part that cannot be read is named in
// Problems instead of failing the whole report: the status page is most
// needed exactly when something is broken. The error is non-nil only when
// nothing at all could be read.
func Collect(ctx context.Context, src Source, opt Options) (Report, error) {
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	if opt.RecentRuns <= 0 {
		opt.RecentRuns = 20
	}
	if opt.TaskRuns <= 0 {
		opt.TaskRuns = 100
	}
	if opt.MaxQuarantined <= 0 {
		opt.MaxQuarantined = 50
	}
	r := Report{GeneratedAt: now, Steps: map[string]int{}, Quarantined: []Quarantined{}, Recent: []RunInfo{},
		Version: opt.Version, SetAside: []SetAside{}}
	failed := 0
	problem := func(what string, err error) {
		failed++
		r.Problems = append(r.Problems, fmt.Sprintf("%s: %v", what, err))
	}

	runs, err := src.LastRuns(ctx, "", opt.RecentRuns)
	if err != nil {
		problem("run log", err)
	}
	for _, run := range runs {
		r.Recent = append(r.Recent, runInfo(run, now))
	}
	// Per task, a longer window: fetch_new runs every minute and would
	// push reconcile's last success out of the shared one.
	var perTask []RunInfo
	for _, task := range []string{domain.TaskFetchNew, domain.TaskReconcile} {
		if err != nil {
			break
		}
		var tr []domain.Run
		tr, err = src.LastRuns(ctx, task, opt.TaskRuns)
		if err != nil {
			problem("run log of "+task, err)
			break
		}
		for _, run := range tr {
			perTask = append(perTask, runInfo(run, now))
		}
	}
	r.Tasks = TaskStates(perTask)

	if states, err := domain.ReadKaspiStoreStates(ctx, src); err != nil {
		problem("Kaspi stores", err)
	} else {
		for no, st := range states {
			r.KaspiStores = append(r.KaspiStores, KaspiStore{No: no, KaspiStoreState: st})
		}
		sort.Slice(r.KaspiStores, func(i, j int) bool { return r.KaspiStores[i].No < r.KaspiStores[j].No })
	}

	if v, ok, err := src.Setting(ctx, domain.SettingWatermark); err != nil {
		problem("watermark", err)
	} else if ok {
		var ms int64
		if _, err := fmt.Sscan(v, &ms); err == nil && ms > 0 {
			t := time.UnixMilli(ms).In(Almaty())
			r.Watermark, r.WatermarkMs = &t, ms
		}
	}

	if v, ok, err := src.Setting(ctx, domain.SettingAmoBaseURL); err != nil {
		problem("amoCRM address", err)
	} else if ok && v != "" {
		r.AmoMovedTo = v // cleared once AMO_SUBDOMAIN names it
	}

	if ci, err := contactIndexState(ctx, src); err != nil {
		problem("contact index", err)
	} else {
		r.ContactIndex = ci
	}

	if steps, err := src.StepCounts(ctx); err != nil {
		problem("orders by step", err)
	} else {
		r.Steps = steps
	}

	if recs, err := src.QuarantinedRecords(ctx, opt.MaxQuarantined); err != nil {
		problem("quarantined orders", err)
	} else {
		for _, rec := range recs {
			r.Quarantined = append(r.Quarantined, Quarantined{
				Code: rec.Code, Attempts: rec.Attempts, LastError: rec.LastError, UpdatedAt: rec.UpdatedAt,
			})
		}
	}

	if recs, err := src.SetAsideRecords(ctx, opt.MaxQuarantined); err != nil {
		problem("set-aside orders", err)
	} else {
		for _, rec := range recs {
			sa := SetAside{Code: rec.Code, Attempts: rec.Attempts, Reason: rec.LastError, Quarantined: rec.Quarantined}
			if !rec.NextAttemptAt.IsZero() && !rec.Quarantined {
				t := rec.NextAttemptAt
				sa.NextTry = &t
			}
			r.SetAside = append(r.SetAside, sa)
		}
	}

	if d, ok, err := src.LastDeal(ctx); err != nil {
		problem("last deal", err)
	} else if ok {
		r.LastDeal = &DealInfo{Code: d.Code, LeadID: d.LeadID, CreatedAt: d.CreatedAt}
	}
	r.DealsPerDay = dealDays(now)
	since, _ := time.ParseInLocation("2006-01-02", r.DealsPerDay[0].Day, Almaty())
	if times, err := src.DealTimes(ctx, since); err != nil {
		problem("deals per day", err)
	} else {
		idx := map[string]int{}
		for i, d := range r.DealsPerDay {
			idx[d.Day] = i
		}
		for _, t := range times {
			if i, ok := idx[t.In(Almaty()).Format("2006-01-02")]; ok {
				r.DealsPerDay[i].Deals++
			}
		}
	}

	if tok, err := src.Token(ctx, domain.TokenServiceAmo); err != nil {
		if !errors.Is(err, domain.ErrNotFound) {
			problem("amoCRM token", err)
		}
	} else {
		r.Token = tokenState(tok, now)
	}

	r.Limit, err = limitState(ctx, src, now)
	if err != nil {
		problem("amoCRM limit state", err)
	}
	for _, run := range perTask {
		if now.Sub(run.StartedAt) < time.Hour {
			r.Limit.RequestsLastHour += run.AmoRequests
		}
	}
	if failed >= 9 {
		return r, fmt.Errorf("status: nothing could be read: %s", r.Problems[0])
	}
	return r, nil
}

// dealDays is the last 14 Almaty days up to today's, oldest first, with
// no deals counted yet.
func dealDays(now time.Time) []DayCount {
	today := now.In(Almaty())
	out := make([]DayCount, 14)
	for i := range out {
		out[i].Day = today.AddDate(0, 0, i-13).Format("2006-01-02")
	}
	return out
}

func runInfo(run domain.Run, now time.Time) RunInfo {
	ri := RunInfo{Task: run.Task, StartedAt: run.StartedAt, Summary: run.Summary, Result: string(run.Result), Reason: run.Reason,
		AmoRequests: run.AmoRequests}
	end := now
	switch {
	case run.FinishedAt.IsZero():
		ri.Outcome = "running"
	case run.OK:
		ri.Outcome = "ok"
	default:
		ri.Outcome = "failed"
	}
	if !run.FinishedAt.IsZero() {
		f := run.FinishedAt
		ri.FinishedAt = &f
		end = f
	}
	if d := end.Sub(run.StartedAt); d > 0 {
		ri.DurationSeconds = d.Round(100 * time.Millisecond).Seconds()
	}
	return ri
}

// TaskStates derives per-task state from the run log (newest first).
func TaskStates(recent []RunInfo) []TaskState {
	out := []TaskState{{Task: domain.TaskFetchNew}, {Task: domain.TaskReconcile}}
	idx := map[string]int{domain.TaskFetchNew: 0, domain.TaskReconcile: 1}
	stopped := map[string]bool{} // failures-in-row counting ended at an OK run
	for i := range recent {
		run := &recent[i]
		j, ok := idx[run.Task]
		if !ok {
			idx[run.Task] = len(out)
			j = len(out)
			out = append(out, TaskState{Task: run.Task})
		}
		ts := &out[j]
		if ts.Last == nil {
			ts.Last = run
		}
		if ts.Result == "" && run.Outcome != "running" {
			ts.Result, ts.Reason = run.Result, run.Reason
			if ts.Result == "" { // a report built from runs without results
				ts.Result = string(domain.ResultError)
				if run.Outcome == "ok" {
					ts.Result = string(domain.ResultOK)
				}
			}
		}
		switch run.Outcome {
		case "ok":
			if ts.LastOK == nil {
				ts.LastOK = run
			}
			stopped[run.Task] = true
		case "failed":
			if !stopped[run.Task] {
				ts.FailuresInRow++
			}
		}
	}
	return out
}

func tokenState(tok domain.Token, now time.Time) TokenState {
	ts := TokenState{Present: tok.AccessToken != ""}
	if !ts.Present {
		return ts
	}
	if tok.ExpiresAt > 0 {
		t := time.Unix(tok.ExpiresAt, 0)
		ts.AccessExpiresAt = &t
	}
	if tok.RefreshToken == "" {
		ts.LongLived = true
		return ts
	}
	if exp, ok := RefreshExpiry(tok); ok {
		days := int(exp.Sub(now).Hours() / 24)
		if exp.Before(now) {
			days = 0
		}
		ts.RefreshExpiresAt, ts.RefreshDaysLeft = &exp, &days
	}
	return ts
}

// RefreshExpiry estimates when the refresh token dies: amoCRM issues a pair
// whose access token lives a day and whose refresh token lives about three
// months, so the last refresh was ExpiresAt minus a day.
func RefreshExpiry(tok domain.Token) (time.Time, bool) {
	if tok.RefreshToken == "" || tok.ExpiresAt <= 0 {
		return time.Time{}, false
	}
	refreshed := time.Unix(tok.ExpiresAt, 0).Add(-AccessTokenLifetime)
	return refreshed.Add(RefreshTokenLifetime), true
}

// Almaty is the shops' time zone (Kaspi's dates are Almaty dates).
var Almaty = domain.Almaty

// sortedSteps lists step names in the state machine's order, others after.
func sortedSteps(m map[string]int) []string {
	order := map[string]int{
		string(domain.StepNew): 0, string(domain.StepLeadRequested): 1, string(domain.StepLeadCreated): 2,
		string(domain.StepLinked): 3, string(domain.StepDone): 4, "quarantined": 5,
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		oi, iok := order[keys[i]]
		oj, jok := order[keys[j]]
		switch {
		case iok && jok:
			return oi < oj
		case iok != jok:
			return iok
		}
		return keys[i] < keys[j]
	})
	return keys
}
