package memory

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage/conformance"
)

var _ conformance.SessionStore = (*SessionStore)(nil)

// SessionStore keeps login transactions, sessions and failure counters in
// memory. It is separate from Store so that each can grow on its own; the
// zero value is not ready, use NewSessions.
type SessionStore struct {
	mu       sync.Mutex
	txs      map[string]domain.LoginTransaction
	sessions map[string]domain.Session // key: string(hash)
	counters map[string]counter
	ssoTxs   map[string]domain.SSOTransaction
	links    map[string]domain.UpstreamLink // key: issuer NUL subject
}

type counter struct {
	n         int64
	expiresAt time.Time
}

// NewSessions returns an empty session store.
func NewSessions() *SessionStore {
	return &SessionStore{txs: map[string]domain.LoginTransaction{},
		sessions: map[string]domain.Session{}, counters: map[string]counter{},
		ssoTxs: map[string]domain.SSOTransaction{}, links: map[string]domain.UpstreamLink{}}
}

func cleanTx(tx domain.LoginTransaction) domain.LoginTransaction {
	tx.Scopes = slices.Clone(tx.Scopes)
	tx.CSRFHash = bytes.Clone(tx.CSRFHash)
	return tx
}

func (m *SessionStore) CreateLoginTransaction(_ context.Context, tx domain.LoginTransaction) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.txs[tx.ID]; ok {
		return fmt.Errorf("memstore: login transaction: %w", domain.ErrAlreadyExists)
	}
	m.txs[tx.ID] = cleanTx(tx)
	return nil
}

func (m *SessionStore) GetLoginTransaction(_ context.Context, id string, now time.Time) (domain.LoginTransaction, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx, ok := m.txs[id]
	if !ok || !now.Before(tx.ExpiresAt) {
		return domain.LoginTransaction{}, fmt.Errorf("memstore: login transaction: %w", domain.ErrNotFound)
	}
	return cleanTx(tx), nil
}

func (m *SessionStore) ConsumeLoginTransaction(_ context.Context, id string, now time.Time) (domain.LoginTransaction, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx, ok := m.txs[id]
	if !ok || !now.Before(tx.ExpiresAt) {
		return domain.LoginTransaction{}, fmt.Errorf("memstore: consume login transaction: %w", domain.ErrNotFound)
	}
	delete(m.txs, id)
	return cleanTx(tx), nil
}

func (m *SessionStore) CreateSession(_ context.Context, s domain.Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[string(s.Hash)]; ok {
		return fmt.Errorf("memstore: session: %w", domain.ErrAlreadyExists)
	}
	s.Hash = bytes.Clone(s.Hash)
	m.sessions[string(s.Hash)] = s
	return nil
}

func (m *SessionStore) GetSession(_ context.Context, hash []byte, now time.Time) (domain.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[string(hash)]
	if !ok || !now.Before(s.ExpiresAt) {
		return domain.Session{}, fmt.Errorf("memstore: session: %w", domain.ErrNotFound)
	}
	s.Hash = bytes.Clone(s.Hash)
	return s, nil
}

func (m *SessionStore) DeleteSession(_ context.Context, hash []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.sessions[string(hash)]; !ok {
		return fmt.Errorf("memstore: delete session: %w", domain.ErrNotFound)
	}
	delete(m.sessions, string(hash))
	return nil
}

// windowKey names key's counter in the fixed window containing now, and
// says when that window ends.
func windowKey(key string, window time.Duration, now time.Time) (string, time.Time) {
	w := int64(window / time.Second)
	start := now.Unix() - now.Unix()%w
	return key + "#" + strconv.FormatInt(start, 10), time.Unix(start+w, 0)
}

func (m *SessionStore) CountFailure(_ context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	k, end := windowKey(key, window, now)
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.counters[k]
	c.n++
	c.expiresAt = end
	m.counters[k] = c
	return c.n, nil
}

func (m *SessionStore) ForgetFailure(_ context.Context, key string, window time.Duration, now time.Time) error {
	k, _ := windowKey(key, window, now)
	m.mu.Lock()
	defer m.mu.Unlock()
	if c, ok := m.counters[k]; ok && c.n > 0 {
		c.n--
		m.counters[k] = c
	}
	return nil
}

func (m *SessionStore) Failures(_ context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	k, _ := windowKey(key, window, now)
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.counters[k]
	if !ok || !now.Before(c.expiresAt) {
		return 0, nil
	}
	return c.n, nil
}
