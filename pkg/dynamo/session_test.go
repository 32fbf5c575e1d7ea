package dynamo_test

import (
	"context"
	"testing"

	"orgauth/pkg/dynamo"
	"orgauth/pkg/emulator"
	"orgauth/pkg/storetest"
)

func TestSessionsDynalite(t *testing.T) { runSessionSuite(t, inMemory) }

func TestSessionsMoto(t *testing.T) { runSessionSuite(t, emulator.StartMoto) }

func runSessionSuite(t *testing.T, start func(context.Context, string) (*emulator.Process, error)) {
	p := emulator.StartForTest(t, start)
	client := dynamo.NewLocalClient(p.Endpoint)
	storetest.RunSessions(t, func(t *testing.T) storetest.SessionStore {
		return dynamo.New(client, newTable(t, client))
	})
}
