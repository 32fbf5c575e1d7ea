package authorizefn

import (
	"net/http"

	"orgauth/pkg/endpoints/authorize"
	"orgauth/pkg/upstream"
	"orgauth/pkg/wiring"
)

// New is the authorize function's constructor.
func New(st wiring.Stage) (http.Handler, error) {
	if err := st.Check(); err != nil {
		return nil, err
	}
	h, err := authorize.New(Deps(st), Config(st))
	if err != nil {
		return nil, err
	}
	return h.Routes(), nil
}

// Deps are the sign-in endpoints' dependencies on a stage; the callback
// function shares them.
func Deps(st wiring.Stage) authorize.Deps {
	return authorize.Deps{Store: st.Store, Keys: st.Keys, Log: st.Log, Now: st.Now,
		Upstream: upstream.New(upstream.Config{Timeout: st.Cfg.UpstreamTimeout}, nil)}
}

// Config is the sign-in endpoints' configuration on a stage.
func Config(st wiring.Stage) authorize.Config {
	return authorize.Config{
		Issuer:             st.Cfg.Issuer,
		Audiences:          st.Cfg.TokenAudiences(),
		DefaultAudience:    st.Cfg.DefaultAudience(),
		ManagementAudience: st.Cfg.ManagementAudience, ManagementClientID: st.Cfg.ConsoleClientID,
	}
}
