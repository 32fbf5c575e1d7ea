package dynamo_test

import (
	"context"
	"testing"

	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
)

func TestKeySetsDynalite(t *testing.T) { runKeySetSuite(t, inMemory) }

func TestKeySetsMoto(t *testing.T) { runKeySetSuite(t, emulator.StartMoto) }

func runKeySetSuite(t *testing.T, start func(context.Context, string) (*emulator.Process, error)) {
	p := emulator.StartForTest(t, start)
	client := dynamo.NewLocalClient(p.Endpoint)
	conformance.RunKeySets(t, func(t *testing.T) conformance.KeySetStore {
		return dynamo.New(client, newTable(t, client))
	})
}
