package dynamo_test

import (
	"context"
	"testing"

	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
)

func TestOriginsDynalite(t *testing.T) { runOriginSuite(t, inMemory) }

func TestOriginsMoto(t *testing.T) { runOriginSuite(t, emulator.StartMoto) }

func runOriginSuite(t *testing.T, start func(context.Context, string) (*emulator.Process, error)) {
	p := emulator.StartForTest(t, start)
	client := dynamo.NewLocalClient(p.Endpoint)
	conformance.RunOrigins(t, func(t *testing.T) conformance.OriginStore {
		return dynamo.New(client, newTable(t, client))
	})
}
