package config

import (
	"errors"
	"strings"
	"testing"

	"kaspi-amocrm/pkg/domain"
)

func TestReadActions(t *testing.T) {
	get := func(env map[string]string) func(string) string {
		return func(k string) string { return env[k] }
	}
	keys := domain.DefaultActionKeys
	s, err := ReadActions(get(nil), keys)
	if err != nil || s.Enabled() || s.MaxPerRun != 50 || s.CancelReason != "BUYER_CANCELLATION_BY_MERCHANT" {
		t.Fatalf("defaults: %+v %v", s, err)
	}
	s, err = ReadActions(get(map[string]string{
		"KASPI_ACTIONS":                "accept:61234568, assemble:61234569,complete:142,CANCEL:143",
		"KASPI_CANCEL_REASON":          "merchant_out_of_stock",
		"AMO_LEAD_KASPI_CODE_FIELD_ID": "7001",
		"AMO_LEAD_PARCELS_FIELD_ID":    "7002",
		"KASPI_ACTIONS_MAX_PER_RUN":    "5",
	}), keys)
	if err != nil {
		t.Fatal(err)
	}
	if s.ActionOf(143) != domain.ActionCancel || s.ActionOf(142) != domain.ActionComplete || s.ActionOf(61234568) != domain.ActionAccept ||
		s.ActionOf(1) != "" || s.CancelReason != "MERCHANT_OUT_OF_STOCK" || s.CodeFieldID != 7001 || s.ParcelsFieldID != 7002 || s.MaxPerRun != 5 {
		t.Fatalf("parsed: %+v", s)
	}
	if ids := s.StageIDs(); len(ids) != 4 || ids[0] != 61234568 || ids[3] != 143 {
		t.Fatalf("stage ids in the order of the actions: %v", ids)
	}
	bad := map[string]map[string]string{
		"KASPI_ACTIONS":                   {"KASPI_ACTIONS": "accept:1,accept:2"},
		"KASPI_ACTIONS ":                  {"KASPI_ACTIONS": "accept:1,cancel:1"},
		"KASPI_ACTIONS  ":                 {"KASPI_ACTIONS": "ship:1"},
		"KASPI_ACTIONS   ":                {"KASPI_ACTIONS": "accept:x"},
		"KASPI_CANCEL_REASON":             {"KASPI_CANCEL_REASON": "BUYER_CANCELLATION_HIMSELF"},
		"AMO_LEAD_WAYBILL_FIELD_ID":       {"AMO_LEAD_WAYBILL_FIELD_ID": "-3"},
		"KASPI_ACTIONS_MAX_PER_RUN":       {"KASPI_ACTIONS_MAX_PER_RUN": "0"},
		"AMO_LEAD_KASPI_CODE_FIELD_ID":    {"KASPI_ACTIONS": "complete:142"},
		"AMO_LEAD_CANCEL_REASON_FIELD_ID": {"AMO_LEAD_CANCEL_REASON_FIELD_ID": "abc"},
	}
	for want, env := range bad {
		_, err := ReadActions(get(env), keys)
		var se *domain.SettingError
		if !errors.As(err, &se) || se.Key != strings.TrimSpace(want) || se.Reason == "" {
			t.Errorf("%v: err = %v, want a SettingError of %s", env, err, strings.TrimSpace(want))
		}
	}
	// The keys are the caller's: a second store reads its own.
	k2 := keys
	k2.Actions = "KASPI_ACTIONS_2"
	s, err = ReadActions(get(map[string]string{"KASPI_ACTIONS_2": "cancel:143", "KASPI_ACTIONS": "accept:1"}), k2)
	if err != nil || s.ActionOf(143) != domain.ActionCancel || s.ActionOf(1) != "" || s.Keys.Actions != "KASPI_ACTIONS_2" {
		t.Fatalf("second store: %+v %v", s, err)
	}
}
