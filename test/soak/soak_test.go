//go:build soak

package soak

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

// hangLimit is the longest a request may take: the function timeout. The
// AWS call deadline (3 s) and retry budget keep every answer well under it.
const hangLimit = 10 * time.Second

// settle is how long after a fault ends its window stays open: the time
// the server may take to notice the dependency is back.
const settle = 5 * time.Second

type sample struct {
	kind       string
	status     int // 0: no answer (transport error or client timeout)
	start, end time.Time
}

type window struct {
	name       string
	start, end time.Time // end includes settle
	resumed    time.Time // when the dependency was back
}

type recorder struct {
	mu      sync.Mutex
	samples []sample
}

func (r *recorder) add(s sample) {
	r.mu.Lock()
	r.samples = append(r.samples, s)
	r.mu.Unlock()
}

// TestSoak runs SOAK_DURATION (default 3m) of mixed traffic against
// orgauth-local on emulators that the test owns (fixed ports and data
// directories), kills and restarts DynamoDB then KMS, freezes DynamoDB
// longer than the call deadline, and checks what was acknowledged.
func TestSoak(t *testing.T) {
	dur := 3 * time.Minute
	if v := os.Getenv("SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 30*time.Second {
			t.Fatalf("SOAK_DURATION=%q: want a duration of at least 30s", v)
		}
		dur = d
	}
	ctx := context.Background()
	dir := t.TempDir()
	dbDir, kmsDir := filepath.Join(dir, "dynamodb"), filepath.Join(dir, "kms")
	db, err := emulator.StartDynalite(ctx, dbDir)
	if err != nil {
		t.Fatal(err)
	}
	kms, err := emulator.StartKMSOn(ctx, kmsDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	var procMu sync.Mutex
	t.Cleanup(func() {
		procMu.Lock()
		defer procMu.Unlock()
		_ = db.Signal(syscall.SIGCONT)
		_ = db.Stop()
		_ = kms.Stop()
	})
	l := testenv.StartLocal(t, filepath.Join(dir, "server"), "DYNAMODB_ENDPOINT="+db.Endpoint, "KMS_ENDPOINT="+kms.Endpoint)
	mgmtToken := l.DemoUserToken(t)
	client := &http.Client{Timeout: hangLimit + 5*time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	rec := &recorder{}
	do := func(kind string, c *http.Client, req *http.Request) (int, []byte, http.Header) {
		start := time.Now()
		resp, err := c.Do(req)
		status, body, hdr := 0, []byte(nil), http.Header(nil)
		if err == nil {
			body, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
			status, hdr = resp.StatusCode, resp.Header
		}
		rec.add(sample{kind: kind, status: status, start: start, end: time.Now()})
		return status, body, hdr
	}
	form := func(path string, v url.Values) *http.Request {
		r, _ := http.NewRequest("POST", l.Issuer+path, strings.NewReader(v.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r
	}
	api := func(method, path, body string) *http.Request {
		r, _ := http.NewRequest(method, l.Issuer+path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+mgmtToken)
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		return r
	}

	end := time.Now().Add(dur)
	var wg sync.WaitGroup
	worker := func(fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				fn()
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}

	// M2M tokens.
	for range 2 {
		worker(func() {
			do("m2m", client, form("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {l.File.M2M.ClientID},
				"client_secret": {l.File.M2M.ClientSecret}, "audience": {l.File.Audience}}))
		})
	}
	// Sign-ins with code exchange; their refresh tokens feed the refreshers.
	refreshTokens := make(chan string, 64)
	hidden := regexp.MustCompile(`name="(transaction|csrf_token)" value="([^"]*)"`)
	verifier := "soak-verifier-0123456789-0123456789-0123456789"
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	worker(func() {
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar, Timeout: client.Timeout, CheckRedirect: client.CheckRedirect}
		q := url.Values{"response_type": {"code"}, "client_id": {l.File.SPA.ClientID}, "redirect_uri": {l.File.SPA.RedirectURI},
			"scope": {"openid offline_access"}, "state": {"s"}, "nonce": {"n"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		r, _ := http.NewRequest("GET", l.Issuer+"/authorize?"+q.Encode(), nil)
		status, page, _ := do("signin", browser, r)
		if status != 200 {
			return
		}
		f := url.Values{"email": {l.File.User.Email}, "password": {l.File.User.Password}}
		for _, m := range hidden.FindAllStringSubmatch(string(page), -1) {
			f.Set(m[1], m[2])
		}
		r = form("/login", f)
		r.Header.Set("Origin", l.Issuer)
		status, _, hdr := do("signin", browser, r)
		if status != 303 {
			return
		}
		loc, _ := url.Parse(hdr.Get("Location"))
		code := loc.Query().Get("code")
		if code == "" {
			return
		}
		status, body, _ := do("code", client, form("/oauth/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
			"code_verifier": {verifier}, "redirect_uri": {l.File.SPA.RedirectURI}, "client_id": {l.File.SPA.ClientID}}))
		var tok struct {
			RefreshToken string `json:"refresh_token"`
		}
		if status == 200 && json.Unmarshal(body, &tok) == nil && tok.RefreshToken != "" {
			select {
			case refreshTokens <- tok.RefreshToken:
			default:
			}
		}
	})
	// Refreshes: each successor goes back for the next round.
	worker(func() {
		var rt string
		select {
		case rt = <-refreshTokens:
		case <-time.After(time.Second):
			return
		}
		status, body, _ := do("refresh", client, form("/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {l.File.SPA.ClientID}}))
		var tok struct {
			RefreshToken string `json:"refresh_token"`
		}
		if status == 200 && json.Unmarshal(body, &tok) == nil && tok.RefreshToken != "" {
			select {
			case refreshTokens <- tok.RefreshToken:
			default:
			}
		} else if status == 0 || status >= 500 {
			select { // perhaps not consumed: try it again
			case refreshTokens <- rt:
			default:
			}
		}
	})
	// Management-API writes; what was acknowledged is checked at the end.
	type appState struct {
		typ       string
		origins   []string // acknowledged
		secret    string   // acknowledged
		deleted   bool
		uncertain bool // a later write got no answer or a 5xx: only consistency is checked
	}
	var appsMu sync.Mutex
	apps := map[string]*appState{}
	n := 0
	worker(func() {
		n++
		origin := fmt.Sprintf("https://soak-%d.example.com", n)
		body := fmt.Sprintf(`{"name":"soak %d","type":"spa","callback_urls":["%s/cb"],"allowed_origins":["%s"]}`, n, origin, origin)
		typ := "spa"
		if n%2 == 0 {
			typ = "m2m"
			body = fmt.Sprintf(`{"name":"soak %d","type":"m2m","scopes":["read:demo"]}`, n) // a registered scope
		}
		status, resp, _ := do("mgmt", client, api("POST", "/applications", body))
		var created struct {
			ClientID     string `json:"client_id"`
			ClientSecret string `json:"client_secret"`
		}
		if status != 201 || json.Unmarshal(resp, &created) != nil {
			return
		}
		st := &appState{typ: typ, secret: created.ClientSecret}
		if typ == "spa" {
			st.origins = []string{origin}
		}
		appsMu.Lock()
		apps[created.ClientID] = st
		appsMu.Unlock()
		change := func(status int, ok int, apply func()) {
			appsMu.Lock()
			defer appsMu.Unlock()
			switch {
			case status == ok:
				apply()
			case status == 0 || status >= 500:
				st.uncertain = true
			}
		}
		if typ == "spa" {
			moved := strings.Replace(origin, ".example.com", "-b.example.com", 1)
			status, _, _ = do("mgmt", client, api("PATCH", "/applications/"+created.ClientID, fmt.Sprintf(`{"allowed_origins":["%s"]}`, moved)))
			change(status, 200, func() { st.origins = []string{moved} })
		} else {
			status, resp, _ = do("mgmt", client, api("POST", "/applications/"+created.ClientID+"/rotate-secret", `{"grace_period":0}`))
			var rotated struct {
				ClientSecret string `json:"client_secret"`
			}
			_ = json.Unmarshal(resp, &rotated)
			change(status, 200, func() { st.secret = rotated.ClientSecret })
		}
		if n%3 == 0 {
			status, _, _ = do("mgmt", client, api("DELETE", "/applications/"+created.ClientID, ""))
			change(status, 204, func() { st.deleted = true })
		}
	})

	// Faults: kill and restart DynamoDB, then KMS, then freeze DynamoDB
	// for twice the call deadline. Endpoints stay fixed: same port, same
	// data directory.
	var windows []window
	t0 := time.Now()
	at := func(frac float64) { time.Sleep(time.Until(t0.Add(time.Duration(frac * float64(dur))))) }
	restart := func(name string, p **emulator.Process, start func() (*emulator.Process, error)) {
		w := window{name: "kill+restart " + name, start: time.Now()}
		procMu.Lock()
		_ = (*p).Signal(syscall.SIGKILL)
		<-(*p).Done()
		procMu.Unlock()
		time.Sleep(8 * time.Second)
		np, err := start()
		if err != nil {
			t.Errorf("restart %s: %v", name, err)
			return
		}
		procMu.Lock()
		*p = np
		procMu.Unlock()
		w.resumed = time.Now()
		w.end = w.resumed.Add(settle)
		windows = append(windows, w)
	}
	at(0.2)
	restart("DynamoDB (dynalite)", &db, func() (*emulator.Process, error) { return emulator.StartDynaliteOn(ctx, dbDir, db.Port) })
	at(0.45)
	restart("KMS (local-kms)", &kms, func() (*emulator.Process, error) { return emulator.StartKMSOn(ctx, kmsDir, kms.Port) })
	at(0.7)
	w := window{name: "SIGSTOP DynamoDB 6s", start: time.Now()}
	_ = db.Signal(syscall.SIGSTOP)
	time.Sleep(6 * time.Second)
	_ = db.Signal(syscall.SIGCONT)
	w.resumed = time.Now()
	w.end = w.resumed.Add(settle)
	windows = append(windows, w)
	wg.Wait()

	// Report.
	inside := func(s sample) bool {
		for _, w := range windows {
			if s.start.Before(w.end) && s.end.After(w.start) {
				return true
			}
		}
		return false
	}
	type counts map[string]map[int]int
	in, out := counts{}, counts{}
	lat := map[string][]time.Duration{}
	var failures []string
	for _, s := range rec.samples {
		c := out
		if inside(s) {
			c = in
		}
		if c[s.kind] == nil {
			c[s.kind] = map[int]int{}
		}
		c[s.kind][s.status]++
		d := s.end.Sub(s.start)
		lat[s.kind] = append(lat[s.kind], d)
		if d > hangLimit {
			failures = append(failures, fmt.Sprintf("%s took %v (limit %v)", s.kind, d, hangLimit))
		}
		if !inside(s) && (s.status == 0 || s.status >= 500) {
			failures = append(failures, fmt.Sprintf("%s answered %d outside a fault window at %s", s.kind, s.status, s.start.Sub(t0).Round(time.Millisecond)))
		}
		// The soak's own management requests are valid: a 4xx there means
		// the soak stopped testing what it says.
		if !inside(s) && s.kind == "mgmt" && s.status >= 400 && s.status < 500 {
			failures = append(failures, fmt.Sprintf("mgmt answered %d outside a fault window at %s", s.status, s.start.Sub(t0).Round(time.Millisecond)))
		}
		// Inside one, a dependency that is down is a 503: any other 5xx is
		// an error the server did not classify.
		if inside(s) && s.status >= 500 && s.status != http.StatusServiceUnavailable {
			failures = append(failures, fmt.Sprintf("%s answered %d inside a fault window at %s, not 503", s.kind, s.status, s.start.Sub(t0).Round(time.Millisecond)))
		}
	}
	kinds := []string{"m2m", "signin", "code", "refresh", "mgmt"}
	var report strings.Builder
	fmt.Fprintf(&report, "soak: %v, %d requests\n", dur, len(rec.samples))
	fmt.Fprintf(&report, "%-8s %6s %8s %8s  %-28s %s\n", "kind", "n", "p50", "p99", "statuses outside faults", "statuses inside faults")
	for _, k := range kinds {
		ds := lat[k]
		slices.Sort(ds)
		p := func(q float64) time.Duration {
			if len(ds) == 0 {
				return 0
			}
			return ds[int(q*float64(len(ds)-1))].Round(time.Millisecond)
		}
		fmt.Fprintf(&report, "%-8s %6d %8v %8v  %-28s %s\n", k, len(ds), p(0.5), p(0.99), fmtCounts(out[k]), fmtCounts(in[k]))
	}
	for _, w := range windows {
		recovery := "not within the run"
		first := time.Time{}
		for _, s := range rec.samples {
			if s.start.After(w.resumed) && s.status/100 == 2 && (s.kind == "mgmt" || s.kind == "m2m" || s.kind == "code") {
				if first.IsZero() || s.end.Before(first) {
					first = s.end
				}
			}
		}
		if !first.IsZero() {
			recovery = first.Sub(w.resumed).Round(time.Millisecond).String()
		}
		fmt.Fprintf(&report, "fault %-26s at %6v, lasted %6v, first success after it: %s\n", w.name,
			w.start.Sub(t0).Round(time.Second), w.resumed.Sub(w.start).Round(100*time.Millisecond), recovery)
	}

	// Acknowledged writes, through the API.
	time.Sleep(settle)
	checked := 0
	for id, st := range apps {
		if st.uncertain {
			continue
		}
		checked++
		status, body, _ := do("check", client, api("GET", "/applications/"+id, ""))
		if st.deleted {
			if status != 404 {
				failures = append(failures, fmt.Sprintf("application %s: deleted (acknowledged) but GET answers %d", id, status))
			}
			continue
		}
		var got struct {
			AllowedOrigins []string `json:"allowed_origins"`
		}
		if status != 200 || json.Unmarshal(body, &got) != nil {
			failures = append(failures, fmt.Sprintf("application %s: acknowledged but GET answers %d", id, status))
			continue
		}
		if !slices.Equal(got.AllowedOrigins, st.origins) {
			failures = append(failures, fmt.Sprintf("application %s: allowed_origins %v, acknowledged %v", id, got.AllowedOrigins, st.origins))
		}
		if st.typ == "m2m" {
			status, _, _ := do("check", client, form("/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {id},
				"client_secret": {st.secret}, "audience": {l.File.Audience}}))
			if status != 200 {
				failures = append(failures, fmt.Sprintf("application %s: the acknowledged secret gets %d", id, status))
			}
		}
	}

	// The table itself: no application without its secret hash, no
	// origin entry that grants what no application lists (stale entries of
	// failed writes are pruned when asked about after their retention), no
	// refresh family with two live tokens.
	raw := dynamo.NewLocalClient(db.Endpoint)
	table := l.File.Table
	scan := func() []map[string]types.AttributeValue {
		var items []map[string]types.AttributeValue
		in := &dynamodb.ScanInput{TableName: &table, ConsistentRead: aws.Bool(true)}
		for {
			out, err := raw.Scan(ctx, in)
			if err != nil {
				t.Fatalf("scan: %v", err)
			}
			items = append(items, out.Items...)
			if out.LastEvaluatedKey == nil {
				return items
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	str := func(item map[string]types.AttributeValue, k string) string {
		if v, ok := item[k].(*types.AttributeValueMemberS); ok {
			return v.Value
		}
		return ""
	}
	later := dynamo.New(raw, table, dynamo.WithClock(func() time.Time { return time.Now().Add(time.Hour) }))
	now := dynamo.New(raw, table)
	items := scan()
	listed := map[string]bool{} // origin + " " + client id
	for _, item := range items {
		if !strings.HasPrefix(str(item, "pk"), "APP#") || str(item, "sk") != "APP" {
			continue
		}
		if str(item, "client_type") == "m2m" {
			if _, ok := item["secret_hash"]; !ok {
				failures = append(failures, "application "+str(item, "client_id")+" has no secret hash")
			}
		}
		if l, ok := item["allowed_origins"].(*types.AttributeValueMemberL); ok {
			for _, v := range l.Value {
				listed[v.(*types.AttributeValueMemberS).Value] = true
			}
		}
	}
	origins := map[string]bool{}
	for _, item := range items {
		if o, ok := strings.CutPrefix(str(item, "pk"), "ORIGIN#"); ok {
			origins[o] = true
		}
	}
	stale := 0
	for o := range origins {
		if ok, err := now.OriginAllowed(ctx, o); err != nil || ok != listed[o] {
			failures = append(failures, fmt.Sprintf("origin %s: allowed %v (%v), listed by an application: %v", o, ok, err, listed[o]))
		}
		if !listed[o] {
			stale++
		}
		_, _ = later.OriginAllowed(ctx, o) // prunes what no application lists
	}
	live := map[string]int{}
	revoked := map[string]bool{}
	for _, item := range scan() {
		pk := str(item, "pk")
		if o, ok := strings.CutPrefix(pk, "ORIGIN#"); ok && !listed[o] {
			failures = append(failures, "orphan origin entry "+o+" after pruning")
		}
		if strings.HasPrefix(pk, "FAMILY#") && str(item, "sk") == "FAMILY" {
			if b, ok := item["revoked"].(*types.AttributeValueMemberBOOL); ok && b.Value {
				revoked[pk] = true
			}
		}
		if strings.HasPrefix(pk, "RT#") {
			if _, rotated := item["rotated_at"]; !rotated {
				live[strings.TrimSuffix(str(item, "gsi1pk"), "#TOKENS")]++
			}
		}
	}
	forks := 0
	for fam, n := range live {
		if n > 1 && !revoked[fam] {
			forks++
			failures = append(failures, fmt.Sprintf("refresh family %s has %d unrotated tokens", fam, n))
		}
	}
	fmt.Fprintf(&report, "checked: %d acknowledged applications (%d with an unanswered write skipped), %d origin entries (%d stale, granting nothing, pruned), %d refresh families, %d forked\n",
		checked, len(apps)-checked, len(origins), stale, len(live), forks)
	t.Log("\n" + report.String())
	if out := os.Getenv("SOAK_REPORT"); out != "" {
		_ = os.WriteFile(out, []byte(report.String()), 0o644)
	}
	sort.Strings(failures)
	for i, f := range failures {
		if i == 30 {
			t.Errorf("... and %d more", len(failures)-30)
			break
		}
		t.Error(f)
	}
}

func fmtCounts(c map[int]int) string {
	if len(c) == 0 {
		return "-"
	}
	keys := make([]int, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d:%d", k, c[k]))
	}
	return strings.Join(parts, " ")
}
