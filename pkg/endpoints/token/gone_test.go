package token_test

import (
	"context"
	"testing"

	"orgauth/test/testenv"
)

// A code issued to an SPA deleted before the exchange gives nothing.
func TestCodeOfADeletedSPA(t *testing.T) {
	e := newFlowEnv(t)
	spa := e.st.AddSPA(t, e.st.OrgID, e.redirect, "https://spa.example.com/bye")
	code, v := e.code(t, func(g *testenv.CodeGrant) { g.ClientID = spa })
	if err := e.st.Stage.Store.DeleteApplication(context.Background(), spa); err != nil {
		t.Fatal(err)
	}
	resp, body := e.exchange(t, e.token(), code, v, "client_id", spa)
	wantError(t, resp, body, 401, "invalid_client")
}
