package dynamo_test

import (
	"context"
	"testing"

	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
)

func TestCodesDynalite(t *testing.T) { runCodes(t, inMemory) }

func TestCodesMoto(t *testing.T) { runCodes(t, emulator.StartMoto) }

func runCodes(t *testing.T, start func(context.Context, string) (*emulator.Process, error)) {
	p := emulator.StartForTest(t, start)
	client := dynamo.NewLocalClient(p.Endpoint)
	conformance.RunCodes(t, func(t *testing.T) conformance.CodeStore {
		return dynamo.New(client, newTable(t, client))
	})
}
