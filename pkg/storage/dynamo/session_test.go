package dynamo_test

import (
	"context"
	"testing"

	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
)

func TestSessionsDynalite(t *testing.T) { runSessionSuite(t, inMemory) }

func TestSessionsMoto(t *testing.T) { runSessionSuite(t, emulator.StartMoto) }

func runSessionSuite(t *testing.T, start func(context.Context, string) (*emulator.Process, error)) {
	p := emulator.StartForTest(t, start)
	client := dynamo.NewLocalClient(p.Endpoint)
	conformance.RunSessions(t, func(t *testing.T) conformance.SessionStore {
		return dynamo.New(client, newTable(t, client))
	})
}
