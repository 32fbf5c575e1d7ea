package metrics

import (
	"bytes"
	"encoding/json"
	"math"
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

// Whatever a dimension holds, the line is one valid JSON object that
// decodes to the same values (quotes, backslashes, control characters,
// invalid UTF-8), and a value that JSON cannot hold is written as 0.
func TestEMFLineEscapes(t *testing.T) {
	var buf bytes.Buffer
	r := New(&buf, `ns"\`, nil)
	hostile := "a\"b\\c\x00\x1f\n\u2028é"
	r.Count("Name", Dim{"Dim", hostile}, Dim{"Other\x01", "\xff"})
	r.Latency("Lat", 0)
	r.put("Inf", "Count", math.Inf(1), nil)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatalf("%v: %s", err, lines[0])
	}
	if m["Dim"] != hostile || m["Other\x01"] != "\uFFFD" || m["Name"] != 1.0 {
		t.Fatalf("decoded %v", m)
	}
	aws := m["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if aws["Namespace"] != `ns"\` {
		t.Fatalf("namespace %v", aws["Namespace"])
	}
	for _, l := range lines[1:] {
		if !json.Valid([]byte(l)) {
			t.Fatalf("not JSON: %s", l)
		}
	}
	if !strings.Contains(lines[2], `"Inf":0}`) {
		t.Fatalf("infinite value: %s", lines[2])
	}
}
