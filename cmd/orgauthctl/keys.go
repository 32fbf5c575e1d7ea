package main

// orgauthctl keys: the signing-key rotation of infra/KEY-ROTATION.md. The
// timing rules live in pkg/keys and the steps in pkg/keys/rotation; this
// file reads the flags, connects the rotation to the table and KMS, and
// tells the operator what happened and what is next.

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"orgauth/pkg/keys"
	"orgauth/pkg/keys/kmskeys"
	"orgauth/pkg/keys/rotation"
	"orgauth/pkg/platform/awsenv"
	"orgauth/pkg/platform/config"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/wiring"
)

var _ rotation.KMS = kmskeys.Admin{}

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
	{"revoke", "--compromised --key ARN|KEY_ID|KID",
		"Emergency: take a compromised key out of the key set and the JWKS at once, with no wait. If it\n" +
			"signs, the published key that has been in the JWKS longest signs instead at once (or a new key,\n" +
			"created now, when there is none), then the compromised key is scheduled for deletion (the\n" +
			"stack's own key is disabled instead). Tokens it signed stop verifying. Run it as the break-glass\n" +
			"role. See infra/KEY-ROTATION.md.", keysRevoke},
	{"check-spec", "--spec RSA_2048|ECC_NIST_P256",
		"Before changing the template's SigningKeySpec: refuse (exit 1) while no rotation has stored the key\n" +
			"set, since the stack would then swap its signing key with no pre-publication.", keysCheckSpec},
}

// keyFlags are the flags every keys command takes.
type keyFlags struct {
	kmsEndpoint string
	fromKeys    string
	bounds      []*bound
	unsafe      bool // --unsafe-skip-waits (rotate only)
	// The key policy of created keys (rotate, revoke).
	tokenRole, breakGlassRole string
}

// declarePolicyFlags adds the flags of the key policy that created keys
// get: the stack's SigningKey policy.
func (kf *keyFlags) declarePolicyFlags(fs *flag.FlagSet) {
	fs.StringVar(&kf.tokenRole, "token-role-arn", "", "the token function's role (ARN or the role-path pattern: the stack's KeyPolicyTokenRole\noutput), the only principal besides break-glass that may sign with a new key (default $TOKEN_ROLE_ARN)")
	fs.StringVar(&kf.breakGlassRole, "break-glass-role-arn", "", "the break-glass role (the stack's BreakGlassRoleArn output), the only one that may also\ndisable a new key or schedule its deletion (default $BREAK_GLASS_ROLE_ARN)")
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

// keysEnv is what a keys command works with: the rotation service on the
// table and KMS.
type keysEnv struct {
	inv    *invocation
	svc    *rotation.Service
	policy keys.Policy
	flags  *keyFlags
	// unsafeWaits are the bounds below the safe minimum that
	// --unsafe-skip-waits accepted.
	unsafeWaits []string
}

// kmsError marks a KMS failure, so that explain words it for KMS.
type kmsError = rotation.KMSError

func kmsErr(err error) error {
	if err == nil {
		return nil
	}
	return &kmsError{Err: err}
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
	if errors.As(e.Err, &dial) && dial.Op == "dial" {
		return fmt.Errorf("cannot reach KMS at %s: %v (is the emulator running? make run starts one; or set KMS_ENDPOINT)", where, dial.Err)
	}
	return e.Err
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
	admin, err := kf.admin(k, c.kmsEndpoint != "", inv.env.getenv, inv.env.now)
	if err != nil {
		return nil, usagef("%s: %v", inv.name, err)
	}
	svc, err := rotation.New(rotation.Config{Store: dynamo.New(db, c.table), KMS: admin, Canary: admin,
		JWKS: rotation.HTTPJWKS{}, Policy: policy, Now: inv.env.now})
	if err != nil {
		return nil, err
	}
	return &keysEnv{inv: inv, svc: svc, policy: policy, flags: kf}, nil
}

// policyAdmin is the KMS administration of a keys command: keys it creates
// get the stage's key policy, and against AWS KMS none is created without
// one.
type policyAdmin struct {
	kmskeys.Admin
	missing error // why no key may be created
}

func (a policyAdmin) CreateSigningKey(ctx context.Context, spec, stage string) (string, error) {
	if a.missing != nil {
		return "", a.missing
	}
	return a.Admin.CreateSigningKey(ctx, spec, stage)
}

// admin builds the KMS administration, with the key policy of the roles
// given (flags, else environment). Against an emulator the roles are
// optional.
func (kf *keyFlags) admin(client kmskeys.RotationAdmin, emulator bool, getenv func(string) string, now func() time.Time) (policyAdmin, error) {
	a := policyAdmin{Admin: kmskeys.Admin{Client: client, Now: now}}
	roles := kmskeys.KeyPolicyRoles{TokenRole: cmp.Or(kf.tokenRole, getenv("TOKEN_ROLE_ARN")),
		BreakGlassRole: cmp.Or(kf.breakGlassRole, getenv("BREAK_GLASS_ROLE_ARN"))}
	if roles.TokenRole == "" && roles.BreakGlassRole == "" {
		if !emulator {
			a.missing = errNoKeyPolicy
		}
		return a, nil
	}
	policy, err := kmskeys.SigningKeyPolicy(roles)
	if err != nil {
		return a, err
	}
	a.KeyPolicy = policy
	return a, nil
}

// errNoKeyPolicy refuses to create a key that anyone with kms:Sign in the
// account could sign with.
var errNoKeyPolicy = errors.New("a new key gets the stack's key policy (only the token role and the break-glass role sign): " +
	"pass --token-role-arn and --break-glass-role-arn (the stack's KeyPolicyTokenRole and BreakGlassRoleArn outputs), " +
	"or set TOKEN_ROLE_ARN and BREAK_GLASS_ROLE_ARN")

// stage reads the settings of the stack's functions that the waits must
// cover, from the same variables and with the same defaults as they do.
func (k *keysEnv) stageSettings() (keys.Stage, error) {
	st := keys.Stage{KMSEmulator: k.inv.conn.kmsEndpoint != ""}
	for _, v := range []struct {
		env string
		dst *time.Duration
		def time.Duration
	}{
		{"JWKS_MAX_AGE", &st.JWKSMaxAge, 5 * time.Minute},
		{"KEYSET_REFRESH", &st.Refresh, time.Minute},
		{"ACCESS_TOKEN_LIFETIME", &st.AccessTokenLifetime, time.Hour},
	} {
		*v.dst = v.def
		if s := k.inv.env.getenv(v.env); s != "" {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				return st, usagef("%s: want a duration such as 5m or 24h, got %q", v.env, s)
			}
			*v.dst = d
		}
	}
	return st, nil
}

// checkWaits refuses bounds below the safe minimum of the stage's settings
// (keys.Stage.SafeMinimum): a zero wait would act as a silent force. With
// --unsafe-skip-waits they are accepted, and the audit trail says so
// before the step they let through.
func (k *keysEnv) checkWaits() error {
	st, err := k.stageSettings()
	if err != nil {
		return err
	}
	below := k.policy.BelowMinimum(st.SafeMinimum())
	if len(below) == 0 {
		return nil
	}
	if !k.flags.unsafe {
		return usagef("%s: below the safe minimum of the stage's settings: %s; tokens still valid would be "+
			"refused, or new ones name a key verifiers do not know yet. Pass --unsafe-skip-waits to do it anyway",
			k.inv.name, strings.Join(below, ", "))
	}
	k.unsafeWaits = below // audited with the step it lets through (present)
	return nil
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

// stage is the stack's stage that tags a new key: --stage, else
// ORGAUTH_STAGE, else local with make run's local.json; empty if none.
func (k *keysEnv) stage(flagValue string) string {
	s := flagValue
	if s == "" {
		s = k.inv.env.getenv("ORGAUTH_STAGE")
	}
	if s == "" && k.inv.conn.local {
		s = "local"
	}
	return s
}

// refusal words the rotation's refusals for this command line.
func (k *keysEnv) refusal(err error) error {
	name := k.inv.name
	var (
		canary   *rotation.CanaryError
		notInSet *rotation.NotInSetError
		unusable *rotation.UnusableKeyError
		badURL   *rotation.BadJWKSURLError
		raced    *rotation.ConcurrentChangeError
		undone   *rotation.DeletionNotScheduledError
	)
	switch {
	case errors.Is(err, errNoKeyPolicy):
		return usagef("%s: %v", name, err)
	case errors.As(err, &canary) && canary.Verify:
		return fmt.Errorf("not promoting %s: a canary token it signed does not verify against the published JWKS (%v); "+
			"the key set is unchanged: check that the JWKS URL is the stack's and serves this key, or withdraw it (orgauthctl keys withdraw)", canary.KeyID, canary.Err)
	case errors.As(err, &canary):
		return fmt.Errorf("not promoting %s: a canary token could not be signed with it (%v); the key set is unchanged. "+
			"Its key policy must let the token role and the break-glass role sign, and it must be enabled: run this step as the "+
			"break-glass role, fix the key, or withdraw it (orgauthctl keys withdraw)", canary.KeyID, canary.Err)
	case errors.As(err, &notInSet):
		return fmt.Errorf("%s is not a key of the stage's key set (see orgauthctl keys list; give the key's ARN, key id or kid)", notInSet.Key)
	case errors.As(err, &undone) && undone.Step == rotation.ActionRevoke:
		return fmt.Errorf("REVOKED %s: it left the key set and leaves the JWKS within the refresh, but stopping KMS from signing with it failed "+
			"(%v): as the break-glass role, run aws kms disable-key --key-id %s now", undone.KeyID, undone.Err, undone.KeyID)
	case errors.Is(err, rotation.ErrNoCurrentKeys):
		return usagef("%s: no key set is stored yet: pass --from-keys with the stack's SIGNING_KEY_IDS "+
			"(its SigningKeyArn output), or set SIGNING_KEY_IDS", name)
	case errors.Is(err, rotation.ErrNoStage):
		return usagef("%s: --stage is required to tag the new key (the stack's Stage parameter; or set ORGAUTH_STAGE)", name)
	case errors.Is(err, rotation.ErrNothingToWithdraw):
		return errors.New("there is no upcoming key to withdraw (see orgauthctl keys list)")
	case errors.As(err, &unusable):
		return fmt.Errorf("upcoming key cannot sign, not promoting it (withdraw it with orgauthctl keys withdraw): %w", unusable.Err)
	case errors.As(err, &badURL):
		return usagef("--jwks-url: %v", badURL.Err)
	case errors.As(err, &raced):
		return fmt.Errorf("another rotation changed the key set meanwhile; its unused key %s is scheduled for deletion; run orgauthctl keys list, then rotate again", raced.KeyID)
	case errors.As(err, &undone) && undone.Step == keys.ActionWithdraw:
		return fmt.Errorf("withdrew %s from the JWKS, but scheduling its deletion failed (run orgauthctl keys rotate to retry): %w", undone.KeyID, undone.Err)
	case errors.As(err, &undone):
		return fmt.Errorf("retired %s from the JWKS, but scheduling its deletion failed (run orgauthctl keys rotate again): %w", undone.KeyID, undone.Err)
	}
	return err
}

// ---------------------------------------------------------------- views

type keyView struct {
	KeyID         string     `json:"key_id"`
	State         string     `json:"state"`
	StackKey      bool       `json:"stack_key,omitempty"`
	Compromised   bool       `json:"compromised,omitempty"`
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

// views describes the keys of a listing.
func views(l rotation.Listing) []keyView {
	out := make([]keyView, len(l.Keys))
	for i, e := range l.Keys {
		v := keyView{KeyID: e.KeyID, State: string(e.State), StackKey: e.StackKey, Compromised: e.Compromised, Spec: e.Spec, Kid: e.Kid, Alg: e.Alg,
			PublishedAt: tp(e.PublishedAt), PromoteAfter: tp(e.PromoteAfter), ActivatedAt: tp(e.ActivatedAt),
			RetiringSince: tp(e.RetiringSince), NotAfter: tp(e.NotAfter), RetiredAt: tp(e.RetiredAt), DeletionDate: tp(e.DeletionDate)}
		if e.State == keys.Upcoming {
			v.PromoteAfter = tp(e.PromoteAt)
		}
		if e.State == keys.Retiring {
			v.NotAfter = tp(e.RetireAt)
		}
		out[i] = v
	}
	return out
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
			switch {
			case v.StackKey:
				when = "the stack's key, kept"
			case v.DeletionDate == nil:
				when = "deletion not scheduled yet"
			}
			if v.Compromised {
				when = "COMPROMISED, " + when
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
		l, err := k.svc.List(inv.ctx, k.currentKeys())
		if err != nil {
			return k.refusal(err)
		}
		note := ""
		if !l.Stored {
			note = "No key set is stored yet: the functions sign with SIGNING_KEY_IDS, shown here. " +
				"orgauthctl keys rotate stores the set and starts the first rotation."
		}
		views := views(l)
		return inv.print(struct {
			Keys    []keyView  `json:"keys"`
			Version int64      `json:"version"`
			Stored  bool       `json:"stored"`
			Next    stepView   `json:"next_step"`
			Policy  policyView `json:"policy"`
		}{views, l.Version, l.Stored, stepOf(l.Next), policyOf(k.policy)}, func(w io.Writer) {
			keysTable(views)(w)
			fmt.Fprintf(w, "\n%s\n", describeNext(l.Next, l.At))
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

// rotateResult is what keys rotate and keys withdraw print.
type rotateResult struct {
	Action   string     `json:"action"` // publish, promote, retire, schedule-deletion, withdraw, revoke, wait
	KeyID    string     `json:"key_id,omitempty"`
	Kid      string     `json:"kid,omitempty"`
	Promoted string     `json:"promoted,omitempty"`  // revoke: the key that signs now
	Canary   string     `json:"canary,omitempty"`    // promote: what the canary token was verified against
	StackKey bool       `json:"stack_key,omitempty"` // the stack's own key: not scheduled for deletion
	Message  string     `json:"message"`
	Next     stepView   `json:"next_step"`
	Policy   policyView `json:"policy"`
}

func keysRotate(fs *flag.FlagSet) func(*invocation) error {
	spec := fs.String("spec", kmskeys.SpecRSA2048, "the new key's spec: RSA_2048 (RS256) or ECC_NIST_P256 (ES256)")
	stage := fs.String("stage", "", "the stack's Stage, which tags the new key so the functions may use it (default $ORGAUTH_STAGE; local with local.json)")
	window := fs.Int("deletion-window-days", rotation.DefaultRetireWindowDays, "KMS pending window before a retired key is deleted (7 to 30 days)")
	jwksURL := fs.String("jwks-url", "", "before promoting, check that this JWKS (the stack's JwksUrl output) serves the upcoming key\n(default $JWKS_URL; no check when empty)")
	kf := declareKeyFlags(fs)
	kf.declarePolicyFlags(fs)
	fs.BoolVar(&kf.unsafe, "unsafe-skip-waits", false, "accept bounds below the safe minimum the stage's settings give (JWKS_MAX_AGE,\n"+
		"KEYSET_REFRESH, ACCESS_TOKEN_LIFETIME, and 24h tokens of applications): verifiers may reject\n"+
		"valid tokens or not know the new key yet. It is written to the audit trail")
	return func(inv *invocation) error {
		if !rotation.ValidSpec(*spec) {
			return usagef("%s: --spec must be %s or %s, not %q", inv.name, kmskeys.SpecRSA2048, kmskeys.SpecECCNistP256, *spec)
		}
		if !rotation.ValidDeletionWindow(*window) {
			return usagef("%s: --deletion-window-days must be 7 to 30", inv.name)
		}
		k, err := inv.keys(kf)
		if err != nil {
			return err
		}
		if err := k.checkWaits(); err != nil {
			return err
		}
		if *jwksURL == "" {
			*jwksURL = inv.env.getenv("JWKS_URL")
		}
		out, err := k.svc.Rotate(inv.ctx, rotation.RotateInput{CurrentKeys: k.currentKeys(), Spec: *spec,
			Stage: k.stage(*stage), DeletionWindowDays: int32(*window), JWKSURL: *jwksURL})
		if err != nil {
			return k.refusal(err)
		}
		return k.present(out, true)
	}
}

// present prints what a step did, after its audit line if audit.
func (k *keysEnv) present(out rotation.Outcome, audit bool) error {
	inv := k.inv
	if audit && out.Action != keys.ActionWait {
		if len(k.unsafeWaits) > 0 {
			inv.auditor().Event(inv.ctx, "signing_key_unsafe_waits", "below", k.unsafeWaits, "key_id", out.KeyID, "step", string(out.Action))
		}
		inv.auditor().Event(inv.ctx, "signing_key_"+strings.ReplaceAll(string(out.Action), "-", "_"), "key_id", out.KeyID, "kid", out.Kid)
	}
	res := rotateResult{Action: string(out.Action), KeyID: out.KeyID, Kid: out.Kid, Next: stepOf(out.Next),
		Promoted: out.Promoted, Canary: out.Canary, StackKey: out.StackKey,
		Message: k.message(out), Policy: policyOf(k.policy)}
	return inv.print(res, func(w io.Writer) {
		fmt.Fprintln(w, res.Message)
	})
}

// message tells the operator what a step did and what is next.
func (k *keysEnv) message(out rotation.Outcome) string {
	var msg string
	switch out.Action {
	case keys.ActionWait:
		msg = fmt.Sprintf("Nothing is due yet. %s", describeNext(out.Next, out.At))
		if out.Awaits == keys.ActionPromote {
			msg += " Promotion cannot be forced: verifiers may not have seen the key before then."
		}
		return msg
	case keys.ActionPublish:
		msg = fmt.Sprintf("Step 1 of 3 done: published %s (%s, kid %s) in the JWKS as the upcoming key. It signs nothing yet.", out.KeyID, out.Alg, out.Kid)
		if out.StoredSet {
			msg = "Stored the key set (from the stack's current keys).\n" + msg
		}
	case keys.ActionPromote:
		msg = fmt.Sprintf("Step 2 of 3 done: %s (kid %s) is active; functions sign with it within %s. %s is retiring and stays in the JWKS.",
			out.KeyID, out.Kid, k.policy.Refresh, out.Demoted)
		if out.Canary == rotation.CanaryJWKS {
			msg += "\nCanary: a token signed with it verified against the live JWKS."
		} else {
			msg += "\nCanary: a token signed with it verified against its public key in KMS (pass --jwks-url to check the live JWKS too)."
		}
	case keys.ActionRetire:
		if out.StackKey {
			msg = fmt.Sprintf("Step 3 of 3 done: %s left the JWKS (functions drop it within %s). It is the stack's own key (its alias, "+
				"SigningKeyArn output and SIGNING_KEY_IDS fallback name it), so it is not scheduled for deletion; it stays enabled, "+
				"and only the token role and the break-glass role can sign with it.", out.KeyID, k.policy.Refresh)
			break
		}
		msg = fmt.Sprintf("Step 3 of 3 done: %s left the JWKS (functions drop it within %s). KMS deletes it on %s; until then "+
			"aws kms cancel-key-deletion can keep it.", out.KeyID, k.policy.Refresh, stamp(out.DeletionDate))
	case keys.ActionScheduleDeletion:
		msg = fmt.Sprintf("Scheduled the deletion of retired key %s: KMS deletes it on %s.", out.KeyID, stamp(out.DeletionDate))
	case rotation.ActionRevoke:
		switch {
		case out.Promoted != "" && out.Created:
			msg = fmt.Sprintf("Revoked compromised key %s. No other published key could take over: created %s and made it active at once; "+
				"verifiers that cached the JWKS reject its tokens for up to %s.", out.KeyID, out.Promoted, k.policy.JWKSMaxAge)
		case out.Promoted != "":
			msg = fmt.Sprintf("Revoked compromised key %s. %s, already published, is active at once.", out.KeyID, out.Promoted)
		default:
			msg = fmt.Sprintf("Revoked compromised key %s; it was not signing.", out.KeyID)
		}
		msg += fmt.Sprintf(" It leaves the JWKS within %s and every function stops signing with it within %s.", k.policy.Refresh, k.policy.Refresh)
		if out.StackKey {
			msg += " It is the stack's own key: disabled in KMS (not deleted, the stack names it)."
		} else {
			msg += fmt.Sprintf(" KMS deletes it on %s; it can no longer sign.", stamp(out.DeletionDate))
		}
		msg += " Tokens it signed stop verifying once verifiers re-read the JWKS: revoke what they granted (users disable, apps delete)."
	case keys.ActionWithdraw:
		msg = fmt.Sprintf("Withdrew upcoming key %s: it leaves the JWKS within %s; it never signed. KMS deletes it on %s.",
			out.KeyID, k.policy.Refresh, stamp(out.DeletionDate))
	}
	return msg + "\n" + describeNext(out.Next, out.At)
}

// ---------------------------------------------------------------- withdraw

func keysWithdraw(fs *flag.FlagSet) func(*invocation) error {
	window := fs.Int("deletion-window-days", rotation.DefaultWithdrawWindowDays, "KMS pending window before the withdrawn key is deleted (7 to 30 days)")
	kf := declareKeyFlags(fs)
	return func(inv *invocation) error {
		if !rotation.ValidDeletionWindow(*window) {
			return usagef("%s: --deletion-window-days must be 7 to 30", inv.name)
		}
		k, err := inv.keys(kf)
		if err != nil {
			return err
		}
		out, err := k.svc.Withdraw(inv.ctx, int32(*window))
		if err != nil {
			return k.refusal(err)
		}
		return k.present(out, false)
	}
}

// ---------------------------------------------------------------- revoke

func keysRevoke(fs *flag.FlagSet) func(*invocation) error {
	compromised := fs.Bool("compromised", false, "required: the key is compromised (this command is for nothing else)")
	key := fs.String("key", "", "the compromised key: its ARN, KMS key id, or kid (from keys list or a token's header)")
	spec := fs.String("spec", kmskeys.SpecRSA2048, "the spec of a replacement key, if one must be created")
	stage := fs.String("stage", "", "the stack's Stage, which tags a replacement key (default $ORGAUTH_STAGE; local with local.json)")
	window := fs.Int("deletion-window-days", rotation.DefaultWithdrawWindowDays, "KMS pending window before the compromised key is deleted (7 to 30 days)")
	kf := declareKeyFlags(fs)
	kf.declarePolicyFlags(fs)
	return func(inv *invocation) error {
		if !*compromised {
			return usagef("%s: revoke is the emergency withdrawal of a compromised key and needs --compromised; "+
				"to rotate, run keys rotate; to roll back a publish, keys withdraw", inv.name)
		}
		if *key == "" {
			return usagef("%s: --key is required (the compromised key's ARN, key id or kid; see keys list)", inv.name)
		}
		if !rotation.ValidSpec(*spec) {
			return usagef("%s: --spec must be %s or %s, not %q", inv.name, kmskeys.SpecRSA2048, kmskeys.SpecECCNistP256, *spec)
		}
		if !rotation.ValidDeletionWindow(*window) {
			return usagef("%s: --deletion-window-days must be 7 to 30", inv.name)
		}
		k, err := inv.keys(kf)
		if err != nil {
			return err
		}
		out, err := k.svc.Revoke(inv.ctx, rotation.RevokeInput{Key: *key, CurrentKeys: k.currentKeys(), Spec: *spec,
			Stage: k.stage(*stage), DeletionWindowDays: int32(*window)})
		var undone *rotation.DeletionNotScheduledError
		if errors.As(err, &undone) {
			// The key is out of the set already: that is on the record.
			inv.auditor().Event(inv.ctx, "signing_key_revoked", "key_id", undone.KeyID, "compromised", true, "key_store_error", undone.Err.Error())
		}
		if err != nil {
			return k.refusal(err)
		}
		inv.auditor().Event(inv.ctx, "signing_key_revoked", "key_id", out.KeyID, "compromised", true, "promoted", out.Promoted,
			"created", out.Created, "stack_key", out.StackKey)
		return k.present(out, false)
	}
}

// ---------------------------------------------------------------- check-spec

func keysCheckSpec(fs *flag.FlagSet) func(*invocation) error {
	spec := fs.String("spec", "", "the SigningKeySpec about to be deployed")
	kf := declareKeyFlags(fs)
	return func(inv *invocation) error {
		if !rotation.ValidSpec(*spec) {
			return usagef("%s: --spec must be %s or %s", inv.name, kmskeys.SpecRSA2048, kmskeys.SpecECCNistP256)
		}
		k, err := inv.keys(kf)
		if err != nil {
			return err
		}
		l, err := k.svc.List(inv.ctx, k.currentKeys())
		if err != nil {
			return k.refusal(err)
		}
		var msg string
		switch {
		case l.Stored:
			msg = "The key set is stored: the functions sign with its active key, and a new SigningKeySpec only replaces the " +
				"stack's fallback key (the old one is retained). Safe to deploy. To sign with the other algorithm, rotate: " +
				"orgauthctl keys rotate --spec " + *spec + "."
		case len(l.Keys) > 0 && l.Keys[0].Spec == *spec:
			msg = "SigningKeySpec is unchanged (" + *spec + "). Safe to deploy."
		default:
			return fmt.Errorf("refusing: no rotation has stored the key set yet, so the functions sign with the stack's key; "+
				"deploying SigningKeySpec=%s would replace it with a key no verifier has seen, and tokens would fail until their "+
				"JWKS caches expire. Keep SigningKeySpec as it is, and rotate instead: orgauthctl keys rotate --spec %s (then "+
				"promote and retire as usual); after that, SigningKeySpec no longer matters", *spec, *spec)
		}
		return inv.print(struct {
			Safe    bool   `json:"safe"`
			Message string `json:"message"`
		}{true, msg}, func(w io.Writer) { fmt.Fprintln(w, msg) })
	}
}
