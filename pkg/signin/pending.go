package signin

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"orgauth/pkg/domain"
)

// An anonymous GET /authorize writes nothing. Its login transaction is
// pending: the form carries it as "p1.<query>.<time>.<id>", the authorization
// request's own query (already checked), when the page was served and a
// random id, and
// POST /login checks the query again, exactly as /authorize did. Nothing in
// it needs to be secret or signed: whoever edits it gets no more than a new
// GET /authorize would give them, and the CSRF cookie still has to match
// the form. Sign-in going on to the organization's provider writes nothing
// either (ssostate.go). A used-marker is written when a pending one ends in
// a sign-in, so that a form is used once.
const pendingPrefix = "p1."

// maxAuthorizeQuery bounds the query a pending transaction carries, well
// under the form's limit.
const maxAuthorizeQuery = 4096

func pendingID(rawQuery string, served time.Time) string {
	// The random part tells apart two pages of one request served in the
	// same second, so that each form is used once.
	return pendingPrefix + base64.RawURLEncoding.EncodeToString([]byte(rawQuery)) + "." +
		strconv.FormatInt(served.Unix(), 10) + "." + domain.NewID()
}

func isPending(id string) bool { return strings.HasPrefix(id, pendingPrefix) }

// newTransaction is the login transaction of req, served at now to the
// browser whose CSRF token is csrf. id is the transaction's id.
func (s *Service) newTransaction(req *authzRequest, id, csrf string, served time.Time) domain.LoginTransaction {
	return domain.LoginTransaction{
		ID: id, ClientID: req.app.ClientID, RedirectURI: req.redirectURI, State: req.state,
		Nonce: req.nonce, CodeChallenge: req.codeChallenge, Scopes: req.scopes, Audience: req.audience,
		Prompt: req.prompt, LoginHint: req.loginHint, ResponseMode: req.responseMode, MaxAge: req.maxAge, CSRFHash: domain.HashSecret(csrf),
		OrganizationID: req.app.OrganizationID, CreatedAt: served, ExpiresAt: served.Add(s.cfg.TransactionLifetime),
	}
}

// pendingTransaction rebuilds a pending transaction posted back with the
// form, for the browser whose CSRF token is csrf (already checked against
// the form's), with the application its request names.
func (s *Service) pendingTransaction(ctx context.Context, id, csrf string, now time.Time) (domain.LoginTransaction, *domain.Application, error) {
	p := strings.Split(strings.TrimPrefix(id, pendingPrefix), ".")
	if len(p) != 3 {
		return domain.LoginTransaction{}, nil, errExpired("malformed transaction")
	}
	query, err := base64.RawURLEncoding.DecodeString(p[0])
	served, err2 := strconv.ParseInt(p[1], 10, 64)
	if err != nil || err2 != nil || len(query) > maxAuthorizeQuery {
		return domain.LoginTransaction{}, nil, errExpired("malformed transaction")
	}
	at := time.Unix(served, 0)
	if at.After(now.Add(time.Minute)) || !now.Before(at.Add(s.cfg.TransactionLifetime)) {
		return domain.LoginTransaction{}, nil, errExpired("transaction expired")
	}
	req, err := s.parseAuthorize(ctx, string(query))
	var refusal *Refusal
	var ae *authzError
	switch {
	case errors.As(err, &refusal) && refusal.Title == "Unknown application":
		return domain.LoginTransaction{}, nil, errAppGone()
	case errors.As(err, &refusal) || errors.As(err, &ae):
		// The request was good when the page was served; it is not now
		// (the application changed): start again.
		return domain.LoginTransaction{}, nil, errExpired("request no longer valid")
	case err != nil:
		return domain.LoginTransaction{}, nil, err
	}
	return s.newTransaction(req, id, csrf, at), &req.app, nil
}

// useTransaction ends tx: a stored one is consumed, a pending one leaves a
// used-marker. Of concurrent posts of one form, one gets it.
func (s *Service) useTransaction(ctx context.Context, tx domain.LoginTransaction, now time.Time) (domain.LoginTransaction, error) {
	if !isPending(tx.ID) {
		return s.store.ConsumeLoginTransaction(ctx, tx.ID, now)
	}
	if err := s.markUsed(ctx, tx, now); err != nil {
		return domain.LoginTransaction{}, err
	}
	return tx, nil
}

// usedMarkerID is the id of the marker that says the transaction id (a
// pending one, or a sealed SSO state's) was used.
func usedMarkerID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "used-" + hex.EncodeToString(sum[:])
}

// markUsed records that tx, which is stored nowhere, was used: one
// conditional write of a marker that lives as long as tx could. Of
// concurrent calls, one succeeds; the others, and any later one, fail with
// domain.ErrNotFound.
func (s *Service) markUsed(ctx context.Context, tx domain.LoginTransaction, now time.Time) error {
	marker := domain.LoginTransaction{ID: usedMarkerID(tx.ID), ClientID: tx.ClientID,
		OrganizationID: tx.OrganizationID, CreatedAt: now, ExpiresAt: tx.ExpiresAt}
	err := s.store.CreateLoginTransaction(ctx, marker)
	if errors.Is(err, domain.ErrAlreadyExists) {
		return fmt.Errorf("transaction used: %w", domain.ErrNotFound)
	}
	return err
}

// wasUsed reports whether tx, which is stored nowhere, has been used
// (markUsed): a read, no write.
func (s *Service) wasUsed(ctx context.Context, tx domain.LoginTransaction, now time.Time) (bool, error) {
	_, err := s.store.GetLoginTransaction(ctx, usedMarkerID(tx.ID), now)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
