package domain

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// StageIncoming is the status type of a pipeline's incoming stage
// ("Неразобранное"): amoCRM takes no lead into it through POST or PATCH
// /api/v4/leads (400 NotSupportedChoice on status_id); only the unsorted
// API puts leads there.
const StageIncoming = 1

// Stage is a pipeline stage as the account lists it.
type Stage struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Type int    `json:"type"` // StageIncoming or 0
}

// StageRef names a stage across pipelines: a status id is unique to its
// pipeline except for the shared 142 and 143.
type StageRef struct {
	PipelineID, StatusID int64
}

// PipelineInfo is a pipeline with its stages.
type PipelineInfo struct {
	ID     int64   `json:"id"`
	Name   string  `json:"name"`
	IsMain bool    `json:"is_main"`
	Stages []Stage `json:"stages"`
}

// UserInfo is an account user.
type UserInfo struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// AccountLists are the account's lists the .env values are checked
// against. UsersSkipped, when set, says why Users could not be read (the
// check of the responsible user is then skipped).
type AccountLists struct {
	Pipelines    []PipelineInfo `json:"pipelines"`
	Users        []UserInfo     `json:"users"`
	UsersSkipped string         `json:"users_skipped,omitempty"`
	// Timezone is the account's IANA zone (datetime_settings.timezone);
	// date fields are midnights there.
	Timezone string `json:"timezone,omitempty"`
}

// AccountReader is implemented by a CRM that can list the account's
// pipelines and users.
type AccountReader interface {
	AccountLists(ctx context.Context) (AccountLists, error)
}

func (a AccountLists) pipeline(id int64) *PipelineInfo {
	for i := range a.Pipelines {
		if a.Pipelines[i].ID == id {
			return &a.Pipelines[i]
		}
	}
	return nil
}

// stageOf finds a stage in the pipeline (any pipeline when pipelineID is 0).
func (a AccountLists) stageOf(pipelineID, id int64) (*PipelineInfo, *Stage) {
	for i := range a.Pipelines {
		p := &a.Pipelines[i]
		if pipelineID != 0 && p.ID != pipelineID {
			continue
		}
		for j := range p.Stages {
			if p.Stages[j].ID == id {
				return p, &p.Stages[j]
			}
		}
	}
	return nil, nil
}

// usableStages lists the stages a deal can be put in: not incoming, not
// won or lost.
func usableStages(p PipelineInfo) string {
	var parts []string
	for _, s := range p.Stages {
		if s.Type != StageIncoming && s.ID != StatusWon && s.ID != StatusLost {
			parts = append(parts, fmt.Sprintf("%d — %s", s.ID, s.Name))
		}
	}
	if len(parts) == 0 {
		return "нет ни одного"
	}
	return strings.Join(parts, "; ")
}

func (a AccountLists) pipelineList() string {
	var parts []string
	for _, p := range a.Pipelines {
		parts = append(parts, fmt.Sprintf("%d — %s", p.ID, p.Name))
	}
	if len(parts) == 0 {
		return "нет ни одной"
	}
	return strings.Join(parts, "; ")
}

// IncomingStage is the SettingError for key=value naming the incoming
// stage of pipeline p.
func IncomingStage(key, value string, p PipelineInfo, s Stage) *SettingError {
	return &SettingError{Key: key, Value: value, Reason: fmt.Sprintf(
		"это этап «%s» воронки «%s» (входящие заявки, «Неразобранное»): amoCRM не принимает в него сделки через API; укажите другой этап этой воронки: %s",
		s.Name, p.Name, usableStages(p))}
}

// SettingsCheck is what CheckSettings checks: the .env values (0 = unset).
type SettingsCheck struct {
	PipelineID, StatusID, ResponsibleUserID int64
	StatusMap                               map[string]int64 // AMO_STATUS_MAP
	// Suffix is the key suffix of the Kaspi store the values belong to
	// ("" for store 1, "_2" …): errors name that store's keys.
	Suffix string
	// StoreMap: StatusMap is a Kaspi store's own map (AMO_STATUS_MAP_n); a
	// stage of another pipeline than PipelineID in it is refused. (Store
	// 1's map keeps the older rule: amoCRM's refusal of the move is
	// reported on the order.)
	StoreMap bool
}

// CheckSettings checks the .env values against the account's lists and
// returns the first refused one as a *SettingError (nil: all usable).
func (a AccountLists) CheckSettings(c SettingsCheck) *SettingError {
	var target *PipelineInfo
	if c.PipelineID != 0 {
		if target = a.pipeline(c.PipelineID); target == nil {
			return &SettingError{Key: "AMO_PIPELINE_ID" + c.Suffix, Value: itoa(c.PipelineID),
				Reason: "такой воронки в amoCRM нет; есть: " + a.pipelineList()}
		}
	}
	if c.StatusID != 0 && c.StatusID != StatusWon && c.StatusID != StatusLost {
		p, s := a.stageOf(c.PipelineID, c.StatusID)
		switch {
		case s == nil && target != nil:
			return &SettingError{Key: "AMO_STATUS_ID" + c.Suffix, Value: itoa(c.StatusID),
				Reason: fmt.Sprintf("в воронке «%s» нет такого этапа; этапы: %s", target.Name, usableStages(*target))}
		case s == nil:
			return &SettingError{Key: "AMO_STATUS_ID" + c.Suffix, Value: itoa(c.StatusID),
				Reason: "такого этапа в amoCRM нет; воронки: " + a.pipelineList()}
		case s.Type == StageIncoming:
			return IncomingStage("AMO_STATUS_ID"+c.Suffix, itoa(c.StatusID), *p, *s)
		}
	}
	keys := make([]string, 0, len(c.StatusMap))
	for k := range c.StatusMap {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		id := c.StatusMap[k]
		p, s := a.stageOf(c.PipelineID, id)
		if s != nil && s.Type == StageIncoming {
			return IncomingStage("AMO_STATUS_MAP"+c.Suffix, k+":"+itoa(s.ID), *p, *s)
		}
		if c.StoreMap && s == nil && target != nil && id != StatusWon && id != StatusLost {
			if op, _ := a.stageOf(0, id); op != nil {
				// A deal is moved within its own pipeline: a stage of
				// another pipeline would take it out of the store's.
				return &SettingError{Key: "AMO_STATUS_MAP" + c.Suffix, Value: k + ":" + itoa(id),
					Reason: fmt.Sprintf("этап %d из воронки «%s», а сделки этого магазина Kaspi в воронке «%s»; этапы: %s",
						id, op.Name, target.Name, usableStages(*target))}
			}
		}
	}
	if c.ResponsibleUserID != 0 && a.UsersSkipped == "" {
		var parts []string
		for _, u := range a.Users {
			if u.ID == c.ResponsibleUserID {
				return nil
			}
			parts = append(parts, fmt.Sprintf("%d — %s", u.ID, u.Name))
		}
		return &SettingError{Key: "AMO_RESPONSIBLE_USER_ID" + c.Suffix, Value: itoa(c.ResponsibleUserID),
			Reason: "такого пользователя в amoCRM нет; есть: " + strings.Join(parts, "; ")}
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
