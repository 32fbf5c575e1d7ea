package memory_test

import (
	"testing"

	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/memory"
)

func TestSessions(t *testing.T) {
	conformance.RunSessions(t, func(*testing.T) conformance.SessionStore { return memory.NewSessions() })
}
