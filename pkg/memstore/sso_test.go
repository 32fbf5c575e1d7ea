package memstore_test

import (
	"testing"

	"orgauth/pkg/memstore"
	"orgauth/pkg/storetest"
)

func TestSSOSuite(t *testing.T) {
	storetest.RunSSO(t, func(*testing.T) storetest.SSOStore { return memstore.NewSessions() })
}
