package emulator

import (
	"context"
	"errors"
	"os"
	"testing"
)

// Required reports whether the emulator suites must run (make test sets
// ORGAUTH_REQUIRE_EMULATORS=1): then a missing emulator fails the test
// instead of skipping it.
func Required() bool { return os.Getenv("ORGAUTH_REQUIRE_EMULATORS") == "1" }

// StartForTest starts an emulator with start and stops it when the test ends.
// A missing executable skips the test under a bare go test and fails it under
// make test.
func StartForTest(t testing.TB, start func(ctx context.Context, dataDir string) (*Process, error)) *Process {
	t.Helper()
	p, err := start(context.Background(), t.TempDir())
	if errors.Is(err, ErrMissing) && !Required() {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return p
}
