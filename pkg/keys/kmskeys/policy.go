package kmskeys

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// KeyPolicyRoles are the two principals a stage's signing-key policy names
// besides the account: the token function's role, the only one that signs
// in normal operation, and the break-glass role, the only one that may also
// sign, disable the key or schedule its deletion.
type KeyPolicyRoles struct {
	// TokenRole is the token function's role ARN, or the ARN pattern of its
	// role path (the template's
	// arn:aws:iam::ACCOUNT:role/orgauth-STAGE-token/*, its
	// KeyPolicyTokenRole output).
	TokenRole string
	// BreakGlassRole is the break-glass role's ARN (the BreakGlassRoleArn
	// output).
	BreakGlassRole string
}

var roleARN = regexp.MustCompile(`^arn:(aws[a-z-]*):iam::([0-9]{12}):role/[A-Za-z0-9+=,.@_/*-]+$`)

// SigningKeyPolicy is the key policy of the template's SigningKey for r:
// the account administers the key through IAM, but only the token role and
// the break-glass role may sign (kms:Sign), and only the break-glass role
// may schedule its deletion or disable it. Both ARNs must be IAM role ARNs
// of the same account; the account is taken from them.
func SigningKeyPolicy(r KeyPolicyRoles) (string, error) {
	tm := roleARN.FindStringSubmatch(r.TokenRole)
	bm := roleARN.FindStringSubmatch(r.BreakGlassRole)
	switch {
	case tm == nil:
		return "", fmt.Errorf("kmssign: token role %q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/...)", r.TokenRole)
	case bm == nil || strings.Contains(r.BreakGlassRole, "*"):
		return "", fmt.Errorf("kmssign: break-glass role %q is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)", r.BreakGlassRole)
	case tm[1] != bm[1] || tm[2] != bm[2]:
		return "", fmt.Errorf("kmssign: the token role (%s) and the break-glass role (%s) are in different accounts", r.TokenRole, r.BreakGlassRole)
	}
	type stmt struct {
		Sid       string         `json:"Sid"`
		Effect    string         `json:"Effect"`
		Principal any            `json:"Principal"`
		Action    any            `json:"Action"`
		Resource  string         `json:"Resource"`
		Condition map[string]any `json:"Condition,omitempty"`
	}
	doc := struct {
		Version   string `json:"Version"`
		Statement []stmt `json:"Statement"`
	}{"2012-10-17", []stmt{
		{Sid: "AccountAdministersThroughIAM", Effect: "Allow",
			Principal: map[string]string{"AWS": fmt.Sprintf("arn:%s:iam::%s:root", tm[1], tm[2])}, Action: "kms:*", Resource: "*"},
		{Sid: "OnlyTheTokenFunctionSigns", Effect: "Deny", Principal: "*", Action: "kms:Sign", Resource: "*",
			Condition: map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": []string{r.TokenRole, r.BreakGlassRole}}}},
		{Sid: "OnlyBreakGlassDeletesOrDisables", Effect: "Deny", Principal: "*",
			Action: []string{"kms:ScheduleKeyDeletion", "kms:DisableKey"}, Resource: "*",
			Condition: map[string]any{"ArnNotLike": map[string]any{"aws:PrincipalArn": r.BreakGlassRole}}},
	}}
	b, err := json.Marshal(doc)
	return string(b), err
}
