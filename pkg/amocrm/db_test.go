package amocrm_test

import (
	"testing"

	"kaspi-amocrm/pkg/store"
	"kaspi-amocrm/pkg/store/storetest"
)

// The client's tokens, ban and import mark live in a real database.

func openDB(t *testing.T, driver string) tokenDB { return storetest.Open(t, driver) }

// reopenDB opens a second connection pool on the same database, as another
// process would.
func reopenDB(t *testing.T, db tokenDB) tokenDB {
	return storetest.OpenConfig(t, db.(*store.DB).Config())
}

func drivers(t *testing.T) []string { return storetest.Drivers(t) }
