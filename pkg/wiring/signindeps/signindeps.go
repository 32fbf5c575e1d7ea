// Package signindeps builds what the authorize and callback functions
// share on a stage: sign-in's dependencies, its configuration and its HTTP
// edge. It must never import an endpoint package, so that neither function
// links the other's.
package signindeps

import (
	"orgauth/pkg/endpoints/signinhttp"
	"orgauth/pkg/signin"
	"orgauth/pkg/upstream"
	"orgauth/pkg/wiring"
)

// Deps are sign-in's dependencies on a stage.
func Deps(st wiring.Stage) signin.Deps {
	return signin.Deps{Store: st.Store, Keys: st.Keys, Log: st.Log, Now: st.Now,
		Upstream: upstream.New(upstream.Config{Timeout: st.Cfg.UpstreamTimeout}, nil)}
}

// Config is sign-in's configuration on a stage. Its device-cookie key,
// from which the key that seals SSO states is derived too, is the whole
// stage's, read (or made) now: a cold start without it fails
// (wiring.Stage.LoadDeviceKey).
func Config(st wiring.Stage) (signin.Config, error) {
	deviceKey, err := st.LoadDeviceKey()
	if err != nil {
		return signin.Config{}, err
	}
	return signin.Config{
		Issuer:             st.Cfg.Issuer,
		Audiences:          st.Cfg.TokenAudiences(),
		DefaultAudience:    st.Cfg.DefaultAudience(),
		ManagementAudience: st.Cfg.ManagementAudience,
		DeviceKey:          deviceKey,
	}, nil
}

// Edge is the sign-in endpoints' HTTP edge on a stage.
func Edge(st wiring.Stage) *signinhttp.Edge { return signinhttp.New(st.Log, st.Cfg.Issuer) }
