package signin

import (
	"context"
	"time"

	"orgauth/pkg/domain"
)

// AuthTimeLeeway is the clock difference tolerated between orgauth and a
// provider when checking the provider's auth_time.
const AuthTimeLeeway = 5 * time.Second

// upstreamAuthTime is when the provider authenticated the user: its ID
// token's auth_time. When the application asked for a re-authentication
// (prompt=login, or max_age: OpenID Connect Core §3.1.2.1), the forwarded
// request must have been honoured: auth_time is required, and no older than
// the request allows; otherwise the answer is login_required, never a
// fresh timestamp. Without such a request, a token without auth_time counts
// as authenticated when orgauth sent the user upstream.
func (c *Callback) upstreamAuthTime(ctx context.Context, b Browser, stx domain.SSOTransaction, tx domain.LoginTransaction, id domain.UpstreamIdentity, now time.Time) (time.Time, *authzError) {
	maxAge := tx.MaxAge
	if tx.Prompt == "login" {
		maxAge = 0
	}
	at := id.AuthTime
	if at.After(now) {
		at = now // a provider's clock ahead of ours
	}
	if maxAge < 0 {
		if at.IsZero() {
			return stx.CreatedAt, nil
		}
		return at, nil
	}
	// The authentication must be no older than max_age when the request
	// reached the provider, which is after orgauth sent it.
	oldest := stx.CreatedAt.Add(-time.Duration(maxAge) * time.Second).Add(-AuthTimeLeeway).Truncate(time.Second)
	if at.IsZero() || at.Before(oldest) {
		c.s.log.WarnContext(ctx, "provider did not re-authenticate as asked", "event", "sso_stale_auth_time",
			"request_id", b.RequestID, "client_id", tx.ClientID, "org_id", stx.OrganizationID,
			"auth_time_present", !id.AuthTime.IsZero(), "prompt", tx.Prompt, "max_age", tx.MaxAge)
		return time.Time{}, &authzError{"login_required", "the organization's identity provider did not authenticate the user again as asked"}
	}
	return at, nil
}
