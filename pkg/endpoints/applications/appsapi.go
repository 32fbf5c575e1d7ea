package applications

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/oauth/bearer"
	"orgauth/pkg/ops"
	"orgauth/pkg/platform/httpx"
)

// Store is what the API reads and writes.
type Store interface {
	GetOrganization(ctx context.Context, id string) (domain.Organization, error)
	GetUser(ctx context.Context, id string) (domain.User, error)
	CreateApplication(ctx context.Context, a domain.Application) error
	GetApplication(ctx context.Context, clientID string) (domain.Application, error)
	UpdateApplication(ctx context.Context, clientID string, fn func(domain.Application) (domain.Application, error)) (domain.Application, error)
	DeleteApplication(ctx context.Context, clientID string) error
	ListApplications(ctx context.Context, orgID string, limit int, cursor string) ([]domain.Application, string, error)
	// IsJTIRevoked reports an access token revoked through /oauth/revoke
	// or by a refresh-token reuse or code replay (pkg/endpoints/token).
	IsJTIRevoked(ctx context.Context, jti string, now time.Time) (bool, error)
	// UsageTotal reads a usage counter: the organization's M2M tokens of
	// the month (storage.Usage).
	UsageTotal(ctx context.Context, name string, now time.Time) (total int64, spread int, err error)

	consentStore // consents.go; its ops.Holdings also end a deleted application's refresh families
	// ListAPIs lists the registered APIs: the only scopes an application
	// may name, and which role may hold each.
	ListAPIs(ctx context.Context) ([]domain.API, error)
}

// TokenVerifier checks bearer access tokens.
type TokenVerifier interface {
	VerifyAccessToken(ctx context.Context, raw, audience string) (jwt.AccessClaims, error)
}

// Config lists the settings the API reads.
type Config struct {
	// Audience is the management audience bearer tokens must carry.
	Audience string
	// DefaultAccessTokenLifetime is shown for applications without their own.
	DefaultAccessTokenLifetime time.Duration
	// TokenQuotas is each plan's monthly M2M token quota (nil:
	// domain.DefaultTokenQuotas), shown with this month's usage.
	TokenQuotas domain.TokenQuotas
}

// Handler serves the applications API.
type Handler struct {
	store         Store
	tokens        TokenVerifier
	cfg           Config
	log           *slog.Logger
	now           func() time.Time
	invalidCursor error
	bearer        *bearer.Authenticator
}

// New returns the API. invalidCursor is the store's error for a bad
// pagination cursor; now may be nil.
func New(store Store, tokens TokenVerifier, cfg Config, log *slog.Logger, now func() time.Time, invalidCursor error) *Handler {
	if now == nil {
		now = time.Now
	}
	auth := bearer.New(tokens, store, bearer.Config{Audiences: []string{cfg.Audience},
		Missing: "a bearer access token for the management API is required",
		Invalid: "the access token is invalid or expired, or not for this API"}, now)
	return &Handler{store: store, tokens: tokens, cfg: cfg, log: log, now: now, invalidCursor: invalidCursor, bearer: auth}
}

// Routes returns the handler for every route of the applications function.
func (h *Handler) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /applications", h.authed(h.create))
	mux.Handle("GET /applications", h.authed(h.list))
	mux.Handle("GET /applications/{client_id}", h.authed(h.get))
	mux.Handle("PATCH /applications/{client_id}", h.authed(h.update))
	mux.Handle("DELETE /applications/{client_id}", h.authed(h.delete))
	mux.Handle("POST /applications/{client_id}/rotate-secret", h.authed(h.rotate))
	mux.Handle("GET /organization", h.authed(h.organization))
	mux.Handle("GET /consents", h.authed(h.listConsents))
	mux.Handle("DELETE /consents/{client_id}", h.authed(h.withdrawConsent))
	mux.Handle("GET /apis", h.authed(h.apis))
	return mux
}

// apiError is an answer other than success, written as a problem.
type apiError struct {
	problem httpx.Problem
	cause   error // logged, never shown
}

func (e *apiError) Error() string { return e.problem.Detail }

func problem(status int, detail string) *apiError {
	return &apiError{problem: httpx.Problem{Status: status, Detail: detail}}
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, c caller) error

// authed authenticates the caller, runs fn, and writes any error it returns
// as a problem: validation errors name their field, anything unexpected is
// logged with the request id and answered as a bare 500.
func (h *Handler) authed(fn handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		c, p, challenge := h.authenticate(r.Context(), r)
		if p != nil {
			if challenge != "" {
				w.Header().Set("WWW-Authenticate", challenge)
			}
			httpx.WriteProblem(w, r, *p)
			return
		}
		if err := fn(w, r, c); err != nil {
			h.writeError(w, r, err)
		}
	})
}

func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fieldError
	var ae *apiError
	var se *domain.ScopeError
	switch {
	case errors.As(err, &se) && !se.Registered:
		httpx.WriteProblem(w, r, httpx.Problem{Status: http.StatusUnprocessableEntity, Title: "Unknown scope", Detail: se.Error() + " (GET /apis lists them)", Field: se.Field})
	case errors.As(err, &se):
		httpx.WriteProblem(w, r, httpx.Problem{Status: http.StatusForbidden, Title: "Scope not yours to give", Detail: se.Error(), Field: se.Field})
	case errors.As(err, &fe):
		httpx.WriteProblem(w, r, httpx.Problem{Status: http.StatusBadRequest, Title: "Invalid request", Detail: fe.Error(), Field: fe.Field})
	case errors.As(err, &ae) && (ae.problem.Status < 500 || ae.cause == nil):
		if ae.cause != nil {
			h.log.ErrorContext(r.Context(), "request failed", "request_id", httpx.RequestID(r.Context()), "error", ae.cause.Error())
		}
		httpx.WriteProblem(w, r, ae.problem)
	default:
		httpx.WriteErrorProblem(w, r, h.log, err)
	}
}

// audit writes one structured line per security-relevant change.
func (h *Handler) audit(ctx context.Context, r *http.Request, event string, c caller, app domain.Application, attrs ...any) {
	h.log.InfoContext(ctx, "audit", append([]any{"event", event, "actor", c.Subject, "organization_id", app.OrganizationID,
		"client_id", app.ClientID, "request_id", httpx.RequestID(ctx), "source_ip", httpx.SourceIP(r)}, attrs...)...)
}

// view is an application as the API shows it: never a secret or its hash.
type view struct {
	ClientID                string     `json:"client_id"`
	OrganizationID          string     `json:"organization_id"`
	Name                    string     `json:"name"`
	Description             string     `json:"description"`
	Type                    string     `json:"type"`
	CallbackURLs            []string   `json:"callback_urls"`
	AllowedOrigins          []string   `json:"allowed_origins"`
	LogoutURLs              []string   `json:"logout_urls"`
	Scopes                  []string   `json:"scopes"`
	AccessTokenLifetime     int64      `json:"access_token_lifetime"`
	TokenReuse              bool       `json:"token_reuse"` // M2M: a still-valid token may be answered again
	CreatedBy               string     `json:"created_by"`
	CreatedAt               time.Time  `json:"created_at"`
	UpdatedAt               time.Time  `json:"updated_at"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	// ClientSecret is set only in the response that created or rotated it.
	ClientSecret string `json:"client_secret,omitempty"`
}

func (h *Handler) view(a domain.Application) view {
	lifetime := a.AccessTokenLifetime
	if lifetime == 0 {
		lifetime = h.cfg.DefaultAccessTokenLifetime
	}
	v := view{
		ClientID: a.ClientID, OrganizationID: a.OrganizationID, Name: a.Name, Description: a.Description,
		Type: string(a.Type), CallbackURLs: nonNil(a.CallbackURLs), AllowedOrigins: nonNil(a.AllowedOrigins),
		LogoutURLs: nonNil(a.LogoutURLs), Scopes: nonNil(a.Scopes), AccessTokenLifetime: int64(lifetime / time.Second),
		TokenReuse: !a.TokenReuseOff,
		CreatedBy:  a.CreatedBy, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC(),
	}
	if len(a.PreviousSecretHash) > 0 && h.now().Before(a.PreviousSecretExpiresAt) {
		t := a.PreviousSecretExpiresAt.UTC()
		v.PreviousSecretExpiresAt = &t
	}
	return v
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func etag(a domain.Application) string { return `"` + strconv.FormatInt(a.Version, 10) + `"` }

func (h *Handler) writeApp(w http.ResponseWriter, status int, a domain.Application, v view) {
	w.Header().Set("ETag", etag(a))
	httpx.WriteJSON(w, status, v)
}

// load returns an application of the caller's organization; any other is
// 404, so that ids of other organizations cannot be probed.
func (h *Handler) load(ctx context.Context, c caller, id string) (domain.Application, error) {
	a, err := h.store.GetApplication(ctx, id)
	if errors.Is(err, domain.ErrNotFound) || (err == nil && a.OrganizationID != c.OrgID) {
		return domain.Application{}, problem(http.StatusNotFound, "no such application in your organization")
	}
	return a, err
}

// loadForChange loads an application the caller may change.
func (h *Handler) loadForChange(ctx context.Context, c caller, id string) (domain.Application, error) {
	a, err := h.load(ctx, c, id)
	if err != nil {
		return a, err
	}
	return a, mayChange(c, &a)
}

// updateError maps a failed compare-and-swap to its answer.
func updateError(err error, id string) error {
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return problem(http.StatusNotFound, "no such application in your organization")
	case errors.Is(err, domain.ErrConflict):
		return problem(http.StatusConflict, "the application is being changed concurrently; retry")
	}
	return err
}

// mayChange enforces "only the user who created an application may edit,
// rotate or delete it", and that M2M tokens only read.
func mayChange(c caller, a *domain.Application) error {
	if c.Machine {
		return problem(http.StatusForbidden, "M2M tokens may read applications but not create, change or delete them; use a user's token")
	}
	if a != nil && a.CreatedBy != c.Subject {
		return problem(http.StatusForbidden, fmt.Sprintf("only the user who created this application (%s) may change it", a.CreatedBy))
	}
	return nil
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request, c caller) error {
	ctx := r.Context()
	if err := mayChange(c, nil); err != nil {
		return err
	}
	in, err := decodeObject(r)
	if err != nil {
		return err
	}
	now := h.now().UTC()
	a := domain.Application{OrganizationID: c.OrgID, CreatedBy: c.Subject, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := in.require("name", "type"); err != nil {
		return err
	}
	if err := in.apply(&a, true); err != nil {
		return err
	}
	if err := a.Validate(); err != nil {
		return err
	}
	if err := h.checkScopes(ctx, c, a.Scopes, nil); err != nil {
		return err
	}
	var secret string
	if a.Type == domain.ClientM2M {
		org, err := h.store.GetOrganization(ctx, c.OrgID)
		if err != nil {
			return fmt.Errorf("load organization: %w", err)
		}
		if !org.Plan.AllowsM2M() {
			return problem(http.StatusForbidden, fmt.Sprintf("M2M applications need the %s plan or above; this organization is on the %s plan", domain.MinimumPlanForM2M, org.Plan))
		}
		secret, a.SecretHash = domain.NewSecret()
	}
	for attempt := 0; ; attempt++ {
		a.ClientID = domain.NewID()
		err = h.store.CreateApplication(ctx, a)
		if !errors.Is(err, domain.ErrAlreadyExists) || attempt == 2 {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("create application: %w", err)
	}
	h.audit(ctx, r, "application_created", c, a, "type", string(a.Type))
	v := h.view(a)
	v.ClientSecret = secret
	w.Header().Set("Location", "/applications/"+a.ClientID)
	h.writeApp(w, http.StatusCreated, a, v)
	return nil
}

type listResponse struct {
	Applications []view `json:"applications"`
	Next         string `json:"next,omitempty"`
}

func (h *Handler) list(w http.ResponseWriter, r *http.Request, c caller) error {
	q := r.URL.Query()
	limit := 50
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return invalid("limit", "must be a whole number from 1 to 100")
		}
		limit = n
	}
	apps, next, err := h.store.ListApplications(r.Context(), c.OrgID, limit, q.Get("next"))
	if h.invalidCursor != nil && errors.Is(err, h.invalidCursor) {
		return invalid("next", "is not a cursor this API returned")
	}
	if err != nil {
		return fmt.Errorf("list applications: %w", err)
	}
	out := listResponse{Applications: make([]view, 0, len(apps)), Next: next}
	for _, a := range apps {
		out.Applications = append(out.Applications, h.view(a))
	}
	httpx.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request, c caller) error {
	a, err := h.load(r.Context(), c, r.PathValue("client_id"))
	if err != nil {
		return err
	}
	h.writeApp(w, http.StatusOK, a, h.view(a))
	return nil
}

// errStale aborts a compare-and-swap whose If-Match no longer holds.
var errStale = problem(http.StatusPreconditionFailed, "the application changed since you read it (ETag mismatch); read it again and retry")

func (h *Handler) update(w http.ResponseWriter, r *http.Request, c caller) error {
	ctx := r.Context()
	id := r.PathValue("client_id")
	if _, err := h.loadForChange(ctx, c, id); err != nil {
		return err
	}
	in, err := decodeObject(r)
	if err != nil {
		return err
	}
	ifMatch := r.Header.Get("If-Match")
	var apis []domain.API
	_, scopesChange := in["scopes"]
	if scopesChange {
		if apis, err = h.store.ListAPIs(ctx); err != nil {
			return fmt.Errorf("list APIs: %w", err)
		}
	}
	// The store re-reads and re-applies the patch if another writer got in
	// first, so a lost update is impossible even without If-Match.
	updated, err := h.store.UpdateApplication(ctx, id, func(cur domain.Application) (domain.Application, error) {
		if ifMatch != "" && !etagMatches(ifMatch, etag(cur)) {
			return cur, errStale
		}
		kept := cur.Scopes
		if err := in.apply(&cur, false); err != nil {
			return cur, err
		}
		if err := cur.Validate(); err != nil {
			return cur, err
		}
		// A member adds only scopes their role may hold; those the
		// application had stay (its tokens carry them only while the
		// creator's role does).
		if err := domain.CheckGrantable(apis, c.Role, cur.Scopes, kept); scopesChange && err != nil {
			return cur, err
		}
		cur.UpdatedAt = h.now().UTC()
		return cur, nil
	})
	if err != nil {
		return updateError(err, id)
	}
	h.audit(ctx, r, "application_updated", c, updated, "fields", strings.Join(in.keys(), ","))
	h.writeApp(w, http.StatusOK, updated, h.view(updated))
	return nil
}

// etagMatches implements If-Match (RFC 9110 §13.1.1): "*" or a list of
// strong entity tags.
func etagMatches(header, current string) bool {
	for _, t := range strings.Split(header, ",") {
		if t = strings.TrimSpace(t); t == "*" || t == current {
			return true
		}
	}
	return false
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request, c caller) error {
	ctx := r.Context()
	id := r.PathValue("client_id")
	a, err := h.loadForChange(ctx, c, id)
	if err != nil {
		return err
	}
	if ifMatch := r.Header.Get("If-Match"); ifMatch != "" && !etagMatches(ifMatch, etag(a)) {
		return errStale
	}
	if err := h.store.DeleteApplication(ctx, id); err != nil && !errors.Is(err, domain.ErrNotFound) {
		return fmt.Errorf("delete application: %w", err)
	}
	// Its refresh tokens end with it (its access tokens are refused
	// wherever they are checked, since the client is gone).
	n, err := ops.RevokeFamiliesOfClient(ctx, h.store, id, h.now())
	h.audit(ctx, r, "application_deleted", c, a, "families_revoked", n)
	if err != nil {
		h.log.ErrorContext(ctx, "revoke the families of a deleted application", "request_id", httpx.RequestID(ctx), "client_id", id, "error", err.Error())
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// errRotatedConcurrently is the loser's answer when two rotations race.
var errRotatedConcurrently = problem(http.StatusConflict, "the application changed while its secret was being rotated; no secret was issued: read it again and retry")

type rotateResponse struct {
	ClientID                string     `json:"client_id"`
	ClientSecret            string     `json:"client_secret"`
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at"`
}

func (h *Handler) rotate(w http.ResponseWriter, r *http.Request, c caller) error {
	ctx := r.Context()
	id := r.PathValue("client_id")
	a, err := h.loadForChange(ctx, c, id)
	if err != nil {
		return err
	}
	if a.Type != domain.ClientM2M {
		return problem(http.StatusConflict, "only M2M applications have a client secret to rotate")
	}
	grace := DefaultGracePeriod
	if r.ContentLength != 0 {
		in, err := decodeObject(r)
		if err != nil {
			return err
		}
		if grace, err = in.gracePeriod(); err != nil {
			return err
		}
	}
	secret, hash := domain.NewSecret()
	now := h.now().UTC()
	// Compare-and-swap on the version this request read: of two concurrent
	// rotations one wins, and the other answers 409 with no secret, rather
	// than a secret that the winner's rotation has already replaced.
	updated, err := h.store.UpdateApplication(ctx, id, func(cur domain.Application) (domain.Application, error) {
		if ifMatch := r.Header.Get("If-Match"); ifMatch != "" && !etagMatches(ifMatch, etag(cur)) {
			return cur, errStale
		}
		if cur.Version != a.Version {
			return cur, errRotatedConcurrently
		}
		cur.PreviousSecretHash, cur.PreviousSecretExpiresAt = nil, time.Time{}
		if grace > 0 {
			cur.PreviousSecretHash, cur.PreviousSecretExpiresAt = cur.SecretHash, now.Add(grace)
		}
		cur.SecretHash = hash
		cur.UpdatedAt = now
		return cur, nil
	})
	if err != nil {
		return updateError(err, id)
	}
	h.audit(ctx, r, "application_secret_rotated", c, updated, "grace_seconds", int64(grace/time.Second))
	resp := rotateResponse{ClientID: id, ClientSecret: secret}
	if grace > 0 {
		t := updated.PreviousSecretExpiresAt.UTC()
		resp.PreviousSecretExpiresAt = &t
	}
	w.Header().Set("ETag", etag(updated))
	httpx.WriteJSON(w, http.StatusOK, resp)
	return nil
}
