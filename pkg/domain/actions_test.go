package domain

import (
	"strings"
	"testing"
)

func TestActionMapConflicts(t *testing.T) {
	s := ActionSettings{Stages: map[string]int64{ActionAccept: 10, ActionAssemble: 11, ActionComplete: StatusWon, ActionCancel: StatusLost}}
	got := ActionMapConflicts(map[string]int64{
		"ACCEPTED_BY_MERCHANT": 11, // accepted orders into the assemble stage: warned
		"COMPLETED":            StatusWon,
		"CANCELLED":            StatusLost,
		"RETURNED":             StatusLost,
		"NEW":                  10, // new orders into the accept stage: warned
		"DELIVERY":             12,
	}, s)
	if len(got) != 2 || !strings.HasPrefix(got[0], "ACCEPTED_BY_MERCHANT:11") || !strings.HasPrefix(got[1], "NEW:10") {
		t.Fatalf("conflicts %q", got)
	}
}

func TestCancelReasonOf(t *testing.T) {
	for in, want := range map[string]string{
		"Нет в наличии": "MERCHANT_OUT_OF_STOCK", " нет в наличии ": "MERCHANT_OUT_OF_STOCK",
		"buyer_not_reachable": "BUYER_NOT_REACHABLE", "Другое": "", "": "",
	} {
		if got := CancelReasonOf(in); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
