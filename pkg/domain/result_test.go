package domain

import (
	"errors"
	"fmt"
	"testing"
)

func TestResultWorse(t *testing.T) {
	cases := []struct{ a, b, want Result }{
		{ResultOK, ResultOK, ResultOK},
		{ResultOK, ResultWarn, ResultWarn},
		{ResultWarn, ResultOK, ResultWarn},
		{ResultWarn, ResultError, ResultError},
		{ResultError, ResultWarn, ResultError},
		{"", ResultWarn, ResultWarn},
	}
	for _, c := range cases {
		if got := c.a.Worse(c.b); got != c.want {
			t.Errorf("%q.Worse(%q) = %q, want %q", c.a, c.b, got, c.want)
		}
	}
}

func TestSettingErrorNamesKeyAndValue(t *testing.T) {
	err := fmt.Errorf("create leads: %w", &SettingError{Key: "AMO_PIPELINE_ID", Value: "7009999", Reason: "такой воронки в amoCRM нет"})
	var se *SettingError
	if !errors.As(err, &se) {
		t.Fatal("a wrapped SettingError is not found with errors.As")
	}
	if got, want := se.Error(), "AMO_PIPELINE_ID=7009999: такой воронки в amoCRM нет"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
