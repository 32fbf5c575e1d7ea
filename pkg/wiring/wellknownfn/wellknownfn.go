package wellknownfn

import (
	"net/http"

	"orgauth/pkg/endpoints/userinfo"
	"orgauth/pkg/endpoints/wellknown"
	"orgauth/pkg/wiring"
)

// New is the wellknown function's constructor.
func New(st wiring.Stage) (http.Handler, error) {
	if err := st.Check(); err != nil {
		return nil, err
	}
	policy := st.CORS()
	disc, err := wellknown.New(wellknown.Deps{Keys: st.Keys, CORS: policy, Log: st.Log},
		wellknown.Config{Issuer: st.Cfg.Issuer, MaxAge: st.Cfg.JWKSMaxAge})
	if err != nil {
		return nil, err
	}
	ui, err := userinfo.New(userinfo.Deps{Verifier: st.Verifier(), Store: st.Store, CORS: policy, Log: st.Log, Now: st.Now},
		userinfo.Config{Issuer: st.Cfg.Issuer, Audiences: st.Cfg.TokenAudiences()})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("/.well-known/", disc.Routes())
	mux.Handle("/userinfo", ui.Routes())
	return mux, nil
}
