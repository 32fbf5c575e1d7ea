package signin

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"orgauth/pkg/domain"
)

// Sending a user upstream writes nothing. The state orgauth sends to the
// organization's provider is the SSO transaction itself, sealed:
// "s1." + base64url(nonce ‖ AES-256-GCM(JSON)), where the JSON holds what
// the callback needs (the state's random id, the organization, the
// provider, the redirect URI's organization, the upstream nonce, the hash
// of the browser's binding secret, when it started and ends) and the login
// transaction it belongs to. It is encrypted, not only authenticated, so
// that the provider learns nothing of the application's own state, nonce
// or PKCE challenge.
//
// The key is derived (HKDF-SHA256, its own label) from the stage's
// device-cookie key (Config.DeviceKey), which the authorize and callback
// functions both load at cold start: it is used for nothing else.
//
// A sealed state proves that orgauth sent it, not that it was used once:
// the callback records its id as used (one conditional write, the same
// used-marker a pending login transaction leaves) only once the provider's
// code has been exchanged and its ID token verified, and refuses a state
// whose marker exists.
const sealedPrefix = "s1."

// maxSealedState bounds the state sent upstream. A request that would need
// a longer one is refused (invalid_request to the application), never
// stored instead.
const maxSealedState = 2048

var stateAAD = []byte("orgauth sso state v1")

// newStateAEAD is the AEAD of sealed states under key (the device-cookie
// key).
func newStateAEAD(key []byte) (cipher.AEAD, error) {
	k, err := hkdf.Key(sha256.New, key, nil, "orgauth sso state v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealedState is what a sealed state holds, with short names: it travels
// in URLs.
type sealedState struct {
	ID       string `json:"j"`
	Org      string `json:"o"`
	Issuer   string `json:"i"`
	Nonce    string `json:"n"`
	Binding  []byte `json:"b"`
	Created  int64  `json:"c"` // Unix milliseconds
	Expires  int64  `json:"e"`
	TxCreate int64  `json:"tc"`

	// The login transaction (domain.LoginTransaction).
	Client   string `json:"cl"`
	Redirect string `json:"r"`
	// The application's own values go back byte for byte, so they are
	// bytes here: a JSON string would turn invalid UTF-8 into U+FFFD.
	AppState  []byte   `json:"s,omitempty"`
	AppNonce  []byte   `json:"an,omitempty"`
	Challenge string   `json:"p"`
	Scopes    []string `json:"sc,omitempty"`
	Audience  string   `json:"a,omitempty"`
	Prompt    string   `json:"pr,omitempty"`
	Hint      []byte   `json:"h,omitempty"`
	Mode      string   `json:"m,omitempty"`
	MaxAge    int64    `json:"x"`
}

var errStateTooLong = errors.New("sealed state too long")

// seal is the state sent upstream for stx and its login transaction tx.
func (s *Service) seal(stx domain.SSOTransaction, tx domain.LoginTransaction) (string, error) {
	p := sealedState{ID: stx.State, Org: stx.OrganizationID, Issuer: stx.Issuer, Nonce: stx.Nonce, Binding: stx.BindingHash,
		Created: stx.CreatedAt.UnixMilli(), Expires: stx.ExpiresAt.UnixMilli(), TxCreate: tx.CreatedAt.UnixMilli(),
		Client: tx.ClientID, Redirect: tx.RedirectURI, AppState: []byte(tx.State), AppNonce: []byte(tx.Nonce), Challenge: tx.CodeChallenge,
		Scopes: tx.Scopes, Audience: tx.Audience, Prompt: tx.Prompt, Hint: []byte(tx.LoginHint), Mode: tx.ResponseMode, MaxAge: tx.MaxAge}
	plain, err := json.Marshal(p)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.stateAEAD.NonceSize(), s.stateAEAD.NonceSize()+len(plain)+s.stateAEAD.Overhead())
	_, _ = rand.Read(nonce)
	state := sealedPrefix + base64.RawURLEncoding.EncodeToString(s.stateAEAD.Seal(nonce, nonce, plain, stateAAD))
	if len(state) > maxSealedState {
		return "", errStateTooLong
	}
	return state, nil
}

// open is the SSO transaction and login transaction of a sealed state that
// this stage issued and that has not expired at now. Any other state
// (unknown, tampered, of another stage, expired) is an error.
func (s *Service) open(state string, now time.Time) (domain.SSOTransaction, domain.LoginTransaction, error) {
	if !strings.HasPrefix(state, sealedPrefix) || len(state) > maxSealedState {
		return domain.SSOTransaction{}, domain.LoginTransaction{}, errors.New("not a sealed state")
	}
	raw, err := base64.RawURLEncoding.DecodeString(state[len(sealedPrefix):])
	ns := s.stateAEAD.NonceSize()
	if err != nil || len(raw) < ns+s.stateAEAD.Overhead() {
		return domain.SSOTransaction{}, domain.LoginTransaction{}, errors.New("malformed sealed state")
	}
	plain, err := s.stateAEAD.Open(nil, raw[:ns], raw[ns:], stateAAD)
	if err != nil {
		return domain.SSOTransaction{}, domain.LoginTransaction{}, fmt.Errorf("sealed state: %w", err)
	}
	var p sealedState
	if err := json.Unmarshal(plain, &p); err != nil || p.ID == "" || p.Org == "" || p.Client == "" {
		return domain.SSOTransaction{}, domain.LoginTransaction{}, errors.New("incomplete sealed state")
	}
	created, expires := time.UnixMilli(p.Created).UTC(), time.UnixMilli(p.Expires).UTC()
	if created.After(now.Add(time.Minute)) || !now.Before(expires) {
		return domain.SSOTransaction{}, domain.LoginTransaction{}, errors.New("sealed state expired")
	}
	stx := domain.SSOTransaction{State: p.ID, OrganizationID: p.Org, ClientID: p.Client, Nonce: p.Nonce, BindingHash: p.Binding,
		CreatedAt: created, ExpiresAt: expires, Issuer: p.Issuer, RedirectURI: domain.SSORedirectURI(s.cfg.Issuer, p.Org)}
	tx := domain.LoginTransaction{ID: sealedPrefix + p.ID, ClientID: p.Client, RedirectURI: p.Redirect, State: string(p.AppState),
		Nonce: string(p.AppNonce), CodeChallenge: p.Challenge, Scopes: p.Scopes, Audience: p.Audience, Prompt: p.Prompt,
		LoginHint: string(p.Hint), ResponseMode: p.Mode, MaxAge: p.MaxAge, OrganizationID: p.Org,
		CreatedAt: time.UnixMilli(p.TxCreate).UTC(), ExpiresAt: expires}
	return stx, tx, nil
}
