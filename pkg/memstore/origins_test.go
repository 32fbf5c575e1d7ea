package memstore_test

import (
	"testing"

	"orgauth/pkg/memstore"
	"orgauth/pkg/storetest"
)

func TestOrigins(t *testing.T) {
	storetest.RunOrigins(t, func(*testing.T) storetest.OriginStore { return memstore.New() })
}
