package kmskeys

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestSigningKeyPolicy: the policy of a rotated key is the template's
// SigningKey policy: the account administers through IAM; kms:Sign is
// denied to all but the token role and break-glass; deletion and disabling
// to all but break-glass.
func TestSigningKeyPolicy(t *testing.T) {
	token := "arn:aws:iam::111122223333:role/orgauth-prod-token/*"
	glass := "arn:aws:iam::111122223333:role/orgauth-prod-break-glass"
	raw, err := SigningKeyPolicy(KeyPolicyRoles{TokenRole: token, BreakGlassRole: glass})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Version   string
		Statement []struct {
			Sid, Effect, Resource string
			Principal             any
			Action                any
			Condition             map[string]map[string]any
		}
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Version != "2012-10-17" || len(doc.Statement) != 3 {
		t.Fatalf("policy %s", raw)
	}
	admin, sign, del := doc.Statement[0], doc.Statement[1], doc.Statement[2]
	if admin.Effect != "Allow" || !reflect.DeepEqual(admin.Principal, map[string]any{"AWS": "arn:aws:iam::111122223333:root"}) || admin.Action != "kms:*" {
		t.Errorf("admin statement %+v", admin)
	}
	if sign.Effect != "Deny" || sign.Principal != "*" || sign.Action != "kms:Sign" || sign.Resource != "*" ||
		!reflect.DeepEqual(sign.Condition["ArnNotLike"]["aws:PrincipalArn"], []any{token, glass}) {
		t.Errorf("sign statement %+v", sign)
	}
	if del.Effect != "Deny" || del.Principal != "*" || !reflect.DeepEqual(del.Action, []any{"kms:ScheduleKeyDeletion", "kms:DisableKey"}) ||
		del.Condition["ArnNotLike"]["aws:PrincipalArn"] != glass {
		t.Errorf("deletion statement %+v", del)
	}

	for _, bad := range []KeyPolicyRoles{
		{TokenRole: "", BreakGlassRole: glass},
		{TokenRole: token, BreakGlassRole: ""},
		{TokenRole: "arn:aws:iam::111122223333:user/ada", BreakGlassRole: glass},
		{TokenRole: token, BreakGlassRole: "arn:aws:iam::111122223333:role/*"},
		{TokenRole: token, BreakGlassRole: "arn:aws:iam::444455556666:role/orgauth-prod-break-glass"},
	} {
		if _, err := SigningKeyPolicy(bad); err == nil || !strings.Contains(err.Error(), "kmssign:") {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// TestSigningKeyPolicyMatchesTemplate: the statements' Sids are the
// template's, so that the two stay one policy.
func TestSigningKeyPolicyMatchesTemplate(t *testing.T) {
	raw, _ := SigningKeyPolicy(KeyPolicyRoles{TokenRole: "arn:aws:iam::111122223333:role/t/*", BreakGlassRole: "arn:aws:iam::111122223333:role/b"})
	for _, sid := range []string{"AccountAdministersThroughIAM", "OnlyTheTokenFunctionSigns", "OnlyBreakGlassDeletesOrDisables"} {
		if !strings.Contains(raw, `"Sid":"`+sid+`"`) {
			t.Errorf("no statement %s", sid)
		}
	}
}
