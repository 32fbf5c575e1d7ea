package authorizefn

import (
	"net/http"

	"orgauth/pkg/endpoints/authorize"
	"orgauth/pkg/endpoints/logout"
	"orgauth/pkg/signin"
	"orgauth/pkg/wiring"
	"orgauth/pkg/wiring/signindeps"
)

// New is the authorize function's constructor.
func New(st wiring.Stage) (http.Handler, error) {
	if err := st.Check(); err != nil {
		return nil, err
	}
	cfg, err := signindeps.Config(st)
	if err != nil {
		return nil, err
	}
	svc, err := signin.New(signindeps.Deps(st), cfg)
	if err != nil {
		return nil, err
	}
	edge := signindeps.Edge(st)
	a, err := authorize.New(svc, edge)
	if err != nil {
		return nil, err
	}
	l, err := logout.New(svc, edge)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	a.Register(mux)
	l.Register(mux)
	return mux, nil
}
