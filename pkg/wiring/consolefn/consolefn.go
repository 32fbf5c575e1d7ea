package consolefn

import (
	"net/http"

	"orgauth/pkg/domain"
	"orgauth/pkg/endpoints/console"
	"orgauth/pkg/wiring"
)

// New is the console function's constructor.
func New(st wiring.Stage) (http.Handler, error) {
	return console.New(console.Config{
		Issuer: st.Cfg.Issuer, ClientID: domain.ConsoleClientID, Audience: st.Cfg.ManagementAudience,
	}, st.Log).Routes(), nil
}
