package memstore_test

import (
	"testing"

	"orgauth/pkg/memstore"
	"orgauth/pkg/storetest"
)

func TestCodes(t *testing.T) {
	storetest.RunCodes(t, func(*testing.T) storetest.CodeStore { return memstore.New() })
}
