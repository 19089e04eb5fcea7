package domain

import "fmt"

// Result is what a run, a task or a check tells the shop owner: ok (nothing
// failed), warn (the run went on but something was set aside, refused or
// needs a look) or error (the run was stopped: configuration, database,
// authorization or ban). Programs map it to their exit code (0, 1, 1; 2 for
// a SettingError) and to the OK/WARN/ERROR word of cron.cgi.
type Result string

const (
	ResultOK    Result = "ok"
	ResultWarn  Result = "warn"
	ResultError Result = "error"
)

// Worse returns the more serious of two results.
func (r Result) Worse(o Result) Result {
	if rank(o) > rank(r) {
		return o
	}
	return r
}

func rank(r Result) int {
	switch r {
	case ResultError:
		return 2
	case ResultWarn:
		return 1
	}
	return 0
}

// SettingError is a value from .env that the account or the API refuses:
// AMO_PIPELINE_ID naming no pipeline, AMO_STATUS_ID naming the incoming
// stage, a field id the account lacks. It is a configuration error, not an
// order's: the run stops before any further create, no order records an
// attempt, and programs report it naming the key and value (exit 2, ERROR).
type SettingError struct {
	Key    string // the .env key, e.g. AMO_STATUS_ID
	Value  string // the value as written in .env
	Reason string // Russian, for the owner: what is wrong and what to use instead
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("%s=%s: %s", e.Key, e.Value, e.Reason)
}
