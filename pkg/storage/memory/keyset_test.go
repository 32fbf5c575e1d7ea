package memory_test

import (
	"testing"

	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/memory"
)

func TestKeySets(t *testing.T) {
	conformance.RunKeySets(t, func(*testing.T) conformance.KeySetStore { return memory.NewKeySets() })
}
