package memory_test

import (
	"testing"

	"orgauth/pkg/storage"
	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/memory"
)

func TestStore(t *testing.T) {
	conformance.RunTests(t, func(*testing.T) storage.Store { return memory.New() })
}
