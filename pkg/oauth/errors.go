package oauth

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/platform/unavailable"
)

// Error is an OAuth error response, RFC 6749 §5.2.
type Error struct {
	Code        string
	Description string
	Status      int
	// WWWAuthenticate, when set, is sent as the WWW-Authenticate header
	// (RFC 6749 §5.2: required when the client used the Authorization header).
	WWWAuthenticate string
	// RetryAfter, when positive, is sent as Retry-After (seconds).
	RetryAfter int
	// Cause is logged, never shown.
	Cause error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Description + ": " + e.Cause.Error()
	}
	return e.Code + ": " + e.Description
}

func (e *Error) Unwrap() error { return e.Cause }

func newError(code string, status int, desc string) *Error {
	return &Error{Code: code, Description: desc, Status: status}
}

// The RFC 6749 §5.2 and RFC 8707 §2 error codes.
func InvalidRequest(desc string) *Error {
	return newError("invalid_request", http.StatusBadRequest, desc)
}
func InvalidClient(desc string) *Error {
	return newError("invalid_client", http.StatusUnauthorized, desc)
}
func InvalidGrant(desc string) *Error { return newError("invalid_grant", http.StatusBadRequest, desc) }
func UnauthorizedClient(desc string) *Error {
	return newError("unauthorized_client", http.StatusBadRequest, desc)
}
func UnsupportedGrantType(desc string) *Error {
	return newError("unsupported_grant_type", http.StatusBadRequest, desc)
}
func InvalidScope(desc string) *Error { return newError("invalid_scope", http.StatusBadRequest, desc) }
func InvalidTarget(desc string) *Error {
	return newError("invalid_target", http.StatusBadRequest, desc)
}

// TemporarilyUnavailable is RFC 6749 §4.1.2.1's temporarily_unavailable:
// "the authorization server is currently unable to handle the request due
// to a temporary overloading or maintenance". Here a dependency (DynamoDB,
// KMS) is down, slow or throttling: 503 with Retry-After.
func TemporarilyUnavailable() *Error {
	e := newError("temporarily_unavailable", http.StatusServiceUnavailable, "the service is temporarily unavailable; retry shortly")
	e.RetryAfter = unavailable.RetryAfter
	return e
}

// TooManyRequests is a 429 refusal. RFC 6749 registers no code for it; the
// client is refused as it would be for bad credentials.
func TooManyRequests(desc string) *Error {
	return newError("invalid_client", http.StatusTooManyRequests, desc)
}

// WithCause returns a copy of e that logs cause.
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.Cause = cause
	return &c
}

// NoStore sets the headers RFC 6749 §5.1 requires on every response that
// carries tokens or credentials.
func NoStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
}

type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// WriteError writes err as an RFC 6749 §5.2 JSON error. A dependency that is
// down, slow or throttling (unavailable.Is) is a 503 temporarily_unavailable
// with Retry-After. Anything else that is not an *Error is logged with the
// request id and answered as a bare 500 server_error.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	NoStore(w)
	var oe *Error
	isOAuth := errors.As(err, &oe)
	if (!isOAuth || oe.Status >= 500) && unavailable.Is(err) {
		oe = TemporarilyUnavailable().WithCause(err)
		isOAuth = true
	}
	if !isOAuth {
		log.ErrorContext(r.Context(), "internal error", "request_id", httpx.RequestID(r.Context()), "error", err.Error())
		httpx.WriteJSON(w, http.StatusInternalServerError, errorBody{Error: "server_error", ErrorDescription: "internal error; request id " + httpx.RequestID(r.Context())})
		return
	}
	if oe.Cause != nil || oe.Status >= 500 {
		log.WarnContext(r.Context(), "oauth error", "request_id", httpx.RequestID(r.Context()), "error", oe.Code, "cause", errString(oe.Cause))
	}
	if oe.WWWAuthenticate != "" {
		w.Header().Set("WWW-Authenticate", oe.WWWAuthenticate)
	}
	if oe.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(oe.RetryAfter))
	}
	httpx.WriteJSON(w, oe.Status, errorBody{Error: oe.Code, ErrorDescription: oe.Description})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
