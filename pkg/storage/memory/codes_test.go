package memory_test

import (
	"testing"

	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/memory"
)

func TestCodes(t *testing.T) {
	conformance.RunCodes(t, func(*testing.T) conformance.CodeStore { return memory.New() })
}
