package kmskeys

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/jwt"
	"orgauth/pkg/keys"
)

// StageTag is the tag every signing key that orgauthctl creates carries,
// with the stack's stage as its value. The functions' IAM policies grant
// kms:Sign and kms:GetPublicKey on keys with aws:ResourceTag/orgauth-stage
// equal to their stage, so keys created by a rotation need no redeploy.
const StageTag = "orgauth-stage"

// RotationAdmin is the part of the KMS client that rotation needs.
type RotationAdmin interface {
	CreateKey(ctx context.Context, params *kms.CreateKeyInput, optFns ...func(*kms.Options)) (*kms.CreateKeyOutput, error)
	DescribeKey(ctx context.Context, params *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	GetPublicKey(ctx context.Context, params *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
	ScheduleKeyDeletion(ctx context.Context, params *kms.ScheduleKeyDeletionInput, optFns ...func(*kms.Options)) (*kms.ScheduleKeyDeletionOutput, error)
	DisableKey(ctx context.Context, params *kms.DisableKeyInput, optFns ...func(*kms.Options)) (*kms.DisableKeyOutput, error)
	Sign(ctx context.Context, params *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
}

var _ RotationAdmin = (*kms.Client)(nil)

var stagePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// KeyInfo describes a signing key for operators.
type KeyInfo = keys.KeyInfo

// CreateSigningKey creates an asymmetric SIGN_VERIFY key of spec
// (SpecRSA2048 or SpecECCNistP256) tagged StageTag=stage, and returns its
// ARN. policy is its key policy (SigningKeyPolicy, the stack's own); empty
// leaves KMS's default (the account administers and uses it through IAM),
// which only an emulator should get.
func CreateSigningKey(ctx context.Context, client RotationAdmin, spec, stage, policy string) (string, error) {
	switch spec {
	case SpecRSA2048, SpecECCNistP256:
	default:
		return "", fmt.Errorf("kmssign: unsupported key spec %q (want %s or %s)", spec, SpecRSA2048, SpecECCNistP256)
	}
	if !stagePattern.MatchString(stage) {
		return "", fmt.Errorf("kmssign: stage %q must be 1 to 64 letters, digits, '.', '_' or '-'", stage)
	}
	out, err := client.CreateKey(ctx, &kms.CreateKeyInput{
		KeyUsage:    types.KeyUsageTypeSignVerify,
		KeySpec:     types.KeySpec(spec),
		Description: aws.String("orgauth " + stage + " token signing key (orgauthctl keys rotate)"),
		Tags:        []types.Tag{{TagKey: aws.String(StageTag), TagValue: aws.String(stage)}},
		Policy:      policyOrNil(policy),
	})
	if err != nil {
		return "", fmt.Errorf("kmssign: create %s key: %w", spec, err)
	}
	md := out.KeyMetadata
	if md == nil || (md.Arn == nil && md.KeyId == nil) {
		return "", errors.New("kmssign: CreateKey returned no key")
	}
	return aws.ToString(cmpOr(md.Arn, md.KeyId)), nil
}

func policyOrNil(p string) *string {
	if p == "" {
		return nil
	}
	return aws.String(p)
}

func cmpOr(a, b *string) *string {
	if aws.ToString(a) != "" {
		return a
	}
	return b
}

// DescribeSigningKey resolves id (a key id, ARN or alias) and, when KMS
// still serves its public key, computes its kid.
func DescribeSigningKey(ctx context.Context, client RotationAdmin, id string) (KeyInfo, error) {
	out, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		return KeyInfo{}, fmt.Errorf("kmssign: describe %s: %w", id, err)
	}
	md := out.KeyMetadata
	if md == nil || (md.Arn == nil && md.KeyId == nil) {
		return KeyInfo{}, fmt.Errorf("kmssign: describe %s: no key metadata", id)
	}
	info := KeyInfo{ARN: aws.ToString(cmpOr(md.Arn, md.KeyId)), Spec: string(md.KeySpec), State: string(md.KeyState)}
	if md.DeletionDate != nil {
		info.DeletionDate = md.DeletionDate.UTC()
	}
	if md.KeyState == types.KeyStateEnabled {
		k, err := loadKey(ctx, describeOnly{client}, info.ARN)
		if err != nil {
			return info, err
		}
		info.Kid, info.Alg = k.kid, string(k.alg)
	}
	return info, nil
}

// CheckSigningKey fails unless id is an enabled signing key that this
// package can sign with.
func CheckSigningKey(ctx context.Context, client RotationAdmin, id string) (KeyInfo, error) {
	info, err := DescribeSigningKey(ctx, client, id)
	if err != nil {
		return info, err
	}
	if info.Kid == "" {
		return info, fmt.Errorf("kmssign: key %s is %s, not Enabled", info.ARN, info.State)
	}
	return info, nil
}

// ScheduleDeletion schedules the deletion of key id after pendingDays (7 to
// 30; KMS's own bounds) and returns the deletion date. A key already
// pending deletion is not rescheduled: its date is returned.
func ScheduleDeletion(ctx context.Context, client RotationAdmin, id string, pendingDays int32) (time.Time, error) {
	if pendingDays < 7 || pendingDays > 30 {
		return time.Time{}, fmt.Errorf("kmssign: the pending window must be 7 to 30 days, not %d", pendingDays)
	}
	out, err := client.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(id), PendingWindowInDays: aws.Int32(pendingDays)})
	var invalid *types.KMSInvalidStateException
	if errors.As(err, &invalid) {
		info, derr := DescribeSigningKey(ctx, client, id)
		if derr == nil && info.State == string(types.KeyStatePendingDeletion) && !info.DeletionDate.IsZero() {
			return info.DeletionDate, nil
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("kmssign: schedule deletion of %s: %w", id, err)
	}
	if out.DeletionDate == nil {
		return time.Time{}, fmt.Errorf("kmssign: schedule deletion of %s: no deletion date", id)
	}
	return out.DeletionDate.UTC(), nil
}

// describeOnly lets loadKey read a public key through a RotationAdmin; the
// Key it returns is for its kid only and cannot sign.
type describeOnly struct{ RotationAdmin }

func (describeOnly) Sign(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error) {
	return nil, errors.New("kmssign: this key was loaded for description only")
}

// DisableSigningKey disables key id: KMS refuses to sign with it until it
// is enabled again.
func DisableSigningKey(ctx context.Context, client RotationAdmin, id string) error {
	if _, err := client.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(id)}); err != nil {
		return fmt.Errorf("kmssign: disable %s: %w", id, err)
	}
	return nil
}

// SignCanary signs a one-minute access token for audience, naming issuer,
// with key id through kms:Sign, exactly as the token function signs, and
// returns it with the key's public JWK as KMS serves it.
func SignCanary(ctx context.Context, client RotationAdmin, id, issuer, audience string, now time.Time) (string, jose.JSONWebKey, error) {
	k, err := loadKey(ctx, client, id)
	if err != nil {
		return "", jose.JSONWebKey{}, err
	}
	iss := jwt.NewIssuer(issuer, oneKey{k}, func() time.Time { return now }, nil)
	raw, _, err := iss.AccessToken(ctx, jwt.AccessRequest{Subject: "key-canary", ClientID: "orgauthctl", OrgID: "key-canary", Audience: audience, Lifetime: time.Minute})
	if err != nil {
		return "", jose.JSONWebKey{}, err
	}
	return raw, k.Public(), nil
}

// oneKey is a key set of one key, for SignCanary.
type oneKey struct{ k *Key }

func (o oneKey) Active(context.Context) (jwt.Key, error) { return o.k, nil }
func (o oneKey) Published(context.Context) (jose.JSONWebKeySet, error) {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{o.k.Public()}}, nil
}

// Admin is the signing-key administration that a rotation
// (pkg/keys/rotation) drives, on a KMS client: it satisfies rotation.KMS
// and rotation.Canary.
type Admin struct {
	Client RotationAdmin
	// KeyPolicy is the key policy of the keys it creates
	// (SigningKeyPolicy); empty only against an emulator.
	KeyPolicy string
	// Now dates canary tokens; time.Now if nil.
	Now func() time.Time
}

// CreateSigningKey is CreateSigningKey on a.Client, with a.KeyPolicy.
func (a Admin) CreateSigningKey(ctx context.Context, spec, stage string) (string, error) {
	return CreateSigningKey(ctx, a.Client, spec, stage, a.KeyPolicy)
}

// DisableSigningKey is DisableSigningKey on a.Client.
func (a Admin) DisableSigningKey(ctx context.Context, id string) error {
	return DisableSigningKey(ctx, a.Client, id)
}

// SignCanary is SignCanary on a.Client.
func (a Admin) SignCanary(ctx context.Context, id, issuer, audience string) (string, jose.JSONWebKey, error) {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	return SignCanary(ctx, a.Client, id, issuer, audience, now())
}

// DescribeSigningKey is DescribeSigningKey on a.Client.
func (a Admin) DescribeSigningKey(ctx context.Context, id string) (KeyInfo, error) {
	return DescribeSigningKey(ctx, a.Client, id)
}

// CheckSigningKey is CheckSigningKey on a.Client.
func (a Admin) CheckSigningKey(ctx context.Context, id string) (KeyInfo, error) {
	return CheckSigningKey(ctx, a.Client, id)
}

// ScheduleDeletion is ScheduleDeletion on a.Client.
func (a Admin) ScheduleDeletion(ctx context.Context, id string, pendingDays int32) (time.Time, error) {
	return ScheduleDeletion(ctx, a.Client, id, pendingDays)
}
