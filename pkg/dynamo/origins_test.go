package dynamo_test

import (
	"context"
	"testing"

	"orgauth/pkg/dynamo"
	"orgauth/pkg/emulator"
	"orgauth/pkg/storetest"
)

func TestOriginsDynalite(t *testing.T) { runOriginSuite(t, inMemory) }

func TestOriginsMoto(t *testing.T) { runOriginSuite(t, emulator.StartMoto) }

func runOriginSuite(t *testing.T, start func(context.Context, string) (*emulator.Process, error)) {
	p := emulator.StartForTest(t, start)
	client := dynamo.NewLocalClient(p.Endpoint)
	storetest.RunOrigins(t, func(t *testing.T) storetest.OriginStore {
		return dynamo.New(client, newTable(t, client))
	})
}
