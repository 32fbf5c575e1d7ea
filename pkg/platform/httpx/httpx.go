package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"

	"orgauth/pkg/platform/unavailable"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	sourceIPKey
)

// SourceIPFrom returns the client address of the request being served, for
// audit lines written where the *http.Request is out of reach.
func SourceIPFrom(ctx context.Context) string {
	ip, _ := ctx.Value(sourceIPKey).(string)
	return ip
}

// RequestID returns the id of the request being served, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// WithRequestID stores id in ctx.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

// IDSource returns the request id the platform assigned, or "".
type IDSource func(*http.Request) string

// Middleware gives every request an id (from the platform when it has one,
// otherwise a fresh random one), echoes it in X-Request-Id, logs one access
// line per request, and turns a panic into a logged 500 with no internals.
func Middleware(log *slog.Logger, source IDSource, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := ""
		if source != nil {
			id = source(r)
		}
		if id == "" {
			id = newRequestID()
		}
		r = r.WithContext(context.WithValue(WithRequestID(r.Context(), id), sourceIPKey, SourceIP(r)))
		w.Header().Set("X-Request-Id", id)
		sw := &statusWriter{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				log.ErrorContext(r.Context(), "panic", "request_id", id, "panic", v, "stack", string(debug.Stack()))
				if !sw.wrote {
					WriteJSON(sw, http.StatusInternalServerError, map[string]string{"error": "server_error"})
				}
			}
			log.InfoContext(r.Context(), "request", "request_id", id, "method", r.Method,
				"path", r.URL.Path, "status", sw.status, "source_ip", SourceIP(r))
		}()
		next.ServeHTTP(sw, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// SourceIP is the client's address: API Gateway puts the source IP alone in
// RemoteAddr; a local server has host:port.
func SourceIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// WriteJSON writes v as JSON with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	writeJSONType(w, "application/json", status, v)
}

func writeJSONType(w http.ResponseWriter, ctype string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// Problem is an RFC 9457 problem detail.
type Problem struct {
	Type     string `json:"type,omitempty"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
	// Field names the request field a validation problem concerns.
	Field string `json:"field,omitempty"`
	// RequestID lets support find the log lines of the request.
	RequestID string `json:"request_id,omitempty"`
}

// WriteProblem writes p as application/problem+json (RFC 9457 §3). A 503
// carries Retry-After (RFC 9110 §10.2.3).
func WriteProblem(w http.ResponseWriter, r *http.Request, p Problem) {
	if p.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(unavailable.RetryAfter))
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	p.RequestID = RequestID(r.Context())
	writeJSONType(w, "application/problem+json", p.Status, p)
}

// WriteErrorProblem answers an unexpected error as a problem: a dependency
// that is down, slow or throttling (unavailable.Is) is a 503 with
// Retry-After; anything else a bare 500. Either is logged with the request
// id, and neither shows the error.
func WriteErrorProblem(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	ctx := r.Context()
	if unavailable.Is(err) {
		log.WarnContext(ctx, "dependency unavailable", "request_id", RequestID(ctx), "error", err.Error())
		WriteProblem(w, r, Problem{Status: http.StatusServiceUnavailable, Detail: "a service orgauth depends on is unavailable; retry shortly"})
		return
	}
	log.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "error", err.Error())
	WriteProblem(w, r, Problem{Status: http.StatusInternalServerError, Detail: "internal error; quote the request id to support"})
}

// HSTSValue is the Strict-Transport-Security of an https issuer (RFC 6797):
// two years, subdomains included.
const HSTSValue = "max-age=63072000; includeSubDomains"

// HSTS sends Strict-Transport-Security on every response when issuer is
// https. An http issuer (allowed on loopback only) gets none: HSTS is
// ignored over http, and localhost must stay reachable over it.
func HSTS(issuer string, next http.Handler) http.Handler {
	if !strings.HasPrefix(issuer, "https://") {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Strict-Transport-Security", HSTSValue)
		next.ServeHTTP(w, r)
	})
}

// MethodNotAllowed answers 405 with the Allow header.
func MethodNotAllowed(w http.ResponseWriter, allow ...string) {
	w.Header().Set("Allow", strings.Join(allow, ", "))
	WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "invalid_request", "error_description": "method not allowed"})
}

// NewLogger returns the JSON logger every function uses.
func NewLogger(level slog.Leveler) *slog.Logger {
	return slog.New(slog.NewJSONHandler(logOutput, &slog.HandlerOptions{Level: level}))
}
