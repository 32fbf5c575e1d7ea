package dynamo_test

import (
	"context"
	"testing"

	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
)

func TestSSODynalite(t *testing.T) { runSSOSuite(t, inMemory) }

func TestSSOMoto(t *testing.T) { runSSOSuite(t, emulator.StartMoto) }

func runSSOSuite(t *testing.T, start func(context.Context, string) (*emulator.Process, error)) {
	p := emulator.StartForTest(t, start)
	client := dynamo.NewLocalClient(p.Endpoint)
	conformance.RunSSO(t, func(t *testing.T) conformance.SSOStore {
		return dynamo.New(client, newTable(t, client))
	})
}
