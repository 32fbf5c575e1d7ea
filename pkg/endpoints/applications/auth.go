package applications

import (
	"context"
	"errors"
	"net/http"

	"orgauth/pkg/domain"
	"orgauth/pkg/oauth/bearer"
	"orgauth/pkg/platform/httpx"
)

// caller is who presented the bearer token.
type caller struct {
	Subject  string // user id, or the client id of an M2M token
	ClientID string
	OrgID    string
	// Machine is true for client_credentials tokens (RFC 9068 §2.2: sub is
	// the client id when no resource owner is involved).
	Machine bool
	// Role is the user's role in the organization (empty for M2M): what
	// they may give an application.
	Role domain.Role
}

// authenticate verifies the bearer token for the management audience
// (pkg/oauth/bearer) and, for a user token, that the user may still sign in
// to the token's organization.
func (h *Handler) authenticate(ctx context.Context, r *http.Request) (caller, *httpx.Problem, string) {
	refuse := func(e *bearer.Error) (caller, *httpx.Problem, string) {
		if e.Cause != nil {
			h.log.InfoContext(ctx, "bearer token refused", "request_id", httpx.RequestID(ctx), "reason", e.Cause.Error())
		}
		return caller{}, &httpx.Problem{Status: e.Status, Detail: e.Description}, e.WWWAuthenticate()
	}
	claims, err := h.bearer.Authenticate(ctx, r)
	if err != nil {
		var e *bearer.Error
		if !errors.As(err, &e) {
			e = &bearer.Error{Status: http.StatusServiceUnavailable, Description: "cannot verify tokens right now; retry shortly", Cause: err}
		}
		return refuse(e)
	}
	fail := func(desc string) (caller, *httpx.Problem, string) { return refuse(bearer.Refuse(desc)) }
	c := caller{Subject: claims.Subject, ClientID: claims.ClientID, OrgID: claims.OrgID, Machine: claims.Subject == claims.ClientID}
	if c.Machine {
		// A deleted application's tokens die with it.
		app, err := h.store.GetApplication(ctx, c.ClientID)
		switch {
		case errors.Is(err, domain.ErrNotFound) || (err == nil && app.OrganizationID != c.OrgID):
			return fail("the application of this token no longer exists")
		case err != nil:
			return caller{}, &httpx.Problem{Status: http.StatusServiceUnavailable, Detail: "cannot check the application right now; retry shortly"}, ""
		}
	} else {
		if !domain.IsConsole(c.ClientID) {
			return fail("a user's token for the management API must come from the developer console")
		}
		u, err := h.store.GetUser(ctx, c.Subject)
		u, err = domain.SignInUser(u, err, c.OrgID)
		c.Role = u.Role
		switch {
		case errors.Is(err, domain.ErrUserGone):
			return fail("the user of this token no longer exists")
		case errors.Is(err, domain.ErrUserDisabled):
			return fail("the user of this token is disabled")
		case errors.Is(err, domain.ErrUserNotMember):
			return fail("the token's organization does not match its user")
		case err != nil:
			return caller{}, &httpx.Problem{Status: http.StatusServiceUnavailable, Detail: "cannot check the user right now; retry shortly"}, ""
		}
	}
	return c, nil, ""
}
