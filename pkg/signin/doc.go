// Package signin is the browser sign-in of orgauth as a service with no
// HTTP in it: the authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID
// Connect Core §3.1.2), login transactions, the built-in password form with
// its throttle, single sign-on sessions, authorization codes, the hand-off to
// an organization's own OpenID provider and its completion at /callback, and
// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
//
// It takes typed values (the raw query, the form's fields, the browser's
// cookies, its source address, the clock) and returns a Result: a Redirect,
// a Page to show, or an Upstream hand-off, with the cookies the browser is to
// keep or drop. A refusal meant for the user is a *Refusal error; any other
// error is the server's. The HTTP adapters live in pkg/endpoints/authorize,
// pkg/endpoints/callback and pkg/endpoints/logout, and share
// pkg/endpoints/signinhttp, which renders pages and writes cookies.
//
// It must never:
//   - import net/http, or read anything of a request that is not passed in
//     as a value;
//   - redirect to a redirect_uri or post_logout_redirect_uri that is not
//     registered, character for character, on the application named by the
//     request: an unknown client or a bad URI is a Refusal, never a Redirect;
//   - accept a request without a PKCE S256 code_challenge;
//   - store or log a password, a code, a session id, a CSRF token or an
//     upstream secret: only their hashes are stored, and nothing of them is
//     logged;
//   - tell an unknown email from a wrong password, in words or in timing;
//   - let a login transaction, an SSO transaction or a code be used twice;
//   - write anything for an anonymous request, including one sent on to the
//     organization's provider: login transactions travel in the form, SSO
//     transactions sealed in the state (ssostate.go); only a sign-in that
//     succeeded, or the provider's verified answer, leaves a used-marker;
//   - sign anything: codes are random values, tokens come from the token
//     endpoint.
package signin
