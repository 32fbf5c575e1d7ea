package applications_test

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/endpoints/applications"
	"orgauth/pkg/jwt"
	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/storage"
)

// interleavingStore runs hook, once, when an UpdateApplication begins:
// another request then completes between this one's read and its write.
type interleavingStore struct {
	storage.Store
	mu   sync.Mutex
	hook func()
}

func (s *interleavingStore) UpdateApplication(ctx context.Context, id string, fn func(domain.Application) (domain.Application, error)) (domain.Application, error) {
	s.mu.Lock()
	hook := s.hook
	s.hook = nil
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return s.Store.UpdateApplication(ctx, id, fn)
}

// TestRotateSecretRace: of two rotations with grace_period 0 that overlap,
// one answers 200 with the live secret and the other 409 problem+json with
// no secret; before, both answered 200 and one of the secrets was dead.
func TestRotateSecretRace(t *testing.T) {
	e := newEnv(t)
	created := e.create(t, "creator", `{"name":"Worker","type":"m2m","scopes":["read"]}`)
	id := created.body["client_id"].(string)

	store := &interleavingStore{Store: e.st.Stage.Store}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	cfg := e.st.Stage.Cfg
	e.api = httpx.Middleware(log, nil, applications.New(store, jwt.NewVerifier(cfg.Issuer, e.st.Stage.Keys, e.clock),
		applications.Config{Audience: cfg.ManagementAudience, DefaultAccessTokenLifetime: time.Hour},
		log, e.clock, storage.ErrInvalidCursor).Routes())

	var inner response
	store.hook = func() { inner = e.do(t, "creator", "POST", "/applications/"+id+"/rotate-secret", `{"grace_period":0}`) }
	outer := e.do(t, "creator", "POST", "/applications/"+id+"/rotate-secret", `{"grace_period":0}`)

	works := func(secret string) bool {
		status, _ := e.clientCredentials(id, secret, e.st.Audience)
		return status == 200
	}
	answers := map[int]int{inner.status: 1}
	answers[outer.status]++
	if answers[200] != 1 || answers[409] != 1 {
		t.Fatalf("want one 200 and one 409, got inner %d %s, outer %d %s", inner.status, inner.raw, outer.status, outer.raw)
	}
	for _, r := range []response{inner, outer} {
		secret, _ := r.body["client_secret"].(string)
		switch r.status {
		case 200:
			if !works(secret) {
				t.Fatalf("the 200 answer's secret is dead: %s", r.raw)
			}
		case 409:
			if secret != "" || r.header.Get("Content-Type") != "application/problem+json" {
				t.Fatalf("the loser's answer: %v %s", r.header, r.raw)
			}
		}
	}
	// Without a concurrent writer, rotations go on working.
	if r := e.do(t, "creator", "POST", "/applications/"+id+"/rotate-secret", `{"grace_period":0}`); r.status != 200 || !works(r.body["client_secret"].(string)) {
		t.Fatalf("rotate after the race: %d %s", r.status, r.raw)
	}
}
