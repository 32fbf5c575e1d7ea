package callbackfn

import (
	"net/http"

	"orgauth/pkg/endpoints/callback"
	"orgauth/pkg/platform/required"
	"orgauth/pkg/platform/secretbox"
	"orgauth/pkg/signin"
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/signindeps"
)

// New is the callback function's constructor.
func New(st wiring.Stage) (http.Handler, error) {
	if err := st.Check(); err != nil {
		return nil, err
	}
	if err := required.Check("callback function", required.Dep{Name: "KMS", Value: st.KMS}); err != nil {
		return nil, err
	}
	// The states the authorize function sealed open under a key derived
	// from the stage's device-cookie key (pkg/signin/ssostate.go).
	cfg, err := signindeps.Config(st)
	if err != nil {
		return nil, err
	}
	cb, err := signin.NewCallback(signindeps.Deps(st), secretbox.New(st.KMS, st.Cfg.SSOKeyID), cfg)
	if err != nil {
		return nil, err
	}
	h, err := callback.New(cb, signindeps.Edge(st))
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	h.Register(mux)
	return mux, nil
}
