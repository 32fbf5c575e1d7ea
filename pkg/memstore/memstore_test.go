package memstore_test

import (
	"testing"

	"orgauth/pkg/memstore"
	"orgauth/pkg/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(*testing.T) storetest.Store { return memstore.New() })
}
