package memory_test

import (
	"testing"

	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/memory"
)

func TestOrigins(t *testing.T) {
	conformance.RunOrigins(t, func(*testing.T) conformance.OriginStore { return memory.New() })
}
