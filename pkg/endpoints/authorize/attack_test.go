package authorize_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/platform/httpx"
)

// loggedEnv is newEnv with its JSON logs kept, and its clock one minute
// into a failure window.
func loggedEnv(t *testing.T) (*env, *syncBuffer) {
	e := newEnv(t)
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	e.st.Stage.Log = log
	e.now = e.now.Truncate(15 * time.Minute).Add(time.Minute)
	e.h = httpx.Middleware(log, nil, e.st.WithClock(e.clock, e.st.Authorize))
	return e, logs
}

// Ten addresses times five wrong passwords used to lock any account for
// the whole window. Now the owner's usual browser, which holds the device
// cookie of an earlier sign-in, signs in during the attack; a browser
// without one is slowed down (one attempt per growing delay, at most a
// minute), never locked out; and the audit names the account.
func TestAccountUnderAttack(t *testing.T) {
	e, logs := loggedEnv(t)
	email := e.user(t, e.st.OrgID, "owner")
	owner := e.browser()
	e.wantCode(t, owner.submit(t, owner.loginForm(t, authzQuery(e.spa, nil)), email, pw))
	if c := owner.cookies["__Host-orgauth_device"]; c == nil || !c.HttpOnly || !c.Secure || c.MaxAge < 24*3600 {
		t.Fatalf("a password sign-in earned no device cookie: %+v", c)
	}
	delete(owner.cookies, "__Host-orgauth_session") // a later visit: the password form again

	// The attacker signs in to an account of its own first: its device
	// cookie is for that account, and must not exempt it at the owner's.
	mine := e.user(t, e.st.OrgID, "attacker")
	checked := 0
	for i := range 10 {
		b := e.browser()
		if i == 0 {
			e.wantCode(t, b.submit(t, b.loginForm(t, authzQuery(e.spa, nil)), mine, pw))
			delete(b.cookies, "__Host-orgauth_session")
		}
		form := b.loginForm(t, authzQuery(e.spa, nil))
		for j := range 5 {
			resp := b.submit(t, form, email, fmt.Sprintf("guess %d-%d", i, j))
			switch page := body(t, resp); {
			case resp.StatusCode == 200 && strings.Contains(page, "Incorrect email or password."):
				checked++
			case resp.StatusCode == 429:
			default:
				t.Fatalf("guess %d-%d: %d\n%s", i, j, resp.StatusCode, page)
			}
		}
	}
	// 20 attempts before the delay, then one per delay; the clock stands
	// still, so one at each delay (1, 2, 4, ... 32 s, then the cap of 60 s).
	if checked != 27 {
		t.Fatalf("%d of 50 guesses were checked; want 27", checked)
	}

	// The owner's browser signs in, during the attack.
	e.wantCode(t, owner.submit(t, owner.loginForm(t, authzQuery(e.spa, nil)), email, pw))

	// A fresh browser with the right password waits, at most a minute,
	// and then signs in.
	fresh := e.browser()
	form := fresh.loginForm(t, authzQuery(e.spa, nil))
	resp := fresh.submit(t, form, email, pw)
	wantPage(t, resp, 429, "Too many failed sign-in attempts for this account")
	wait, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || wait < 1 || wait > 60 {
		t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
	}
	e.advance(time.Duration(wait) * time.Second)
	e.wantCode(t, fresh.submit(t, form, email, pw))

	out := logs.String()
	var attack string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, `"event":"login_account_under_attack"`) {
			attack = line
			break
		}
	}
	if attack == "" || !strings.Contains(attack, `"account":"`+email+`"`) || !strings.Contains(attack, `"attempts_in_window":21`) ||
		!strings.Contains(attack, `"source_ips_sample":["198.51.100.`) {
		t.Fatalf("no audit line naming the account under attack:\n%s", attack)
	}
	if strings.Contains(out, "guess ") || strings.Contains(out, pw) {
		t.Fatal("a password reached the logs")
	}
}

// A forged or stale device cookie is no device cookie.
func TestDeviceCookieMustBeGenuine(t *testing.T) {
	e, _ := loggedEnv(t)
	email := e.user(t, e.st.OrgID, "dora")
	owner := e.browser()
	e.wantCode(t, owner.submit(t, owner.loginForm(t, authzQuery(e.spa, nil)), email, pw))
	genuine := owner.cookies["__Host-orgauth_device"].Value
	for range 30 { // past the account's threshold and the longest delay, from many addresses
		b := e.browser()
		b.submit(t, b.loginForm(t, authzQuery(e.spa, nil)), email, "nope")
	}
	// Another account's tag under the genuine MAC, and a changed MAC.
	parts := strings.Split(genuine, ".")
	otherAccount := strings.Join([]string{parts[0], "AAAAAAAAAAAAAAAAAAAAAA", parts[2], parts[3], parts[4]}, ".")
	mac := []byte(parts[4])
	mac[0] ^= 1
	tampered := strings.Join(append(parts[:4:4], string(mac)), ".")
	for _, c := range []string{tampered, otherAccount, "v1.x.9999999999.id.mac", ""} {
		b := e.browser()
		form := b.loginForm(t, authzQuery(e.spa, nil))
		if c != "" {
			b.cookies["__Host-orgauth_device"] = &http.Cookie{Name: "__Host-orgauth_device", Value: c}
		}
		wantPage(t, b.submit(t, form, email, pw), 429, "for this account")
	}
	// The genuine one works from any browser that holds it, until it
	// expires.
	b := e.browser()
	form := b.loginForm(t, authzQuery(e.spa, nil))
	b.cookies["__Host-orgauth_device"] = &http.Cookie{Name: "__Host-orgauth_device", Value: genuine}
	e.wantCode(t, b.submit(t, form, email, pw))
	e.advance(91 * 24 * time.Hour)
	for range 30 {
		x := e.browser()
		x.submit(t, x.loginForm(t, authzQuery(e.spa, nil)), email, "nope")
	}
	b = e.browser()
	form = b.loginForm(t, authzQuery(e.spa, nil))
	b.cookies["__Host-orgauth_device"] = &http.Cookie{Name: "__Host-orgauth_device", Value: genuine}
	wantPage(t, b.submit(t, form, email, pw), 429, "for this account")
}

// Twenty parallel wrong passwords for one account from one browser: each
// attempt is counted before its password is checked, so at most the limit
// (5 per account and address) are checked.
func TestConcurrentGuesses(t *testing.T) {
	e, logs := loggedEnv(t)
	email := e.user(t, e.st.OrgID, "paula")
	b := e.browser()
	form := b.loginForm(t, authzQuery(e.spa, nil))
	form.Set("email", email)
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := cloneValues(form)
			f.Set("password", fmt.Sprintf("parallel guess %d", i))
			r := httptest.NewRequest("POST", "https://auth.example.com/login", strings.NewReader(f.Encode()))
			r.RemoteAddr = b.ip + ":40000"
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Origin", "https://auth.example.com")
			for _, c := range b.cookies {
				r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
			}
			w := httptest.NewRecorder()
			e.h.ServeHTTP(w, r)
			mu.Lock()
			codes[w.Code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[200] != 5 || codes[429] != 15 {
		t.Fatalf("responses by status: %v; want 5 checked (200) and 15 refused (429)", codes)
	}
	if n := strings.Count(logs.String(), `"event":"login_failed"`); n != 5 {
		t.Fatalf("%d passwords were checked; want 5", n)
	}
}

func cloneValues(v url.Values) url.Values {
	out := make(url.Values, len(v))
	for k, x := range v {
		out[k] = append([]string(nil), x...)
	}
	return out
}

// Two instances of the authorize function, built through its constructor
// on one stage (memory table, fake KMS), as two warm Lambda instances:
// each accepts the device cookies the other issued, so the owner's browser
// signs in during an attack whichever instance it reaches. With a key per
// instance, neither would.
func TestDeviceCookieWorksAcrossInstances(t *testing.T) {
	e, _ := loggedEnv(t)
	first := e.h
	second := httpx.Middleware(slog.New(slog.NewJSONHandler(&syncBuffer{}, nil)), nil, e.st.WithClock(e.clock, e.st.Authorize))
	email := e.user(t, e.st.OrgID, "ines")

	e.h = first
	owner := e.browser()
	e.wantCode(t, owner.submit(t, owner.loginForm(t, authzQuery(e.spa, nil)), email, pw))
	fromFirst := owner.cookies["__Host-orgauth_device"].Value
	delete(owner.cookies, "__Host-orgauth_session")
	for i := range 30 { // past the account's threshold and the longest delay, through both instances
		e.h = []http.Handler{first, second}[i%2]
		b := e.browser()
		b.submit(t, b.loginForm(t, authzQuery(e.spa, nil)), email, "nope")
	}

	e.h = second
	fresh := e.browser()
	wantPage(t, fresh.submit(t, fresh.loginForm(t, authzQuery(e.spa, nil)), email, pw), 429, "for this account")
	e.wantCode(t, owner.submit(t, owner.loginForm(t, authzQuery(e.spa, nil)), email, pw))
	fromSecond := owner.cookies["__Host-orgauth_device"].Value
	if fromSecond == fromFirst {
		t.Fatal("the second instance issued no device cookie of its own")
	}
	delete(owner.cookies, "__Host-orgauth_session")

	// The cookie the second instance issued, at the first.
	e.h = first
	b := e.browser()
	form := b.loginForm(t, authzQuery(e.spa, nil))
	b.cookies["__Host-orgauth_device"] = &http.Cookie{Name: "__Host-orgauth_device", Value: fromSecond}
	e.wantCode(t, b.submit(t, form, email, pw))
}
