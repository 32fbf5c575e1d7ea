package tokenfn

import (
	"net/http"

	"orgauth/pkg/endpoints/token"
	"orgauth/pkg/wiring"
)

// New is the token function's constructor, called by its Lambda main, by
// the local server and by the tests alike.
func New(st wiring.Stage) (http.Handler, error) {
	if err := st.Check(); err != nil {
		return nil, err
	}
	h, err := token.New(token.Deps{
		Store: st.Store, Tokens: st.Issuer(), Verifier: st.Verifier(), CORS: st.CORS(), Metrics: st.Metrics,
		Log: st.Log, Now: st.Now,
	}, token.Config{
		Issuer:                     st.Cfg.Issuer,
		Audiences:                  st.Cfg.TokenAudiences(),
		DefaultAccessTokenLifetime: st.Cfg.AccessTokenLifetime,
		OrganizationCacheTTL:       st.Cfg.OrgCacheTTL,
		RefreshTokenLifetime:       st.Cfg.RefreshLifetime,
		RefreshIdleTimeout:         st.Cfg.RefreshIdleTimeout,
		DisableTokenReuse:          !st.Cfg.TokenReuse,
		Quota: token.QuotaConfig{Plans: st.Cfg.TokenQuotas, Shards: st.Cfg.QuotaShards,
			FlushTokens: st.Cfg.QuotaFlushTokens, FlushInterval: st.Cfg.QuotaFlushInterval},
	})
	if err != nil {
		return nil, err
	}
	return h.Routes(), nil
}
