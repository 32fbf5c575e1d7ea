package kmskeys

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KeyAdmin is the part of the KMS client that EnsureKey needs.
type KeyAdmin interface {
	DescribeKey(ctx context.Context, params *kms.DescribeKeyInput, optFns ...func(*kms.Options)) (*kms.DescribeKeyOutput, error)
	CreateKey(ctx context.Context, params *kms.CreateKeyInput, optFns ...func(*kms.Options)) (*kms.CreateKeyOutput, error)
	CreateAlias(ctx context.Context, params *kms.CreateAliasInput, optFns ...func(*kms.Options)) (*kms.CreateAliasOutput, error)
}

var _ KeyAdmin = (*kms.Client)(nil)

// SpecSymmetric is the symmetric ENCRYPT_DECRYPT key that encrypts
// organizations' upstream client secrets (pkg/platform/secretbox).
const SpecSymmetric = "SYMMETRIC_DEFAULT"

// EnsureKey returns the id of the key behind alias ("alias/..."), creating
// an asymmetric SIGN_VERIFY key of spec (SpecRSA2048 or SpecECCNistP256), or
// a symmetric ENCRYPT_DECRYPT key (SpecSymmetric), and the alias if the
// alias does not exist yet. An existing alias must point at an enabled key
// of that spec and usage.
//
// It is meant for local setup and the admin CLI. If another caller creates
// the alias concurrently, EnsureKey returns the winner's key and leaves the
// key it created itself unaliased.
func EnsureKey(ctx context.Context, client KeyAdmin, alias string, spec string) (keyID string, err error) {
	if !strings.HasPrefix(alias, "alias/") || len(alias) == len("alias/") {
		return "", fmt.Errorf("kmssign: alias %q must look like alias/NAME", alias)
	}
	if strings.HasPrefix(alias, "alias/aws/") {
		return "", fmt.Errorf("kmssign: alias %q is reserved for AWS managed keys", alias)
	}
	var ks types.KeySpec
	usage, purpose := types.KeyUsageTypeSignVerify, "orgauth token signing key"
	switch spec {
	case SpecRSA2048, SpecECCNistP256:
		ks = types.KeySpec(spec)
	case SpecSymmetric:
		ks, usage, purpose = types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt, "orgauth SSO client secret key"
	default:
		return "", fmt.Errorf("kmssign: unsupported key spec %q (want %s, %s or %s)", spec, SpecRSA2048, SpecECCNistP256, SpecSymmetric)
	}

	id, err := describeAlias(ctx, client, alias, ks, usage)
	if err == nil || !isNotFound(err) {
		return id, err
	}

	created, err := client.CreateKey(ctx, &kms.CreateKeyInput{
		KeyUsage:    usage,
		KeySpec:     ks,
		Description: aws.String(purpose + " (" + alias + ")"),
	})
	if err != nil {
		return "", fmt.Errorf("kmssign: create %s key: %w", spec, err)
	}
	if created.KeyMetadata == nil || created.KeyMetadata.KeyId == nil {
		return "", errors.New("kmssign: CreateKey returned no key id")
	}
	newID := *created.KeyMetadata.KeyId
	_, err = client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(newID)})
	var exists *types.AlreadyExistsException
	if errors.As(err, &exists) {
		return describeAlias(ctx, client, alias, ks, usage)
	}
	if err != nil {
		return "", fmt.Errorf("kmssign: create %s for key %s: %w", alias, newID, err)
	}
	return newID, nil
}

func describeAlias(ctx context.Context, client KeyAdmin, alias string, spec types.KeySpec, usage types.KeyUsageType) (string, error) {
	out, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(alias)})
	if err != nil {
		return "", fmt.Errorf("kmssign: describe %s: %w", alias, err)
	}
	md := out.KeyMetadata
	if md == nil || md.KeyId == nil {
		return "", fmt.Errorf("kmssign: describe %s: no key metadata", alias)
	}
	switch {
	case md.KeySpec != spec:
		return "", fmt.Errorf("kmssign: %s is a %s key, want %s", alias, md.KeySpec, spec)
	case md.KeyUsage != usage:
		return "", fmt.Errorf("kmssign: %s has key usage %s, want %s", alias, md.KeyUsage, usage)
	case md.KeyState != "" && md.KeyState != types.KeyStateEnabled:
		return "", fmt.Errorf("kmssign: %s key %s is %s", alias, *md.KeyId, md.KeyState)
	}
	return *md.KeyId, nil
}

func isNotFound(err error) bool {
	var nf *types.NotFoundException
	return errors.As(err, &nf)
}

// NewLocalClient returns a KMS client for local-kms at endpoint (for example
// the Endpoint of emulator.StartKMS): region us-east-1 and static dummy
// credentials, so nothing is read from the environment or ~/.aws.
func NewLocalClient(endpoint string) *kms.Client {
	return kms.New(kms.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
}
