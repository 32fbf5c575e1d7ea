// Package logout is the HTTP adapter of RP-initiated logout, GET /logout
// (OpenID Connect RP-Initiated Logout 1.0): it passes the query and the
// browser's cookies to pkg/signin and writes the outcome through
// pkg/endpoints/signinhttp.
//
// It must never:
//   - decide where the browser goes after logout: only pkg/signin checks a
//     post_logout_redirect_uri against the application's registered ones;
//   - pass an *http.Request inward;
//   - answer CORS.
package logout
