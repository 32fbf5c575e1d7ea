package dynamo_test

import (
	"context"
	"testing"

	"orgauth/pkg/dynamo"
	"orgauth/pkg/emulator"
	"orgauth/pkg/storetest"
)

func TestKeySetsDynalite(t *testing.T) { runKeySetSuite(t, inMemory) }

func TestKeySetsMoto(t *testing.T) { runKeySetSuite(t, emulator.StartMoto) }

func runKeySetSuite(t *testing.T, start func(context.Context, string) (*emulator.Process, error)) {
	p := emulator.StartForTest(t, start)
	client := dynamo.NewLocalClient(p.Endpoint)
	storetest.RunKeySets(t, func(t *testing.T) storetest.KeySetStore {
		return dynamo.New(client, newTable(t, client))
	})
}
