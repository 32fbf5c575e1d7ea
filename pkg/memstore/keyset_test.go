package memstore_test

import (
	"testing"

	"orgauth/pkg/memstore"
	"orgauth/pkg/storetest"
)

func TestKeySets(t *testing.T) {
	storetest.RunKeySets(t, func(*testing.T) storetest.KeySetStore { return memstore.NewKeySets() })
}
