package metrics

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestEMFLine(t *testing.T) {
	var buf bytes.Buffer
	at := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	r := New(&buf, "orgauth/test", func() time.Time { return at })
	r.Count(TokensIssued, Dim{"GrantType", "client_credentials"}, Dim{"ClientType", "m2m"})
	r.Latency(AWSLatency, 1500*time.Microsecond, Dim{"Service", "KMS"}, Dim{"Operation", "Sign"})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines", len(lines))
	}
	var m struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		TokensIssued float64
		GrantType    string
		ClientType   string
	}
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	d := m.AWS.CloudWatchMetrics[0]
	if m.AWS.Timestamp != at.UnixMilli() || d.Namespace != "orgauth/test" || d.Metrics[0].Name != "TokensIssued" || d.Metrics[0].Unit != "Count" ||
		strings.Join(d.Dimensions[0], ",") != "GrantType,ClientType" || m.TokensIssued != 1 || m.GrantType != "client_credentials" || m.ClientType != "m2m" {
		t.Fatalf("EMF line = %s", lines[0])
	}
	if !strings.Contains(lines[1], `"AWSLatency":1.5`) || !strings.Contains(lines[1], `"Unit":"Milliseconds"`) {
		t.Fatalf("latency line = %s", lines[1])
	}
}

func TestNilRecorder(t *testing.T) {
	var r *Recorder
	r.Count(ClientAuthFailures) // must not panic
}
