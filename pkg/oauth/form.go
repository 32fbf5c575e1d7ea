package oauth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"orgauth/pkg/domain"
)

// MaxFormBytes bounds a protocol request body. Real token requests are a few
// hundred bytes.
const MaxFormBytes = 16 << 10

// Form is a parsed request body in which every parameter appears at most
// once (RFC 6749 §3.1: "Request and response parameters MUST NOT be included
// more than once"). Empty values count as omitted (same section).
type Form map[string]string

// Get returns a parameter, "" when absent.
func (f Form) Get(name string) string { return f[name] }

// knownParameters are the parameters of the token, revocation and
// introspection endpoints (RFC 6749 §4, §6; RFC 7009 §2.1; RFC 7662 §2.1;
// RFC 7636 §4.5; RFC 8707 §2), the only names an error may repeat back.
var knownParameters = map[string]bool{
	"grant_type": true, "code": true, "redirect_uri": true, "code_verifier": true, "refresh_token": true,
	"scope": true, "audience": true, "resource": true, "client_id": true, "client_secret": true,
	"token": true, "token_type_hint": true,
}

// ParseForm reads a POSTed application/x-www-form-urlencoded body strictly:
// wrong method is the caller's to check; wrong content type, a body over
// MaxFormBytes, parameters in the query string, malformed encoding or a
// repeated parameter are invalid_request.
func ParseForm(r *http.Request) (Form, error) {
	if err := checkFormType(r); err != nil {
		return nil, err
	}
	return parseBody(r, formParams)
}

// ParseBody is ParseForm for the endpoints that also take a JSON body, as
// Auth0 does on /oauth/token: with Content-Type application/json the body is
// one JSON object whose members are the parameters, each a string. Both
// encodings go through the same checks (no query string, at most
// MaxFormBytes, no repeated parameter, empty counts as omitted) and give the
// same Form, so the grant pipeline never knows which was sent. A member that
// is not a string (a number, null, an array, an object) is invalid_request.
func ParseBody(r *http.Request) (Form, error) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch {
	case err == nil && mt == "application/x-www-form-urlencoded":
		return parseBody(r, formParams)
	case err == nil && mt == "application/json":
		return parseBody(r, jsonParams)
	}
	return nil, InvalidRequest("content type must be application/x-www-form-urlencoded or application/json")
}

// parseBody is what both encodings share: no query string, a body of at
// most MaxFormBytes that params decodes, and empty values dropped.
func parseBody(r *http.Request, params func(body []byte) (map[string]string, error)) (Form, error) {
	if r.URL.RawQuery != "" {
		return nil, InvalidRequest("parameters must be sent in the request body, not the query string")
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	values, err := params(body)
	if err != nil {
		return nil, err
	}
	for name, v := range values {
		if v == "" {
			delete(values, name)
		}
	}
	return Form(values), nil
}

// jsonParams reads a JSON object of string members, refusing a repeated
// member (which encoding/json would silently let the last one win).
func jsonParams(body []byte) (map[string]string, error) {
	malformed := InvalidRequest("malformed JSON body: want one object whose members are strings")
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, malformed
	}
	out := map[string]string{}
	for dec.More() {
		t, err := dec.Token()
		name, ok := t.(string)
		if err != nil || !ok {
			return nil, malformed
		}
		if _, dup := out[name]; dup {
			return nil, InvalidRequest("parameter " + name + " is repeated")
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, malformed
		}
		var v string
		if err := json.Unmarshal(raw, &v); err != nil || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			return nil, InvalidRequest("parameter " + name + " must be a string")
		}
		out[name] = v
	}
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, malformed
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed
	}
	return out, nil
}

// ReadFormBody is the one reader of a POSTed form body, for the protocol
// endpoints (through ParseForm) and the sign-in form alike: the content type
// must be application/x-www-form-urlencoded, the body at most MaxFormBytes
// and well encoded, and no parameter may repeat. Unlike ParseForm it keeps
// empty values (a form field sent empty is not one left out) and leaves the
// query string alone. Errors are invalid_request *Error values.
func ReadFormBody(r *http.Request) (map[string]string, error) {
	if err := checkFormType(r); err != nil {
		return nil, err
	}
	body, err := readBody(r)
	if err != nil {
		return nil, err
	}
	return formParams(body)
}

func checkFormType(r *http.Request) error {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return InvalidRequest("content type must be application/x-www-form-urlencoded")
	}
	return nil
}

// readBody reads a request body of at most MaxFormBytes.
func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxFormBytes+1))
	if err != nil {
		return nil, InvalidRequest("could not read the request body").WithCause(err)
	}
	if len(body) > MaxFormBytes {
		return nil, InvalidRequest("request body too large")
	}
	return body, nil
}

// maxFormParams is url.ParseQuery's limit on the parameters of one query.
const maxFormParams = 10000

// formParams decodes an application/x-www-form-urlencoded body as
// url.ParseQuery does (at most maxFormParams pairs, split at "&", a ";"
// refused, each name and value query-unescaped) into one map, refusing a
// repeated parameter. FuzzFormParamsIsParseQuery holds it to
// url.ParseQuery.
func formParams(body []byte) (map[string]string, error) {
	malformed := InvalidRequest("malformed form encoding")
	if bytes.Count(body, []byte("&"))+1 > maxFormParams {
		return nil, InvalidRequest("too many parameters")
	}
	out := make(map[string]string, 8)
	for rest := string(body); rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if strings.Contains(pair, ";") {
			return nil, malformed
		}
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return nil, malformed
		}
		value, err := url.QueryUnescape(v)
		if err != nil {
			return nil, malformed
		}
		if _, dup := out[name]; dup {
			// Name the parameter only when it is one of ours: a name
			// chosen by the sender is never shown back.
			if knownParameters[name] {
				return nil, InvalidRequest("parameter " + name + " is repeated")
			}
			return nil, InvalidRequest("a parameter is repeated")
		}
		out[name] = value
	}
	return out, nil
}

// ClientCredentials is how a client identified itself.
type ClientCredentials struct {
	ID     string
	Secret string
	// Method is "client_secret_basic", "client_secret_post" or "none".
	Method string
}

// BasicChallenge is the WWW-Authenticate value for failed Basic auth.
const BasicChallenge = `Basic realm="orgauth", charset="UTF-8"`

// ClientAuthentication extracts the client's credentials. RFC 6749 §2.3:
// "The client MUST NOT use more than one authentication method in each
// request." A client_id in the body alongside Basic must name the same
// client. Returns invalid_request or invalid_client errors.
func ClientAuthentication(r *http.Request, f Form) (ClientCredentials, error) {
	// Two Authorization headers are ambiguous: refuse rather than pick one.
	if len(r.Header.Values("Authorization")) > 1 {
		return ClientCredentials{}, InvalidRequest("the request has more than one Authorization header")
	}
	authz := r.Header.Get("Authorization")
	if authz == "" {
		if f.Get("client_secret") != "" {
			return ClientCredentials{ID: f.Get("client_id"), Secret: f.Get("client_secret"), Method: "client_secret_post"}, requireID(f.Get("client_id"))
		}
		return ClientCredentials{ID: f.Get("client_id"), Method: "none"}, requireID(f.Get("client_id"))
	}
	scheme, rest, _ := strings.Cut(authz, " ")
	if !strings.EqualFold(scheme, "Basic") {
		e := InvalidClient("unsupported authentication scheme; use Basic or client_secret_post")
		e.WWWAuthenticate = BasicChallenge
		return ClientCredentials{}, e
	}
	if f.Get("client_secret") != "" {
		return ClientCredentials{}, InvalidRequest("use one client authentication method: Basic or client_secret in the body, not both")
	}
	id, secret, err := parseBasic(strings.TrimSpace(rest))
	if err != nil {
		e := InvalidClient("malformed Basic credentials")
		e.WWWAuthenticate = BasicChallenge
		return ClientCredentials{}, e
	}
	if bodyID := f.Get("client_id"); bodyID != "" && bodyID != id {
		return ClientCredentials{}, InvalidRequest("client_id in the body differs from the authenticated client")
	}
	if e := checkID(id); e != nil {
		e.WWWAuthenticate = BasicChallenge
		return ClientCredentials{}, e
	}
	return ClientCredentials{ID: id, Secret: secret, Method: "client_secret_basic"}, nil
}

func requireID(id string) error {
	if id == "" {
		return InvalidClient("client authentication required")
	}
	if e := checkID(id); e != nil {
		return e
	}
	return nil
}

// checkID refuses a client id that no application can have (too long, or
// with characters ids do not use) before it reaches a table key.
func checkID(id string) *Error {
	if !domain.ValidID(id) {
		return InvalidClient(fmt.Sprintf("client authentication failed: a client_id is 1 to %d visible ASCII characters", domain.MaxIDLength))
	}
	return nil
}

// parseBasic decodes RFC 6749 §2.3.1 Basic credentials: the client id and
// secret are each "encoded using the application/x-www-form-urlencoded
// encoding algorithm" before being joined with ':' and base64-encoded.
func parseBasic(b64 string) (id, secret string, err error) {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", "", err
	}
	encID, encSecret, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", "", errors.New("no colon")
	}
	if id, err = url.QueryUnescape(encID); err != nil {
		return "", "", err
	}
	if secret, err = url.QueryUnescape(encSecret); err != nil {
		return "", "", err
	}
	if id == "" || secret == "" {
		return "", "", errors.New("empty id or secret")
	}
	return id, secret, nil
}
