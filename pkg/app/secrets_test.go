package app

import (
	"slices"
	"testing"

	"kaspi-amocrm/pkg/config"
)

// Every Kaspi store's token is one of the values the log redacts.
func TestSecretsOf_EveryStoreToken(t *testing.T) {
	c := config.Config{KaspiAPIToken: "tok-one", KaspiStores: []config.KaspiStore{
		{No: 1, Token: "tok-one"}, {No: 2, Suffix: "_2", Token: "tok-two"}, {No: 3, Suffix: "_3", Token: "tok-three"}}}
	got := secretsOf(c)
	for _, want := range []string{"tok-one", "tok-two", "tok-three"} {
		if !slices.Contains(got, want) {
			t.Errorf("%s not redacted: %q", want, got)
		}
	}
}
