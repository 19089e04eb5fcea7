package app

import (
	"errors"
	"io"
	"log/slog"
	"os"

	"kaspi-amocrm/pkg/applog"
	"kaspi-amocrm/pkg/config"
	"kaspi-amocrm/pkg/domain"
)

// Needs of the programs: what each cannot work without.
const (
	NeedSync    = config.NeedDB | config.NeedKaspi | config.NeedAmo
	NeedMigrate = config.NeedDB
	NeedOAuth   = config.NeedDB | config.NeedAmo | config.NeedOAuth
	NeedMapping = config.NeedDB
)

// ExitCode is the exit code of a program that failed with err: 2 for a
// configuration problem, 1 for everything else (database, auth, ban).
func ExitCode(err error) int {
	var ce *config.Error
	var se *domain.SettingError
	if errors.As(err, &ce) || errors.As(err, &se) {
		return 2
	}
	return 1
}

// Options tune how a program finds its root, reads its .env and opens its
// log (LoadConfig, OpenLog) and its database (pkg/app/wiring).
type Options struct {
	// Getenv reads the process environment; nil means os.Getenv.
	Getenv func(string) string
	// Paths, when Root is set, skips locating the app root.
	Paths Paths
	// LogAlso receives every log line too (stderr for a shell run).
	LogAlso io.Writer
	// Log, when set, is used instead of opening the daily log file.
	Log *slog.Logger
	// NoStore skips opening the database.
	NoStore bool
	// AnySchema opens the database without checking its schema (migrate).
	AnySchema bool
}

// GetenvFunc returns Getenv, or os.Getenv when it is nil.
func (o Options) GetenvFunc() func(string) string {
	if o.Getenv != nil {
		return o.Getenv
	}
	return os.Getenv
}

// LoadConfig locates the app root (unless given) and reads its .env.
func LoadConfig(need config.Need, o Options) (Paths, config.Config, error) {
	p := o.Paths
	if p.Root == "" {
		var err error
		if p, err = Locate(o.GetenvFunc()); err != nil {
			return p, config.Config{}, err
		}
	}
	cfg, err := config.Load(p.Root, o.GetenvFunc(), need)
	ApplyLimits(cfg.MemoryLimitMB) // every program and request passes here (limits.go)
	return p, cfg, err
}

// secretsOf lists the values the log must never show.
func secretsOf(c config.Config) []string {
	var out []string
	for _, s := range []config.Secret{c.KaspiAPIToken, c.AmoClientSecret, c.AmoAccessToken, c.AmoRefreshToken,
		c.CronSecret, c.DB.Pass, c.AlertTelegramBotToken} {
		if s.IsSet() {
			out = append(out, s.Reveal())
		}
	}
	for _, st := range c.KaspiStores {
		if st.No > 1 && st.Token.IsSet() {
			out = append(out, st.Token.Reveal())
		}
	}
	return out
}

// OpenLog opens the daily log file under p.Logs with every secret of cfg
// redacted; also, when set, receives every line too.
func OpenLog(p Paths, cfg config.Config, also io.Writer) (*slog.Logger, io.Closer, error) {
	return applog.OpenWith(applog.Options{Dir: p.Logs, RetentionDays: cfg.LogRetentionDays, Also: also, Secrets: secretsOf(cfg)})
}

// StderrLog is the log of a program whose log file cannot be written:
// stderr, secrets of cfg redacted.
func StderrLog(cfg config.Config) *slog.Logger {
	return slog.New(applog.NewHandler(os.Stderr, slog.LevelInfo, secretsOf(cfg)...))
}
