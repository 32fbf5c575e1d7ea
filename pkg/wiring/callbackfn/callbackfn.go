package callbackfn

import (
	"net/http"

	"orgauth/pkg/endpoints/authorize"
	"orgauth/pkg/platform/required"
	"orgauth/pkg/platform/secretbox"
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/authorizefn"
)

// New is the callback function's constructor.
func New(st wiring.Stage) (http.Handler, error) {
	if err := st.Check(); err != nil {
		return nil, err
	}
	if err := required.Check("callback function", required.Dep{Name: "KMS", Value: st.KMS}); err != nil {
		return nil, err
	}
	return authorize.NewCallback(authorizefn.Deps(st), secretbox.New(st.KMS, st.Cfg.SSOKeyID), authorizefn.Config(st))
}
