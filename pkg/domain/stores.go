package domain

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// KaspiStoreState is how a Kaspi store's last listing went.
type KaspiStoreState struct {
	Name   string    `json:"name,omitempty"`
	Result Result    `json:"result"`           // ok, warn or error
	Reason string    `json:"reason,omitempty"` // why not ok, in Russian
	At     time.Time `json:"at"`
	Found  int       `json:"found"` // orders new to the ledger in that run (fetch_new)
}

// ReadKaspiStoreStates reads the stores' last listing outcomes by store
// number (empty when never recorded; a damaged value reads as empty).
func ReadKaspiStoreStates(ctx context.Context, s Settings) (map[int]KaspiStoreState, error) {
	out := map[int]KaspiStoreState{}
	raw, ok, err := s.Setting(ctx, SettingKaspiStoreStates)
	if err != nil || !ok {
		return out, err
	}
	var m map[string]KaspiStoreState
	if json.Unmarshal([]byte(raw), &m) != nil {
		return out, nil
	}
	for k, v := range m {
		if n, err := strconv.Atoi(k); err == nil {
			out[n] = v
		}
	}
	return out, nil
}
