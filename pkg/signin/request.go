package signin

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"orgauth/pkg/domain"
	"orgauth/pkg/oauth"
)

// authzError is an error returned to the client by redirect, RFC 6749
// §4.1.2.1: only once the client and its redirect_uri are known good.
type authzError struct {
	Code        string
	Description string
}

func (e *authzError) Error() string { return e.Code + ": " + e.Description }

func invalidRequest(desc string) *authzError { return &authzError{"invalid_request", desc} }

// The OpenID Connect scopes every SPA may request (OpenID Connect Core
// §5.4, §11), on top of its application's own scopes.
var oidcScopes = []string{"openid", "profile", "email", "offline_access"}

// pkceChallenge is RFC 7636 §4.2: S256 gives BASE64URL(SHA256(verifier)),
// 43 characters without padding.
var pkceChallenge = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// authzRequest is a parsed, validated authorization request.
type authzRequest struct {
	app           domain.Application
	redirectURI   string
	state         string
	nonce         string
	codeChallenge string
	scopes        []string
	audience      string
	prompt        string
	maxAge        int64 // -1: absent
	loginHint     string
	responseMode  string // "" (query) or "web_message"
}

// knownParams are the parameter names orgauth's pages and error
// descriptions may name: any other name came from whoever wrote the link,
// and is not shown (an attacker could write sentences with it).
var knownParams = []string{
	"client_id", "redirect_uri", "response_type", "response_mode", "scope", "state", "nonce", "code_challenge",
	"code_challenge_method", "audience", "prompt", "max_age", "login_hint", "request", "request_uri",
	"id_token_hint", "post_logout_redirect_uri", "code", "error", "error_description", "iss",
}

// paramName is how orgauth's words name parameter k: by its name when it
// is one orgauth knows, otherwise as "a parameter".
func paramName(k string) string {
	if slices.Contains(knownParams, k) {
		return k
	}
	return "a parameter"
}

// single reads the parameters of q, refusing repeated ones: RFC 6749 §3.1,
// "Request and response parameters MUST NOT be included more than once."
// The name it returns for a repeated parameter is paramName's: safe to show.
func single(q url.Values) (map[string]string, string) {
	out := make(map[string]string, len(q))
	for k, v := range q {
		if len(v) != 1 {
			return nil, paramName(k)
		}
		out[k] = v[0]
	}
	return out, ""
}

// parseAuthorize validates an authorization request. It returns a
// *Refusal while the client or its redirect_uri are in doubt, and then
// the request together with an *authzError for everything else.
func (s *Service) parseAuthorize(ctx context.Context, rawQuery string) (*authzRequest, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, refuse(400, "Invalid request", "The sign-in link is malformed.")
	}
	p, repeated := single(q)
	if repeated == "client_id" || repeated == "redirect_uri" {
		return nil, refuse(400, "Invalid request", "The sign-in link repeats "+repeated+".")
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		return nil, refuse(400, "Invalid request", "The sign-in link names no application (client_id is missing).")
	}
	app, err := s.store.GetApplication(ctx, clientID)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, refuse(400, "Unknown application", "The application that sent you here is not known to this server.")
	}
	if err != nil {
		return nil, fmt.Errorf("load application: %w", err)
	}
	if app.Type != domain.ClientSPA {
		return nil, refuse(400, "Unknown application", "This application does not sign users in.")
	}
	redirectURI := q.Get("redirect_uri")
	if !app.RegistersRedirectURI(redirectURI) {
		return nil, refuse(400, "Invalid redirect URI",
			"The address this application asked to return to is not registered for it, so you were not sent there.")
	}
	req := &authzRequest{app: app, redirectURI: redirectURI, maxAge: -1}
	if repeated != "" {
		// If state is the repeated one, send none back rather than guess.
		if repeated != "state" {
			req.state = q.Get("state")
		}
		return req, invalidRequest("the request repeats " + repeated)
	}
	req.state = p["state"]
	return req, s.checkAuthorize(req, p)
}

// checkAuthorize validates everything after the client and redirect_uri.
func (s *Service) checkAuthorize(req *authzRequest, p map[string]string) error {
	// The response mode comes first, so that every later error is answered
	// the way the client waits for it. web_message is the Auth0/OIDC
	// web-message mode (silent authentication in an iframe, popups).
	switch rm := p["response_mode"]; rm {
	case "", "query":
	case "web_message":
		req.responseMode = rm
	default:
		return invalidRequest("response_mode must be query or web_message")
	}
	// OpenID Connect Core §6: request objects are not supported.
	if _, ok := p["request"]; ok {
		return &authzError{"request_not_supported", "request objects are not supported"}
	}
	if _, ok := p["request_uri"]; ok {
		return &authzError{"request_uri_not_supported", "request_uri is not supported"}
	}
	// RFC 6749 §4.1.1: response_type "Value MUST be set to "code"." There is
	// no implicit or hybrid flow.
	switch rt := p["response_type"]; rt {
	case "code":
	case "":
		return invalidRequest("response_type is required")
	default:
		return &authzError{"unsupported_response_type", "only response_type=code is supported"}
	}
	// RFC 7636 §4.4.1: "If the server requires Proof Key for Code Exchange
	// (PKCE) by OAuth public clients and the client does not send the
	// "code_challenge" in the request, the authorization endpoint MUST
	// return the authorization error response with the "error" value set to
	// "invalid_request"." Only S256: plain would show the verifier.
	req.codeChallenge = p["code_challenge"]
	if req.codeChallenge == "" {
		return invalidRequest("code_challenge is required (PKCE with S256)")
	}
	if p["code_challenge_method"] != "S256" {
		return invalidRequest("code_challenge_method must be S256")
	}
	if !pkceChallenge.MatchString(req.codeChallenge) {
		return invalidRequest("code_challenge must be the base64url SHA-256 of the code verifier (43 characters)")
	}
	scopes, err := requestedScopes(p["scope"], req.app.Scopes)
	if err != nil {
		return err
	}
	req.scopes = scopes
	aud, err := oauth.Target(p["audience"], p["resource"])
	if err != nil {
		return invalidRequest("audience and resource name different APIs; send one")
	}
	req.audience = aud
	if req.audience == "" {
		if req.audience = s.cfg.DefaultAudience; req.audience == "" {
			return invalidRequest("audience is required: this server has no default API")
		}
	} else if !slices.Contains(s.cfg.Audiences, req.audience) {
		return &authzError{"invalid_target", "unknown audience: it is not an API of this server"}
	}
	if req.audience == s.cfg.ManagementAudience && !domain.IsConsole(req.app.ClientID) {
		return &authzError{"invalid_target", "the management API's audience is only for the developer console"}
	}
	req.nonce = p["nonce"]
	// OpenID Connect Core §3.1.2.1, prompt: "If this parameter contains
	// none with any other value, an error is returned." select_account
	// is not offered: there is one account per browser session. consent
	// asks again even for what the user approved before (consent.go).
	switch req.prompt = p["prompt"]; req.prompt {
	case "", "none", "login", "consent":
	default:
		return invalidRequest("prompt must be none, login or consent")
	}
	if s, ok := p["max_age"]; ok {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return invalidRequest("max_age must be a non-negative number of seconds")
		}
		req.maxAge = n
	}
	req.loginHint = strings.TrimSpace(p["login_hint"])
	if len(req.loginHint) > 320 {
		req.loginHint = ""
	}
	if len(req.state) > 2048 || len(req.nonce) > 2048 {
		return invalidRequest("state and nonce are limited to 2048 characters")
	}
	return nil
}

// requestedScopes checks scope (RFC 6749 §3.3) against the OpenID scopes and
// the application's. An omitted scope means openid.
func requestedScopes(scope string, allowed []string) ([]string, error) {
	if strings.TrimSpace(scope) == "" {
		return []string{"openid"}, nil
	}
	requested := oauth.ParseScope(scope)
	// The refused scope is the caller's text: it is not repeated back.
	if _, ok := requested.NotIn(oidcScopes, allowed); ok {
		return nil, &authzError{"invalid_scope", "a requested scope is not allowed for this application"}
	}
	return requested, nil
}

// redirectURL is the redirection to the client, RFC 6749 §4.1.2: params
// added to redirect_uri's query, which is kept (§3.1.2), plus iss (RFC 9207
// §2: "iss REQUIRED. The identifier of the authorization server").
func (s *Service) redirectURL(redirectURI string, params url.Values) string {
	u, err := url.Parse(redirectURI)
	if err != nil { // registered URIs were validated when they were stored
		return redirectURI
	}
	q := u.Query()
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			q.Set(k, v[0])
		}
	}
	q.Set("iss", s.cfg.Issuer)
	u.RawQuery = q.Encode()
	u.Fragment = ""
	return u.String()
}

// errorResponse sends an error to the client in the request's response
// mode, with state and iss.
func (s *Service) errorResponse(ctx context.Context, b Browser, redirectURI, state, mode string, e *authzError) Outcome {
	s.log.InfoContext(ctx, "authorization error", "event", "authorize_error", "request_id", b.RequestID,
		"error", e.Code, "error_description", e.Description, "response_mode", mode)
	return s.respond(redirectURI, mode, url.Values{"error": {e.Code}, "error_description": {e.Description}, "state": {state}})
}

// respond is the authorization response to redirectURI, which is registered
// for the client: a redirect with params in the query, or with
// response_mode=web_message a page that posts them to the window of
// redirectURI's origin, and no other.
func (s *Service) respond(redirectURI, mode string, params url.Values) Outcome {
	if mode != "web_message" {
		return Redirect{URL: s.redirectURL(redirectURI, params)}
	}
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme == "" || u.Host == "" { // registered URIs were validated when they were stored
		return Page{Status: 400, Title: "Invalid redirect URI", Error: "The application's return address has no origin."}
	}
	resp := map[string]string{"iss": s.cfg.Issuer}
	for k, v := range params {
		if len(v) > 0 && v[0] != "" {
			resp[k] = v[0]
		}
	}
	return WebMessage{TargetOrigin: u.Scheme + "://" + u.Host, Response: resp}
}
