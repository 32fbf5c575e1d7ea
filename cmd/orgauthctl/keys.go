package main

// orgauthctl keys: the signing-key rotation of infra/KEY-ROTATION.md. The
// timing rules live in pkg/keys; this file does the I/O (the key-set item
// in the table, KMS) and tells the operator what happened and what is next.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/domain"
	"orgauth/pkg/keys"
	"orgauth/pkg/keys/kmskeys"
	"orgauth/pkg/platform/awsenv"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/wiring"
)

var keyCommands = []command{
	{"list", "", "List the signing keys: the active one, upcoming and retiring ones (all in the JWKS), and\n" +
		"retired ones; and the next rotation step.", keysList},
	{"rotate", "[--spec RSA_2048|ECC_NIST_P256] [--stage STAGE]",
		"Perform the next due step of a signing-key rotation, and say when the next one is due:\n" +
			"  1. publish: create a KMS key (tagged " + kmskeys.StageTag + "=STAGE) and publish it in the JWKS;\n" +
			"  2. promote: once every cache has seen it, it signs new tokens; the old key is retiring;\n" +
			"  3. retire: once the old key's last token has expired, drop it from the JWKS and schedule\n" +
			"     its deletion in KMS.\n" +
			"Run it again when the next step is due. The bounds must match the stack's settings (the\n" +
			"flags default to the functions' environment variables); promotion cannot be forced.\n" +
			"See infra/KEY-ROTATION.md.", keysRotate},
	{"withdraw", "", "Roll back step 1: take the upcoming key out of the JWKS and schedule its deletion. It\n" +
		"never signed, so nothing breaks.", keysWithdraw},
}

// keyFlags are the flags every keys command takes.
type keyFlags struct {
	kmsEndpoint string
	fromKeys    string
	bounds      []*bound
}

// bound is one policy duration: a flag, else the variable the functions
// read, else the default, so that an operator with the stack's environment
// agrees with it.
type bound struct {
	flag, env string
	dst       func(*keys.Policy) *time.Duration
	val       time.Duration
	set       bool
}

func declareKeyFlags(fs *flag.FlagSet) *keyFlags {
	kf := &keyFlags{}
	def := keys.DefaultPolicy()
	fs.StringVar(&kf.kmsEndpoint, "kms-endpoint", "", "a KMS emulator (default $KMS_ENDPOINT, or local.json's kms_endpoint)")
	fs.StringVar(&kf.fromKeys, "from-keys", "", "with no key set stored yet: the keys the stack signs with now, as in SIGNING_KEY_IDS\n"+
		"(default $SIGNING_KEY_IDS, or local.json's signing_key_ids)")
	for _, b := range []*bound{
		{flag: "jwks-max-age", env: "JWKS_MAX_AGE", dst: func(p *keys.Policy) *time.Duration { return &p.JWKSMaxAge }},
		{flag: "refresh", env: "KEYSET_REFRESH", dst: func(p *keys.Policy) *time.Duration { return &p.Refresh }},
		{flag: "max-token-lifetime", env: "MAX_TOKEN_LIFETIME", dst: func(p *keys.Policy) *time.Duration { return &p.MaxTokenLifetime }},
		{flag: "clock-skew", env: "CLOCK_SKEW", dst: func(p *keys.Policy) *time.Duration { return &p.ClockSkew }},
		{flag: "key-access", env: "KEY_ACCESS_DELAY", dst: func(p *keys.Policy) *time.Duration { return &p.KeyAccess }},
	} {
		usage := map[string]string{
			"jwks-max-age":       "the stack's JWKS Cache-Control max-age",
			"refresh":            "how often a warm function re-reads the key set",
			"max-token-lifetime": "the longest lifetime of any token the stack signs",
			"clock-skew":         "the leeway verifiers allow on exp",
			"key-access":         "how long KMS may take to let the functions use a new key by its tag",
		}[b.flag]
		fs.Func(b.flag, fmt.Sprintf("%s (default $%s, else %s)", usage, b.env, *b.dst(&def)), func(s string) error {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				return fmt.Errorf("want a duration such as 5m or 24h, got %q", s)
			}
			b.val, b.set = d, true
			return nil
		})
		kf.bounds = append(kf.bounds, b)
	}
	return kf
}

// policy resolves the bounds.
func (kf *keyFlags) policy(getenv func(string) string) (keys.Policy, error) {
	p := keys.DefaultPolicy()
	for _, b := range kf.bounds {
		switch {
		case b.set:
			*b.dst(&p) = b.val
		case getenv(b.env) != "":
			d, err := time.ParseDuration(getenv(b.env))
			if err != nil || d < 0 {
				return p, fmt.Errorf("%s: want a duration such as 5m or 24h, got %q", b.env, getenv(b.env))
			}
			*b.dst(&p) = d
		}
	}
	return p, p.Validate()
}

// keysEnv is what a keys command works with: the key-set store and KMS.
type keysEnv struct {
	inv    *invocation
	store  *dynamo.Store
	kms    *kms.Client
	policy keys.Policy
	flags  *keyFlags
}

// kmsError marks a KMS failure, so that explain words it for KMS.
type kmsError struct{ err error }

func (e *kmsError) Error() string { return e.err.Error() }
func (e *kmsError) Unwrap() error { return e.err }

func kmsErr(err error) error {
	if err == nil {
		return nil
	}
	return &kmsError{err}
}

// explainKMS words KMS failures for an operator.
func (inv *invocation) explainKMS(e *kmsError) error {
	where := "AWS KMS"
	if inv.conn.kmsEndpoint != "" {
		where = inv.conn.kmsEndpoint
	} else if inv.conn.region != "" {
		where = "AWS KMS " + inv.conn.region
	}
	var dial *net.OpError
	if errors.As(e.err, &dial) && dial.Op == "dial" {
		return fmt.Errorf("cannot reach KMS at %s: %v (is the emulator running? make run starts one; or set KMS_ENDPOINT)", where, dial.Err)
	}
	return e.err
}

// keys connects to the table and KMS.
func (inv *invocation) keys(kf *keyFlags) (*keysEnv, error) {
	policy, err := kf.policy(inv.env.getenv)
	if err != nil {
		return nil, usagef("%s: %v", inv.name, err)
	}
	c, err := resolveConnection(inv.common.table, inv.env.getenv)
	if err != nil {
		return nil, err
	}
	if kf.kmsEndpoint != "" {
		c.kmsEndpoint = kf.kmsEndpoint
		if c.region == "" {
			c.region = "us-east-1"
		}
	}
	cfg := config.Config{Region: c.region, DynamoDBEndpoint: c.endpoint, KMSEndpoint: c.kmsEndpoint, Table: c.table}
	awsCfg, err := awsenv.Load(inv.ctx, cfg)
	if err != nil {
		return nil, err
	}
	db, k := wiring.Clients(awsCfg, cfg)
	inv.conn = c
	return &keysEnv{inv: inv, store: dynamo.New(db, c.table), kms: k, policy: policy, flags: kf}, nil
}

// load reads the key set. ok is false when none is stored yet.
func (k *keysEnv) load() (set keys.Set, ok bool, err error) {
	set, err = k.store.GetKeySet(k.inv.ctx)
	if errors.Is(err, domain.ErrNotFound) {
		return keys.Set{}, false, nil
	}
	return set, err == nil, err
}

// currentKeys are the keys the stack signs with before any set is stored.
func (k *keysEnv) currentKeys() []string {
	if k.flags.fromKeys != "" {
		return splitList(k.flags.fromKeys)
	}
	if v := k.inv.env.getenv("SIGNING_KEY_IDS"); v != "" {
		return splitList(v)
	}
	return splitList(k.inv.conn.signingKeyIDs)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// bootstrap builds the set the stack already serves from its static key
// list, resolving aliases to ARNs.
func (k *keysEnv) bootstrap(now time.Time) (keys.Set, error) {
	ids := k.currentKeys()
	if len(ids) == 0 {
		return keys.Set{}, usagef("%s: no key set is stored yet: pass --from-keys with the stack's SIGNING_KEY_IDS "+
			"(its SigningKeyArn output), or set SIGNING_KEY_IDS", k.inv.name)
	}
	arns := make([]string, len(ids))
	specs := make([]string, len(ids))
	for i, id := range ids {
		info, err := kmskeys.CheckSigningKey(k.inv.ctx, k.kms, id)
		if err != nil {
			return keys.Set{}, kmsErr(err)
		}
		arns[i], specs[i] = info.ARN, info.Spec
	}
	return keys.Bootstrap(arns, specs, k.policy, now)
}

// ---------------------------------------------------------------- views

type keyView struct {
	KeyID         string     `json:"key_id"`
	State         string     `json:"state"`
	Spec          string     `json:"spec"`
	Kid           string     `json:"kid,omitempty"`
	Alg           string     `json:"alg,omitempty"`
	PublishedAt   *time.Time `json:"published_at,omitempty"`
	PromoteAfter  *time.Time `json:"promote_after,omitempty"`
	ActivatedAt   *time.Time `json:"activated_at,omitempty"`
	RetiringSince *time.Time `json:"retiring_since,omitempty"`
	NotAfter      *time.Time `json:"not_after,omitempty"`
	RetiredAt     *time.Time `json:"retired_at,omitempty"`
	DeletionDate  *time.Time `json:"deletion_date,omitempty"`
}

func tp(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

type stepView struct {
	Action string     `json:"action"`
	KeyID  string     `json:"key_id,omitempty"`
	DueAt  *time.Time `json:"due_at,omitempty"`
	Reason string     `json:"reason"`
}

func stepOf(s keys.Step) stepView {
	return stepView{Action: string(s.Action), KeyID: s.KeyID, DueAt: tp(s.DueAt), Reason: s.Reason}
}

type policyView struct {
	JWKSMaxAge       string `json:"jwks_max_age"`
	Refresh          string `json:"refresh"`
	MaxTokenLifetime string `json:"max_token_lifetime"`
	ClockSkew        string `json:"clock_skew"`
	KeyAccess        string `json:"key_access"`
	PromoteDelay     string `json:"promote_delay"`
	RetireDelay      string `json:"retire_delay"`
}

func policyOf(p keys.Policy) policyView {
	return policyView{p.JWKSMaxAge.String(), p.Refresh.String(), p.MaxTokenLifetime.String(), p.ClockSkew.String(),
		p.KeyAccess.String(), p.PromoteDelay().String(), p.RetireDelay().String()}
}

// views describes the entries; published keys get their kid from KMS.
func (k *keysEnv) views(set keys.Set) ([]keyView, error) {
	out := make([]keyView, len(set.Entries))
	for i, e := range set.Entries {
		v := keyView{KeyID: e.KeyID, State: string(e.State), Spec: e.Spec,
			PublishedAt: tp(e.PublishedAt), PromoteAfter: tp(e.PromoteAfter), ActivatedAt: tp(e.ActivatedAt),
			RetiringSince: tp(e.RetiringSince), NotAfter: tp(e.NotAfter), RetiredAt: tp(e.RetiredAt), DeletionDate: tp(e.DeletionDate)}
		if e.State == keys.Upcoming {
			v.PromoteAfter = tp(k.policy.PromoteAt(e))
		}
		if e.State == keys.Retiring {
			v.NotAfter = tp(k.policy.RetireAt(e))
		}
		if e.State.Published() {
			info, err := kmskeys.DescribeSigningKey(k.inv.ctx, k.kms, e.KeyID)
			if err != nil {
				return nil, kmsErr(err)
			}
			v.Kid, v.Alg = info.Kid, info.Alg
		}
		out[i] = v
	}
	return out, nil
}

func keysTable(views []keyView) func(io.Writer) {
	rows := make([][]string, len(views))
	for i, v := range views {
		var when string
		switch keys.State(v.State) {
		case keys.Upcoming:
			when = "promote after " + stampp(v.PromoteAfter)
		case keys.Active:
			when = "active since " + stampp(v.ActivatedAt)
		case keys.Retiring:
			when = "in JWKS until " + stampp(v.NotAfter)
		case keys.Retired:
			when = "deleted by KMS " + stampp(v.DeletionDate)
			if v.DeletionDate == nil {
				when = "deletion not scheduled yet"
			}
		}
		rows[i] = []string{v.State, v.Spec, v.Kid, stampp(v.PublishedAt), when, v.KeyID}
	}
	return table([]string{"STATE", "SPEC", "KID", "PUBLISHED", "WHEN", "KEY"}, rows)
}

func stampp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return stamp(*t)
}

// until says how long until t, for people: "in 4m30s", or "now".
func until(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	if d <= 0 {
		return "now"
	}
	return "in " + d.String()
}

// ---------------------------------------------------------------- list

func keysList(fs *flag.FlagSet) func(*invocation) error {
	kf := declareKeyFlags(fs)
	return func(inv *invocation) error {
		k, err := inv.keys(kf)
		if err != nil {
			return err
		}
		now := inv.env.now()
		set, ok, err := k.load()
		if err != nil {
			return err
		}
		note := ""
		if !ok {
			// Show what the functions serve meanwhile: the static list.
			if set, err = k.bootstrap(now); err != nil {
				return err
			}
			note = "No key set is stored yet: the functions sign with SIGNING_KEY_IDS, shown here. " +
				"orgauthctl keys rotate stores the set and starts the first rotation."
		}
		views, err := k.views(set)
		if err != nil {
			return err
		}
		next := keys.NextStep(set, k.policy, now)
		return inv.print(struct {
			Keys    []keyView  `json:"keys"`
			Version int64      `json:"version"`
			Stored  bool       `json:"stored"`
			Next    stepView   `json:"next_step"`
			Policy  policyView `json:"policy"`
		}{views, set.Version, ok, stepOf(next), policyOf(k.policy)}, func(w io.Writer) {
			keysTable(views)(w)
			fmt.Fprintf(w, "\n%s\n", describeNext(next, now))
			if note != "" {
				fmt.Fprintf(w, "%s\n", note)
			}
		})
	}
}

func describeNext(s keys.Step, now time.Time) string {
	switch s.Action {
	case keys.ActionWait:
		return fmt.Sprintf("Next step due at %s (%s): %s.", stamp(s.DueAt), until(s.DueAt, now), s.Reason)
	case keys.ActionPublish:
		return "Next step: publish a new key (orgauthctl keys rotate), whenever you want to rotate."
	default:
		return fmt.Sprintf("Next step due now: %s %s (orgauthctl keys rotate).", s.Action, s.KeyID)
	}
}

// ---------------------------------------------------------------- rotate

// rotateResult is what keys rotate prints.
type rotateResult struct {
	Action  string     `json:"action"` // publish, promote, retire, schedule-deletion, wait
	KeyID   string     `json:"key_id,omitempty"`
	Kid     string     `json:"kid,omitempty"`
	Message string     `json:"message"`
	Next    stepView   `json:"next_step"`
	Policy  policyView `json:"policy"`
}

func keysRotate(fs *flag.FlagSet) func(*invocation) error {
	spec := fs.String("spec", kmskeys.SpecRSA2048, "the new key's spec: RSA_2048 (RS256) or ECC_NIST_P256 (ES256)")
	stage := fs.String("stage", "", "the stack's Stage, which tags the new key so the functions may use it (default $ORGAUTH_STAGE; local with local.json)")
	window := fs.Int("deletion-window-days", 30, "KMS pending window before a retired key is deleted (7 to 30 days)")
	jwksURL := fs.String("jwks-url", "", "before promoting, check that this JWKS (the stack's JwksUrl output) serves the upcoming key\n(default $JWKS_URL; no check when empty)")
	kf := declareKeyFlags(fs)
	return func(inv *invocation) error {
		if *spec != kmskeys.SpecRSA2048 && *spec != kmskeys.SpecECCNistP256 {
			return usagef("%s: --spec must be %s or %s, not %q", inv.name, kmskeys.SpecRSA2048, kmskeys.SpecECCNistP256, *spec)
		}
		if *window < 7 || *window > 30 {
			return usagef("%s: --deletion-window-days must be 7 to 30", inv.name)
		}
		k, err := inv.keys(kf)
		if err != nil {
			return err
		}
		if *jwksURL == "" {
			*jwksURL = inv.env.getenv("JWKS_URL")
		}
		r := rotation{keysEnv: k, spec: *spec, stage: *stage, window: int32(*window), jwksURL: *jwksURL}
		res, err := r.step()
		if err != nil {
			return err
		}
		if res.Action != "wait" {
			inv.auditor().Event(inv.ctx, "signing_key_"+strings.ReplaceAll(res.Action, "-", "_"), "key_id", res.KeyID, "kid", res.Kid)
		}
		res.Policy = policyOf(k.policy)
		return inv.print(res, func(w io.Writer) {
			fmt.Fprintln(w, res.Message)
		})
	}
}

type rotation struct {
	*keysEnv
	spec, stage string
	window      int32
	jwksURL     string
}

func (r *rotation) stageName() (string, error) {
	s := r.stage
	if s == "" {
		s = r.inv.env.getenv("ORGAUTH_STAGE")
	}
	if s == "" && r.inv.conn.local {
		s = "local"
	}
	if s == "" {
		return "", usagef("%s: --stage is required to tag the new key (the stack's Stage parameter; or set ORGAUTH_STAGE)", r.inv.name)
	}
	return s, nil
}

// step performs the next due step.
func (r *rotation) step() (rotateResult, error) {
	ctx, now := r.inv.ctx, r.inv.env.now()
	set, stored, err := r.load()
	if err != nil {
		return rotateResult{}, err
	}
	if !stored {
		if set, err = r.bootstrap(now); err != nil {
			return rotateResult{}, err
		}
	}
	next := keys.NextStep(set, r.policy, now)
	switch next.Action {
	case keys.ActionWait:
		res := rotateResult{Action: string(next.Action), KeyID: next.KeyID, Next: stepOf(next)}
		res.Message = fmt.Sprintf("Nothing is due yet. %s", describeNext(next, now))
		if next.KeyID != "" {
			if e, ok := set.Find(next.KeyID); ok && e.State == keys.Upcoming {
				res.Message += " Promotion cannot be forced: verifiers may not have seen the key before then."
			}
		}
		return res, nil
	case keys.ActionPublish:
		return r.publish(ctx, set, stored, now)
	case keys.ActionPromote:
		return r.promote(ctx, next.KeyID, now)
	case keys.ActionRetire:
		return r.retire(ctx, next.KeyID, now)
	case keys.ActionScheduleDeletion:
		date, err := r.scheduleDeletion(ctx, next.KeyID, now)
		if err != nil {
			return rotateResult{}, err
		}
		return r.done(keys.ActionScheduleDeletion, next.KeyID, "", now,
			fmt.Sprintf("Scheduled the deletion of retired key %s: KMS deletes it on %s.", next.KeyID, stamp(date)))
	}
	return rotateResult{}, fmt.Errorf("unknown rotation step %q", next.Action)
}

// done reports a step taken, with what comes next.
func (r *rotation) done(action keys.Action, keyID, kid string, now time.Time, msg string) (rotateResult, error) {
	set, err := r.store.GetKeySet(r.inv.ctx)
	if err != nil {
		return rotateResult{}, err
	}
	next := keys.NextStep(set, r.policy, now)
	return rotateResult{Action: string(action), KeyID: keyID, Kid: kid, Next: stepOf(next),
		Message: msg + "\n" + describeNext(next, now)}, nil
}

func (r *rotation) publish(ctx context.Context, set keys.Set, stored bool, now time.Time) (rotateResult, error) {
	stage, err := r.stageName()
	if err != nil {
		return rotateResult{}, err
	}
	arn, err := kmskeys.CreateSigningKey(ctx, r.kms, r.spec, stage)
	if err != nil {
		return rotateResult{}, kmsErr(err)
	}
	info, err := kmskeys.CheckSigningKey(ctx, r.kms, arn)
	if err == nil {
		if stored {
			_, err = r.store.UpdateKeySet(ctx, func(s keys.Set) (keys.Set, error) {
				return keys.Publish(s, arn, r.spec, r.policy, now)
			})
		} else {
			var first keys.Set
			if first, err = keys.Publish(set, arn, r.spec, r.policy, now); err == nil {
				err = r.store.CreateKeySet(ctx, first)
			}
		}
	}
	if err != nil {
		// Nothing references the new key: do not leave it behind.
		if _, derr := kmskeys.ScheduleDeletion(context.WithoutCancel(ctx), r.kms, arn, 7); derr != nil {
			return rotateResult{}, fmt.Errorf("%w (and scheduling the deletion of the unused key %s failed: %v)", err, arn, derr)
		}
		if errors.Is(err, domain.ErrAlreadyExists) || errors.Is(err, domain.ErrConflict) || errors.Is(err, keys.ErrWrongState) {
			return rotateResult{}, fmt.Errorf("another rotation changed the key set meanwhile; its unused key %s is scheduled for deletion; run orgauthctl keys list, then rotate again", arn)
		}
		return rotateResult{}, err
	}
	msg := fmt.Sprintf("Step 1 of 3 done: published %s (%s, kid %s) in the JWKS as the upcoming key. It signs nothing yet.", arn, info.Alg, info.Kid)
	if !stored {
		msg = "Stored the key set (from the stack's current keys).\n" + msg
	}
	return r.done(keys.ActionPublish, arn, info.Kid, now, msg)
}

func (r *rotation) promote(ctx context.Context, keyID string, now time.Time) (rotateResult, error) {
	info, err := kmskeys.CheckSigningKey(ctx, r.kms, keyID)
	if err != nil {
		return rotateResult{}, fmt.Errorf("upcoming key cannot sign, not promoting it (withdraw it with orgauthctl keys withdraw): %w", kmsErr(err))
	}
	if r.jwksURL != "" {
		if err := checkJWKS(ctx, r.jwksURL, info.Kid); err != nil {
			return rotateResult{}, err
		}
	}
	var old string
	if _, err := r.store.UpdateKeySet(ctx, func(s keys.Set) (keys.Set, error) {
		a, _ := s.Active()
		old = a.KeyID
		return keys.Promote(s, keyID, r.policy, now)
	}); err != nil {
		return rotateResult{}, err
	}
	msg := fmt.Sprintf("Step 2 of 3 done: %s (kid %s) is active; functions sign with it within %s. %s is retiring and stays in the JWKS.",
		keyID, info.Kid, r.policy.Refresh, old)
	return r.done(keys.ActionPromote, keyID, info.Kid, now, msg)
}

func (r *rotation) retire(ctx context.Context, keyID string, now time.Time) (rotateResult, error) {
	if _, err := r.store.UpdateKeySet(ctx, func(s keys.Set) (keys.Set, error) {
		return keys.Retire(s, keyID, r.policy, now)
	}); err != nil {
		return rotateResult{}, err
	}
	date, err := r.scheduleDeletion(ctx, keyID, now)
	if err != nil {
		return rotateResult{}, fmt.Errorf("retired %s from the JWKS, but scheduling its deletion failed (run orgauthctl keys rotate again): %w", keyID, err)
	}
	msg := fmt.Sprintf("Step 3 of 3 done: %s left the JWKS (functions drop it within %s). KMS deletes it on %s; until then "+
		"aws kms cancel-key-deletion can keep it.", keyID, r.policy.Refresh, stamp(date))
	return r.done(keys.ActionRetire, keyID, "", now, msg)
}

func (r *rotation) scheduleDeletion(ctx context.Context, keyID string, now time.Time) (time.Time, error) {
	date, err := kmskeys.ScheduleDeletion(ctx, r.kms, keyID, r.window)
	if err != nil {
		return time.Time{}, kmsErr(err)
	}
	if _, err := r.store.UpdateKeySet(ctx, func(s keys.Set) (keys.Set, error) {
		return keys.DeletionScheduled(s, keyID, date, now)
	}); err != nil {
		return time.Time{}, err
	}
	return date, nil
}

// checkJWKS fetches a JWKS and fails unless it serves kid.
func checkJWKS(ctx context.Context, url, kid string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return usagef("--jwks-url: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch JWKS %s: status %s", url, resp.Status)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return fmt.Errorf("fetch JWKS %s: %w", url, err)
	}
	if len(set.Key(kid)) == 0 {
		return fmt.Errorf("the JWKS at %s does not serve kid %s yet: not promoting (are the functions reading the key set? check their logs and KEYSET_REFRESH)", url, kid)
	}
	return nil
}

// ---------------------------------------------------------------- withdraw

func keysWithdraw(fs *flag.FlagSet) func(*invocation) error {
	window := fs.Int("deletion-window-days", 7, "KMS pending window before the withdrawn key is deleted (7 to 30 days)")
	kf := declareKeyFlags(fs)
	return func(inv *invocation) error {
		if *window < 7 || *window > 30 {
			return usagef("%s: --deletion-window-days must be 7 to 30", inv.name)
		}
		k, err := inv.keys(kf)
		if err != nil {
			return err
		}
		ctx, now := inv.ctx, inv.env.now()
		set, ok, err := k.load()
		if err != nil {
			return err
		}
		var upcoming string
		for _, e := range set.Entries {
			if e.State == keys.Upcoming {
				upcoming = e.KeyID
			}
		}
		if !ok || upcoming == "" {
			return errors.New("there is no upcoming key to withdraw (see orgauthctl keys list)")
		}
		if _, err := k.store.UpdateKeySet(ctx, func(s keys.Set) (keys.Set, error) {
			return keys.Withdraw(s, upcoming, now)
		}); err != nil {
			return err
		}
		r := rotation{keysEnv: k, window: int32(*window)}
		date, err := r.scheduleDeletion(ctx, upcoming, now)
		if err != nil {
			return fmt.Errorf("withdrew %s from the JWKS, but scheduling its deletion failed (run orgauthctl keys rotate to retry): %w", upcoming, err)
		}
		res, err := r.done(keys.ActionWait, upcoming, "", now,
			fmt.Sprintf("Withdrew upcoming key %s: it leaves the JWKS within %s; it never signed. KMS deletes it on %s.", upcoming, k.policy.Refresh, stamp(date)))
		if err != nil {
			return err
		}
		res.Action = "withdraw"
		res.Policy = policyOf(k.policy)
		return inv.print(res, func(w io.Writer) { fmt.Fprintln(w, res.Message) })
	}
}
