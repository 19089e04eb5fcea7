package store_test

import (
	"os"
	"testing"

	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

func TestMySQL(t *testing.T) {
	if os.Getenv(storetest.EnvMySQL) == "" {
		t.Skipf("%s is not set", storetest.EnvMySQL)
	}
	storetest.Run(t, func(t *testing.T) *store.DB { return storetest.Open(t, store.DriverMySQL) })
}
