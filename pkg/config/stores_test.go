package config

import (
	"errors"
	"strings"
	"testing"
)

// Store 1 is the unsuffixed keys; store n takes its own values and the
// unsuffixed ones where it sets none, and the status map only when it
// shares store 1's pipeline.
func TestLoad_KaspiStores(t *testing.T) {
	root := writeEnv(t, "DB_DRIVER=sqlite\nKASPI_API_TOKEN=tok-one\nKASPI_STORE_NAME=Алматы\n"+
		"AMO_PIPELINE_ID=10\nAMO_STATUS_ID=11\nAMO_RESPONSIBLE_USER_ID=12\nAMO_STATUS_MAP=COMPLETED:142\n"+
		"KASPI_API_TOKEN_2=tok-two\nKASPI_STORE_NAME_2=Астана\nAMO_PIPELINE_ID_2=20\nAMO_STATUS_ID_2=21\n"+
		"KASPI_API_TOKEN_3=tok-three\nAMO_STATUS_MAP_3=CANCELLED:143\n")
	c, err := Load(root, nil, NeedDB|NeedKaspi)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.KaspiStores) != 3 {
		t.Fatalf("stores: %+v", c.KaspiStores)
	}
	s1, s2, s3 := c.KaspiStores[0], c.KaspiStores[1], c.KaspiStores[2]
	if s1.No != 1 || s1.Name != "Алматы" || s1.Token.Reveal() != "tok-one" || s1.PipelineID != 10 || s1.StatusMap["COMPLETED"] != 142 || s1.NoStageMoves() {
		t.Errorf("store 1: %+v", s1)
	}
	if s2.No != 2 || s2.Name != "Астана" || s2.Token.Reveal() != "tok-two" || s2.PipelineID != 20 || s2.StatusID != 21 ||
		s2.ResponsibleUserID != 12 || len(s2.StatusMap) != 0 || !s2.NoStageMoves() || s2.Key("AMO_STATUS_MAP") != "AMO_STATUS_MAP_2" {
		t.Errorf("store 2: %+v", s2)
	}
	if s3.PipelineID != 10 || s3.StatusID != 11 || s3.StatusMap["CANCELLED"] != 143 || s3.StatusMap["COMPLETED"] != 0 || s3.NoStageMoves() || s3.Label() != "№ 3" {
		t.Errorf("store 3: %+v", s3)
	}
	// A store sharing store 1's pipeline without a map of its own takes store 1's.
	root = writeEnv(t, "DB_DRIVER=sqlite\nKASPI_API_TOKEN=a\nAMO_PIPELINE_ID=10\nAMO_STATUS_MAP=COMPLETED:142\nKASPI_API_TOKEN_2=b\n")
	c, err = Load(root, nil, NeedDB)
	if err != nil || len(c.KaspiStores) != 2 || c.KaspiStores[1].StatusMap["COMPLETED"] != 142 || c.KaspiStores[1].NoStageMoves() {
		t.Fatalf("shared pipeline: %v %+v", err, c.KaspiStores)
	}
	// Stage actions: store n by its own KASPI_ACTIONS_n, with store 1's
	// fields and limit; none without it.
	root = writeEnv(t, "DB_DRIVER=sqlite\nKASPI_API_TOKEN=a\nKASPI_ACTIONS=cancel:143,complete:142\nAMO_LEAD_KASPI_CODE_FIELD_ID=77\n"+
		"KASPI_ACTIONS_MAX_PER_RUN=9\nKASPI_API_TOKEN_2=b\nKASPI_ACTIONS_2=cancel:143\nKASPI_API_TOKEN_3=c\n")
	c, err = Load(root, nil, NeedDB)
	if err != nil || len(c.KaspiStores) != 3 {
		t.Fatalf("actions: %v %+v", err, c.KaspiStores)
	}
	a1, a2, a3 := c.KaspiStores[0].Actions, c.KaspiStores[1].Actions, c.KaspiStores[2].Actions
	if a1.Stages["complete"] != 142 || a1.Keys.Actions != "KASPI_ACTIONS" {
		t.Errorf("store 1 actions: %+v", a1)
	}
	if len(a2.Stages) != 1 || a2.Stages["cancel"] != 143 || a2.Keys.Actions != "KASPI_ACTIONS_2" || a2.CodeFieldID != 77 || a2.MaxPerRun != 9 {
		t.Errorf("store 2 actions: %+v", a2)
	}
	if a3.Enabled() || a3.Keys.Actions != "KASPI_ACTIONS_3" {
		t.Errorf("store 3 has no KASPI_ACTIONS_3 and must get no stage actions: %+v", a3)
	}
	// One token: one store.
	c, err = Load(writeEnv(t, "DB_DRIVER=sqlite\nKASPI_API_TOKEN=a\n"), nil, NeedDB)
	if err != nil || len(c.KaspiStores) != 1 || c.KaspiStores[0].Label() != "№ 1" {
		t.Fatalf("one store: %v %+v", err, c.KaspiStores)
	}
}

// A gap in the numbering, a duplicate token and a suffixed key without
// its token are configuration errors naming the key, never the token.
func TestLoad_KaspiStoresErrors(t *testing.T) {
	for _, c := range []struct{ name, env, want string }{
		{"gap", "KASPI_API_TOKEN=a\nKASPI_API_TOKEN_3=c\n", "KASPI_API_TOKEN_3: задан, а KASPI_API_TOKEN_2 нет"},
		{"no store 1", "KASPI_API_TOKEN_2=b\n", "KASPI_API_TOKEN_2: задан, а KASPI_API_TOKEN нет"},
		{"duplicate", "KASPI_API_TOKEN=same-secret\nKASPI_API_TOKEN_2=same-secret\n", "KASPI_API_TOKEN_2: тот же токен, что и в KASPI_API_TOKEN"},
		{"name without token", "KASPI_API_TOKEN=a\nKASPI_STORE_NAME_2=Астана\n", "KASPI_API_TOKEN_2: не задан"},
		{"pipeline without token", "KASPI_API_TOKEN=a\nKASPI_API_TOKEN_2=b\nAMO_PIPELINE_ID_3=5\n", "KASPI_API_TOKEN_3: не задан"},
		{"bad id", "KASPI_API_TOKEN=a\nKASPI_API_TOKEN_2=b\nAMO_STATUS_ID_2=x\n", "AMO_STATUS_ID_2: ожидается"},
		{"bad map", "KASPI_API_TOKEN=a\nKASPI_API_TOKEN_2=b\nAMO_STATUS_MAP_2=NOPE:1\n", "AMO_STATUS_MAP_2: ожидается"},
		{"actions without token", "KASPI_API_TOKEN=a\nKASPI_ACTIONS_2=cancel:143\n", "KASPI_API_TOKEN_2: не задан"},
		{"bad actions", "KASPI_API_TOKEN=a\nKASPI_API_TOKEN_2=b\nKASPI_ACTIONS_2=ship:5\n", "KASPI_ACTIONS_2=ship:5: «ship»: нет такого действия"},
		{"complete without code field", "KASPI_API_TOKEN=a\nKASPI_API_TOKEN_2=b\nKASPI_ACTIONS_2=complete:142\n", "AMO_LEAD_KASPI_CODE_FIELD_ID"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(writeEnv(t, "DB_DRIVER=sqlite\n"+c.env), nil, NeedDB)
			var ce *Error
			if !errors.As(err, &ce) || !strings.Contains(ce.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if strings.Contains(ce.Error(), "same-secret") || strings.Contains(ce.PublicText(), "same-secret") {
				t.Fatalf("the token leaked: %q", ce.Error())
			}
		})
	}
}
