package authorize_test

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/storage"
)

// writeCounter counts the sign-in writes an anonymous request could cause.
type writeCounter struct {
	storage.Store
	n atomic.Int64
}

func (w *writeCounter) CreateLoginTransaction(ctx context.Context, tx domain.LoginTransaction) error {
	w.n.Add(1)
	return w.Store.CreateLoginTransaction(ctx, tx)
}

func (w *writeCounter) CreateSession(ctx context.Context, s domain.Session) error {
	w.n.Add(1)
	return w.Store.CreateSession(ctx, s)
}

func (w *writeCounter) CountFailure(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	w.n.Add(1)
	return w.Store.CountFailure(ctx, key, window, now)
}

// An anonymous GET /authorize used to store a ~4 KB login transaction per
// request, unthrottled. Now 300 of them write nothing, and their forms
// still sign in: the form carries the transaction.
func TestAnonymousAuthorizeWritesNothing(t *testing.T) {
	e := newEnv(t)
	counter := &writeCounter{Store: e.st.Stage.Store}
	e.st.Stage.Store = counter
	e.h = httpx.Middleware(e.st.Stage.Log, nil, e.st.WithClock(e.clock, e.st.Authorize))
	email := e.user(t, e.st.OrgID, "anon")
	b := e.browser()
	var form url.Values
	for i := range 300 {
		f := b.loginForm(t, authzQuery(e.spa, func(q url.Values) { q.Set("state", fmt.Sprint("s-", i)) }))
		if i == 150 {
			form = f
		}
	}
	if n := counter.n.Load(); n != 0 {
		t.Fatalf("300 anonymous /authorize requests wrote %d items", n)
	}
	resp := b.submit(t, form, email, pw)
	q := e.wantRedirect(t, resp, callback)
	if q.Get("code") == "" || q.Get("state") != "s-150" {
		t.Fatalf("the 151st page's form did not sign in: %v", q)
	}
	// A form signs in once.
	wantPage(t, b.submit(t, form, email, pw), 400, "expired")
}
