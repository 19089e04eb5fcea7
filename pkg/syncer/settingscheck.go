package syncer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"kaspi-amocrm/pkg/domain"
)

// A value from .env that the account lacks (a pipeline, a stage, a user)
// or cannot use (the incoming stage) is a configuration error, not an
// order's: the run stops before any further create with a
// *domain.SettingError, and no order records an attempt. The account's
// lists are read once and cached in settings, and read again only when
// the checked .env values change or amoCRM refuses one of them.

const keyAccountLists = "amocrm_account_lists"

type cachedLists struct {
	Key   string              `json:"key"` // hash of the .env values checked against them
	Lists domain.AccountLists `json:"lists"`
}

// settingsToCheck are the values of every Kaspi store, store 1 first.
func (r *run) settingsToCheck() []domain.SettingsCheck {
	out := make([]domain.SettingsCheck, 0, len(r.stores))
	for _, st := range r.stores {
		out = append(out, domain.SettingsCheck{PipelineID: st.PipelineID, StatusID: st.StatusID,
			ResponsibleUserID: st.ResponsibleUserID, StatusMap: st.StatusMap, Suffix: st.Suffix,
			StoreMap: st.No > 1 && st.OwnStatusMap})
	}
	return out
}

func (r *run) settingsKey() string {
	var b strings.Builder
	for i, c := range r.settingsToCheck() {
		if i > 0 {
			fmt.Fprintf(&b, "|%s:", c.Suffix)
		}
		fmt.Fprintf(&b, "%d/%d/%d", c.PipelineID, c.StatusID, c.ResponsibleUserID)
		keys := make([]string, 0, len(c.StatusMap))
		for k := range c.StatusMap {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, "/%s=%d", k, c.StatusMap[k])
		}
	}
	h := sha256.Sum256([]byte(b.String()))
	return hex.EncodeToString(h[:8])
}

// checkSettings checks the .env values against the account's lists, once
// per run (fresh: read the lists again, after amoCRM refused a value).
// A temporary failure to read the lists is logged and the check is tried
// again before the next create.
func (r *run) checkSettings(ctx context.Context, fresh bool) error {
	if r.account == nil || (r.settingsChecked && !fresh) {
		return nil
	}
	lists, err := r.accountLists(ctx, fresh)
	if err != nil {
		if fatal(err) {
			return fmt.Errorf("amocrm: account lists: %w", err)
		}
		r.noteTransient(err)
		r.log.Warn("cannot read the account's pipelines and users; .env values not checked", "err", err)
		return nil
	}
	r.settingsChecked = true
	if lists.Timezone != "" {
		if z, err := time.LoadLocation(lists.Timezone); err == nil {
			r.accountZone = z
		} else {
			r.log.Warn("unknown amoCRM account time zone; date fields use Asia/Almaty", "timezone", lists.Timezone)
		}
	}
	for _, c := range r.settingsToCheck() {
		if se := lists.CheckSettings(c); se != nil {
			r.log.Error("a setting from .env is refused; nothing is created until it is fixed", "key", se.Key, "value", se.Value, "reason", se.Reason)
			return se
		}
	}
	if lists.UsersSkipped != "" && r.cfg.ResponsibleUserID != 0 {
		r.log.Warn("AMO_RESPONSIBLE_USER_ID not checked", "reason", lists.UsersSkipped)
	}
	return nil
}

func (r *run) accountLists(ctx context.Context, fresh bool) (domain.AccountLists, error) {
	key := r.settingsKey()
	if !fresh {
		raw, ok, err := r.ledger.Setting(ctx, keyAccountLists)
		if err != nil {
			return domain.AccountLists{}, lerr("read account lists", err)
		}
		var c cachedLists
		if ok && json.Unmarshal([]byte(raw), &c) == nil && c.Key == key {
			return c.Lists, nil
		}
	}
	lists, err := r.account.AccountLists(ctx)
	if err != nil {
		return lists, err
	}
	b, err := json.Marshal(cachedLists{Key: key, Lists: lists})
	if err == nil {
		err = r.ledger.SetSetting(ctx, keyAccountLists, string(b))
	}
	if err != nil {
		return lists, lerr("cache account lists", err)
	}
	return lists, nil
}

// settingRefused reports whether amoCRM's refusal names a value that
// comes from .env.
func settingRefused(problems []domain.FieldProblem) bool {
	for _, p := range problems {
		switch p.Path {
		case "pipeline_id", "status_id", "responsible_user_id":
			return true
		}
	}
	return false
}

// refusedSetting is called when amoCRM refused .env values on a create:
// the lists are read again; a value the account lacks stops the run (the
// refused orders go back to step new, with no attempt recorded). nil: the
// account has the values, the refusal is the orders' own.
func (r *run) refusedSetting(ctx context.Context, codes []string) error {
	err := r.checkSettings(ctx, true)
	var se *domain.SettingError
	if !errors.As(err, &se) {
		return err
	}
	if len(codes) > 0 {
		if lerr := r.ledger.SetStep(ctx, codes, domain.StepNew, r.now()); lerr != nil {
			return ledgerErr{fmt.Errorf("ledger: undo lead intent: %w", lerr)}
		}
	}
	return err
}

// checkFieldSettings checks the lead custom field ids of .env against the
// account's fields, once per run and only when deals are to be created
// (leadFields, which the deals need anyway).
func (r *run) checkFieldSettings(ctx context.Context) error {
	if _, err := r.leadFields(ctx); err != nil {
		var se *domain.SettingError
		if errors.As(err, &se) {
			r.log.Error("a setting from .env is refused; nothing is created until it is fixed", "key", se.Key, "value", se.Value, "reason", se.Reason)
			return err
		}
		if fatal(err) {
			return fmt.Errorf("amocrm: lead custom fields: %w", err)
		}
		// A temporary failure: createLeads reads the fields again.
	}
	return nil
}

// checkContactField checks AMO_CONTACT_ADDRESS_FIELD_ID against the
// account's contact fields, once per run and only right before contacts
// are created (a run whose customers are all known pays nothing for it).
func (r *run) checkContactField(ctx context.Context) error {
	if r.cfg.ContactAddressFieldID == 0 || r.contactFieldChecked {
		return nil
	}
	defs, err := r.crm.CustomFields(ctx, "contacts")
	if err != nil {
		if fatal(err) {
			return fmt.Errorf("amocrm: contact custom fields: %w", err)
		}
		r.noteTransient(err)
		return nil // checked again before the next create
	}
	for _, d := range defs {
		if d.ID == r.cfg.ContactAddressFieldID {
			r.contactFieldChecked = true
			return nil
		}
	}
	se := missingField("AMO_CONTACT_ADDRESS_FIELD_ID", r.cfg.ContactAddressFieldID, "контактов", defs)
	r.log.Error("a setting from .env is refused; nothing is created until it is fixed", "key", se.Key, "value", se.Value, "reason", se.Reason)
	return se
}

// missingField is the configuration error of a custom field id the
// account's entity (сделок, контактов) lacks, listing the fields it has.
func missingField(key string, id int64, entity string, defs []domain.FieldDef) *domain.SettingError {
	var have []string
	for _, d := range defs {
		if len(have) == 15 {
			have = append(have, "…")
			break
		}
		have = append(have, fmt.Sprintf("%d — %s", d.ID, d.Name))
	}
	reason := "такого поля у " + entity + " в amoCRM нет"
	if len(have) > 0 {
		reason += "; есть: " + strings.Join(have, "; ")
	}
	return &domain.SettingError{Key: key, Value: fmt.Sprint(id), Reason: reason + " (0 — не заполнять)"}
}
