package metrics_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"orgauth/pkg/platform/metrics"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
)

// The SDK middleware times real calls against the DynamoDB emulator.
func TestAWSMiddleware(t *testing.T) {
	p := emulator.StartForTest(t, emulator.StartDynalite)
	var buf bytes.Buffer
	rec := metrics.New(&buf, "orgauth/test", nil)
	client := dynamo.NewLocalClient(p.Endpoint)
	if _, err := client.ListTables(context.Background(), &dynamodb.ListTablesInput{}, func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, rec.AWSMiddleware)
	}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"Service":"DynamoDB"`, `"Operation":"ListTables"`, `"AWSLatency":`} {
		if !strings.Contains(out, want) {
			t.Fatalf("no %s in %s", want, out)
		}
	}
}
