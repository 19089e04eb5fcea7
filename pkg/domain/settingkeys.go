package domain

import "strconv"

// The names below are read or written by more than one package (the sync
// writes what the status page, doctor and the alerts read), so each has
// this one declaration: a rename here reaches every reader, and none can
// keep reading a key nobody writes any more. Keys marked PHP are the PHP
// version's and must keep their value, or an old database loses its state.

// Settings keys (table settings).
const (
	// SettingWatermark is store 1's fetch watermark (PHP): epoch ms of the
	// newest order creationDate safely in the ledger. Other stores' keys
	// come from SettingWatermarkOf.
	SettingWatermark = "last_creation_ms"
	// SettingAmoBannedUntil is written by the amoCRM client when amoCRM
	// answers a 403 ban: the unix time (seconds) until which its circuit
	// breaker keeps every request away.
	SettingAmoBannedUntil = "amocrm_banned_until"
	// SettingAmoBaseURL is the amoCRM account's base URL found after the
	// account moved to another subdomain; it wins over AMO_SUBDOMAIN until
	// .env is updated.
	SettingAmoBaseURL = "amocrm_base_url"
	// SettingAmoAccountID is the amoCRM account id the stored tokens
	// belong to.
	SettingAmoAccountID = "amocrm_account_id"
	// SettingKaspiStoreStates is each Kaspi store's last listing outcome
	// (KaspiStoreState by store number, JSON), written by the sync when
	// several stores are configured and read by the status report.
	SettingKaspiStoreStates = "kaspi_store_states"
	// ContactIndexKey holds the ContactIndexState as JSON.
	ContactIndexKey = "amo_contact_index"
	// SettingUnsureChangeNotes lists (JSON) the orders whose change note
	// may have been written although amoCRM's answer was lost: the next
	// reconcile reads their deal's notes before writing it again.
	SettingUnsureChangeNotes = "change_notes_unsure"
)

// SettingWatermarkOf is the settings key of Kaspi store no's fetch
// watermark: store 1 keeps the PHP version's key, so an old database
// continues; store n > 1 has last_creation_ms_n.
func SettingWatermarkOf(no int) string {
	if no <= 1 {
		return SettingWatermark
	}
	return SettingWatermark + "_" + strconv.Itoa(no)
}

// Task names, as the run log records them, the binaries are named and
// the scheduler and the alerts know them.
const (
	TaskFetchNew  = "fetch_new"
	TaskReconcile = "reconcile"
	// TaskNewAlias is cron.cgi's name for fetch_new (task=new), the PHP
	// version's.
	TaskNewAlias = "new"
)

// TokenServiceAmo is the oauth_tokens row (column service) of amoCRM's
// OAuth pair (PHP).
const TokenServiceAmo = "amocrm"
