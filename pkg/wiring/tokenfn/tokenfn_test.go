package tokenfn_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"orgauth/pkg/platform/metrics"
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/tokenfn"
	"orgauth/test/testenv"
)

// emfLines returns the EMF lines in out that record metric name, with the
// namespace and dimension set each declares.
func emfLines(t *testing.T, out *bytes.Buffer, name string) []map[string]any {
	t.Helper()
	var lines []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		if _, ok := line[name]; ok {
			lines = append(lines, line)
		}
	}
	return lines
}

// The token function, built exactly as its main builds it (tokenfn.New on
// a stage), emits one ClientAuthFailures line per failed client
// authentication and one TokensIssued line per token, in the stage's
// namespace: the metrics the template's alarm and dashboard watch.
func TestTokenFunctionEmitsItsMetrics(t *testing.T) {
	st := testenv.NewStack(t)
	var out bytes.Buffer
	st.Stage.Cfg.MetricsNamespace = "orgauth/test"
	st.Stage.Metrics = wiring.NewMetrics(st.Stage.Cfg, &out)
	h := st.Handler(tokenfn.New)

	post := func(secret string) int {
		resp, _ := testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: url.Values{
			"grant_type": {"client_credentials"}, "client_id": {st.ClientID}, "client_secret": {secret}, "audience": {st.Audience}}})
		return resp.StatusCode
	}
	if code := post("wrong-" + st.ClientSecret); code != 401 {
		t.Fatalf("wrong secret answered %d", code)
	}
	fails := emfLines(t, &out, metrics.ClientAuthFailures)
	if len(fails) != 1 {
		t.Fatalf("%d ClientAuthFailures lines after one failure:\n%s", len(fails), out.String())
	}
	if issued := emfLines(t, &out, metrics.TokensIssued); len(issued) != 0 {
		t.Fatalf("TokensIssued recorded for a refused request:\n%s", out.String())
	}
	if code := post(st.ClientSecret); code != 200 {
		t.Fatalf("right secret answered %d", code)
	}
	issued := emfLines(t, &out, metrics.TokensIssued)
	if len(issued) != 1 {
		t.Fatalf("%d TokensIssued lines after one token:\n%s", len(issued), out.String())
	}
	if issued[0]["GrantType"] != "client_credentials" || issued[0]["ClientType"] != "m2m" {
		t.Errorf("TokensIssued dimensions: %v", issued[0])
	}
	// Asking again is answered with the same token, unsigned: TokensReused.
	if code := post(st.ClientSecret); code != 200 {
		t.Fatalf("second request answered %d", code)
	}
	if n, r := len(emfLines(t, &out, metrics.TokensIssued)), emfLines(t, &out, metrics.TokensReused); n != 1 || len(r) != 1 || r[0]["ClientType"] != "m2m" {
		t.Errorf("after a reuse: %d TokensIssued lines, TokensReused %v", n, r)
	}
	if n := len(emfLines(t, &out, metrics.ClientAuthFailures)); n != 1 {
		t.Errorf("ClientAuthFailures lines: %d, want still 1", n)
	}
	// The alarm watches the metric without dimensions in the stage's
	// namespace: the failure line must declare exactly that.
	meta := fails[0]["_aws"].(map[string]any)["CloudWatchMetrics"].([]any)[0].(map[string]any)
	if meta["Namespace"] != "orgauth/test" {
		t.Errorf("namespace %v", meta["Namespace"])
	}
	if dims, _ := json.Marshal(meta["Dimensions"]); string(dims) != "[[]]" {
		t.Errorf("ClientAuthFailures dimensions %s, want one empty set", dims)
	}
}

// A stage without metrics (or any other required part) does not build: a
// forgotten dependency fails the cold start instead of turning a feature
// off.
func TestTokenFunctionRefusesAMissingDependency(t *testing.T) {
	st := testenv.NewStack(t)
	stage := *st.Stage
	stage.Metrics = nil
	if _, err := tokenfn.New(stage); err == nil || !strings.Contains(err.Error(), "Metrics is required") {
		t.Fatalf("built without metrics: %v", err)
	}
}
