package domain

import "testing"

// The PHP version reads and writes the settings and token names on the
// same database, and shops' crontabs and cron.cgi links call the task
// names: a rename would lose a shop's watermark or token, or stop its
// cron jobs.
func TestSettingKeys_KeepThePHPNames(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{SettingWatermark, "last_creation_ms"},
		{SettingWatermarkOf(0), "last_creation_ms"},
		{SettingWatermarkOf(1), "last_creation_ms"},
		{SettingWatermarkOf(2), "last_creation_ms_2"},
		{SettingWatermarkOf(9), "last_creation_ms_9"},
		{TokenServiceAmo, "amocrm"},
		{TaskNewAlias, "new"},
		{TaskFetchNew, "fetch_new"},
		{TaskReconcile, "reconcile"},
	} {
		if c.got != c.want {
			t.Errorf("key %q, want %q", c.got, c.want)
		}
	}
}
