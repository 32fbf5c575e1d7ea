package applicationsfn_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
	"orgauth/pkg/wiring/applicationsfn"
	"orgauth/test/testenv"
)

// throttled is a store whose application reads fail as DynamoDB's do when
// it throttles.
type throttled struct{ storage.Store }

var errThrottled = &smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "slow down"}

func (throttled) ListApplications(context.Context, string, int, string) ([]domain.Application, string, error) {
	return nil, "", errThrottled
}

func (throttled) GetApplication(context.Context, string) (domain.Application, error) {
	return domain.Application{}, errThrottled
}

// A throttling store makes the management API answer a 503 problem with
// Retry-After, not a 500.
func TestStoreUnavailableIsA503Problem(t *testing.T) {
	st := testenv.NewStack(t)
	tok := st.UserToken(t, st.OwnerID, st.OrgID, time.Hour, st.Stage.Cfg.ManagementAudience)
	st.Stage.Store = throttled{st.Stage.Store}
	h := st.Handler(applicationsfn.New)
	for _, path := range []string{"/applications", "/applications/" + st.ClientID} {
		resp, body := testenv.Do(t, h, testenv.Call{Method: http.MethodGet, Path: path,
			Header: http.Header{"Authorization": {"Bearer " + tok}}})
		if resp.StatusCode != http.StatusServiceUnavailable || body["status"] != float64(503) {
			t.Fatalf("GET %s: %d %v, want a 503 problem", path, resp.StatusCode, body)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("GET %s: Content-Type %q", path, ct)
		}
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("GET %s: 503 without Retry-After", path)
		}
	}
}
