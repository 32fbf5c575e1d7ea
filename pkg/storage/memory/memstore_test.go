package memory_test

import (
	"testing"

	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/memory"
)

func TestStore(t *testing.T) {
	conformance.Run(t, func(*testing.T) conformance.Store { return memory.New() })
}
