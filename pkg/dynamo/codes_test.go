package dynamo_test

import (
	"context"
	"testing"

	"orgauth/pkg/dynamo"
	"orgauth/pkg/emulator"
	"orgauth/pkg/storetest"
)

func TestCodesDynalite(t *testing.T) { runCodes(t, inMemory) }

func TestCodesMoto(t *testing.T) { runCodes(t, emulator.StartMoto) }

func runCodes(t *testing.T, start func(context.Context, string) (*emulator.Process, error)) {
	p := emulator.StartForTest(t, start)
	client := dynamo.NewLocalClient(p.Endpoint)
	storetest.RunCodes(t, func(t *testing.T) storetest.CodeStore {
		return dynamo.New(client, newTable(t, client))
	})
}
