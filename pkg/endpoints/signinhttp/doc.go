// Package signinhttp is the HTTP edge shared by the sign-in endpoints
// (pkg/endpoints/authorize, pkg/endpoints/callback, pkg/endpoints/logout):
// it reads the browser's sign-in cookies into a signin.Browser, and writes
// what pkg/signin decides: a redirect, the one page template with its
// Content-Security-Policy, the cookies with their names and attributes, and
// refusals and server errors as pages.
//
// It must never:
//   - decide anything about sign-in: which page, which redirect, whether a
//     request is refused, all come from pkg/signin;
//   - put an error's text in a page: a server error is logged with the
//     request id and shown as a fixed message;
//   - let the page load anything but its own inline stylesheet, or be framed;
//   - set a sign-in cookie that is not HttpOnly, SameSite=Lax and, over
//     https, Secure with the __Host- prefix.
package signinhttp
