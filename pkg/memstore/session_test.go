package memstore_test

import (
	"testing"

	"orgauth/pkg/memstore"
	"orgauth/pkg/storetest"
)

func TestSessions(t *testing.T) {
	storetest.RunSessions(t, func(*testing.T) storetest.SessionStore { return memstore.NewSessions() })
}
