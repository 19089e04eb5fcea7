package store_test

import (
	"testing"

	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

func TestSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) *store.DB { return storetest.Open(t, store.DriverSQLite) })
}
