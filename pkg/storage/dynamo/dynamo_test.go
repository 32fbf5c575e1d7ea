package dynamo_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"orgauth/pkg/storage"
	"orgauth/pkg/storage/conformance"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
)

// inMemory starts dynalite without a data directory: the suite needs no
// persistence, and memory is faster than LevelDB.
func inMemory(ctx context.Context, _ string) (*emulator.Process, error) {
	return emulator.StartDynalite(ctx, "")
}

func TestStoreDynalite(t *testing.T) { runSuite(t, inMemory) }

func TestStoreMoto(t *testing.T) { runSuite(t, emulator.StartMoto) }

// onEmulators runs f on dynalite and on moto, in parallel, each time with
// a client of an emulator of its own.
func onEmulators(t *testing.T, f func(t *testing.T, client *dynamodb.Client)) {
	for name, start := range map[string]func(context.Context, string) (*emulator.Process, error){
		"dynalite": inMemory, "moto": emulator.StartMoto,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := emulator.StartForTest(t, start)
			f(t, dynamo.NewLocalClient(p.Endpoint))
		})
	}
}

var tables atomic.Int64

// newTable creates a table of its own for one test.
func newTable(t *testing.T, client *dynamodb.Client) string {
	t.Helper()
	name := fmt.Sprintf("orgauth-test-%d", tables.Add(1))
	if err := dynamo.CreateTable(t.Context(), client, name); err != nil {
		t.Fatal(err)
	}
	return name
}

func runSuite(t *testing.T, start func(context.Context, string) (*emulator.Process, error)) {
	p := emulator.StartForTest(t, start)
	client := dynamo.NewLocalClient(p.Endpoint)
	conformance.RunTests(t, func(t *testing.T) storage.Store {
		return dynamo.New(client, newTable(t, client))
	})
}

func TestCreateTableIdempotent(t *testing.T) {
	onEmulators(t, func(t *testing.T, client *dynamodb.Client) {
		table := newTable(t, client)
		if err := dynamo.CreateTable(t.Context(), client, table); err != nil {
			t.Fatalf("second CreateTable: %v", err)
		}
		out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: &table})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(out.Table.GlobalSecondaryIndexes); n != 1 || *out.Table.GlobalSecondaryIndexes[0].IndexName != "gsi1" {
			t.Fatalf("indexes: %+v", out.Table.GlobalSecondaryIndexes)
		}
	})
}
