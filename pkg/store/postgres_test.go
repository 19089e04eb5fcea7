package store_test

import (
	"os"
	"testing"

	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

func TestPostgreSQL(t *testing.T) {
	if os.Getenv(storetest.EnvPgSQL) == "" {
		t.Skipf("%s is not set", storetest.EnvPgSQL)
	}
	storetest.Run(t, func(t *testing.T) *store.DB { return storetest.Open(t, store.DriverPgSQL) })
}
