package dynamo_test

import (
	"context"
	"testing"

	"orgauth/pkg/dynamo"
	"orgauth/pkg/emulator"
	"orgauth/pkg/storetest"
)

func TestSSODynalite(t *testing.T) { runSSOSuite(t, inMemory) }

func TestSSOMoto(t *testing.T) { runSSOSuite(t, emulator.StartMoto) }

func runSSOSuite(t *testing.T, start func(context.Context, string) (*emulator.Process, error)) {
	p := emulator.StartForTest(t, start)
	client := dynamo.NewLocalClient(p.Endpoint)
	storetest.RunSSO(t, func(t *testing.T) storetest.SSOStore {
		return dynamo.New(client, newTable(t, client))
	})
}
