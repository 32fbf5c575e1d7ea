package applicationsfn

import (
	"net/http"

	"orgauth/pkg/endpoints/applications"
	"orgauth/pkg/storage"
	"orgauth/pkg/wiring"
)

// New is the applications function's constructor.
func New(st wiring.Stage) (http.Handler, error) {
	if err := st.Check(); err != nil {
		return nil, err
	}
	return applications.New(st.Store, st.Verifier(), applications.Config{
		Audience:                   st.Cfg.ManagementAudience,
		DefaultAccessTokenLifetime: st.Cfg.AccessTokenLifetime,
		TokenQuotas:                st.Cfg.TokenQuotas,
	}, st.Log, st.Now, storage.ErrInvalidCursor).Routes(), nil
}
