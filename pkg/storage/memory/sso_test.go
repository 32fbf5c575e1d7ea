package memory_test

import (
	"testing"

	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/memory"
)

func TestSSOSuite(t *testing.T) {
	conformance.RunSSO(t, func(*testing.T) conformance.SSOStore { return memory.NewSessions() })
}
