// Package authorize is the browser side of sign-in: the authorization
// endpoint GET /authorize (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core
// §3.1.2), the built-in login form (GET is the page, POST /login checks the
// password), the single sign-on session cookie, and RP-initiated logout
// GET /logout (OpenID Connect RP-Initiated Logout 1.0).
//
// It must never:
//   - redirect to a redirect_uri or post_logout_redirect_uri that is not
//     registered, character for character, on the application named by the
//     request: an unknown client or a bad URI is an HTML page, not a redirect;
//   - accept a request without a PKCE S256 code_challenge;
//   - store or log a password, a code, a session id or a CSRF token: only
//     their hashes are stored, and nothing of them is logged;
//   - tell an unknown email from a wrong password, in words or in timing;
//   - let a login transaction or a code be used twice;
//   - sign anything: codes are random values, tokens come from the token
//     endpoint;
//   - answer CORS: /authorize is a top-level navigation, never a fetch.
package authorize
