package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"orgauth/pkg/domain"
)

// sessionState is the browser sign-in part of the store. Guarded by
// Store.mu.
type sessionState struct {
	txs      map[string]domain.LoginTransaction
	sessions map[string]domain.Session // key: string(hash)
	counters map[string]counter
}

type counter struct {
	n         int64
	expiresAt time.Time
}

func cleanTx(tx domain.LoginTransaction) domain.LoginTransaction {
	tx.Scopes = slices.Clone(tx.Scopes)
	tx.CSRFHash = bytes.Clone(tx.CSRFHash)
	return tx
}

func (s *Store) CreateLoginTransaction(_ context.Context, tx domain.LoginTransaction) error {
	if tx.ID == "" || tx.ExpiresAt.IsZero() {
		return errors.New("memory: login transaction without id or expiry")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions.txs[tx.ID]; ok {
		return fmt.Errorf("memory: login transaction: %w", domain.ErrAlreadyExists)
	}
	s.sessions.txs[tx.ID] = cleanTx(tx)
	return nil
}

func (s *Store) GetLoginTransaction(_ context.Context, id string, now time.Time) (domain.LoginTransaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, ok := s.sessions.txs[id]
	if !ok || !now.Before(tx.ExpiresAt) {
		return domain.LoginTransaction{}, fmt.Errorf("memory: login transaction: %w", domain.ErrNotFound)
	}
	return cleanTx(tx), nil
}

// ConsumeLoginTransaction deletes and returns the transaction under the
// lock, as DynamoDB's conditional DeleteItem does: one caller gets it.
func (s *Store) ConsumeLoginTransaction(_ context.Context, id string, now time.Time) (domain.LoginTransaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, ok := s.sessions.txs[id]
	if !ok || !now.Before(tx.ExpiresAt) {
		return domain.LoginTransaction{}, fmt.Errorf("memory: consume login transaction: %w", domain.ErrNotFound)
	}
	delete(s.sessions.txs, id)
	return cleanTx(tx), nil
}

func (s *Store) CreateSession(_ context.Context, ss domain.Session) error {
	if len(ss.Hash) == 0 || ss.ExpiresAt.IsZero() {
		return errors.New("memory: session without hash or expiry")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions.sessions[string(ss.Hash)]; ok {
		return fmt.Errorf("memory: session: %w", domain.ErrAlreadyExists)
	}
	ss.Hash = bytes.Clone(ss.Hash)
	s.sessions.sessions[string(ss.Hash)] = ss
	return nil
}

func (s *Store) GetSession(_ context.Context, hash []byte, now time.Time) (domain.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ss, ok := s.sessions.sessions[string(hash)]
	if !ok || !now.Before(ss.ExpiresAt) {
		return domain.Session{}, fmt.Errorf("memory: session: %w", domain.ErrNotFound)
	}
	ss.Hash = bytes.Clone(ss.Hash)
	return ss, nil
}

func (s *Store) DeleteSession(_ context.Context, hash []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sessions.sessions[string(hash)]; !ok {
		return fmt.Errorf("memory: delete session: %w", domain.ErrNotFound)
	}
	delete(s.sessions.sessions, string(hash))
	return nil
}

// windowKey names key's counter in the fixed window containing now, and
// says when that window ends. A window under a second is refused, as
// pkg/storage/dynamo refuses it.
func windowKey(key string, window time.Duration, now time.Time) (string, time.Time, error) {
	if window < time.Second {
		return "", time.Time{}, fmt.Errorf("memory: failure window %v is under a second", window)
	}
	w := int64(window / time.Second)
	start := now.Unix() - now.Unix()%w
	return key + "#" + strconv.FormatInt(start, 10), time.Unix(start+w, 0), nil
}

func (s *Store) CountFailure(_ context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	k, end, err := windowKey(key, window, now)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.sessions.counters[k]
	c.n++
	c.expiresAt = end
	s.sessions.counters[k] = c
	return c.n, nil
}

func (s *Store) ForgetFailure(_ context.Context, key string, window time.Duration, now time.Time) error {
	k, _, err := windowKey(key, window, now)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.sessions.counters[k]; ok && c.n > 0 {
		c.n--
		s.sessions.counters[k] = c
	}
	return nil
}

func (s *Store) Failures(_ context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	k, _, err := windowKey(key, window, now)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.sessions.counters[k]
	if !ok || !now.Before(c.expiresAt) {
		return 0, nil
	}
	return c.n, nil
}
