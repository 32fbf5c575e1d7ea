package orgauth

import (
	"encoding/json"
	"orgauth/pkg/keys/kmskeys"
	"slices"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// functionActions reads every IAM action each function's inline policies
// allow, by logical id.
func functionActions(t *testing.T) map[string][]string {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(Template, &doc); err != nil {
		t.Fatal(err)
	}
	get := func(n *yaml.Node, key string) *yaml.Node {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				return n.Content[i+1]
			}
		}
		return nil
	}
	out := map[string][]string{}
	resources := get(doc.Content[0], "Resources")
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id, res := resources.Content[i].Value, resources.Content[i+1]
		if get(res, "Type").Value != "AWS::Serverless::Function" {
			continue
		}
		out[id] = []string{}
		policies := get(get(res, "Properties"), "Policies")
		if policies == nil {
			continue
		}
		for _, p := range policies.Content {
			for _, st := range get(p, "Statement").Content {
				if get(st, "Effect").Value != "Allow" {
					continue
				}
				a := get(st, "Action")
				if a.Kind == yaml.ScalarNode {
					out[id] = append(out[id], a.Value)
				}
				for _, v := range a.Content {
					out[id] = append(out[id], v.Value)
				}
			}
		}
	}
	return out
}

// Least privilege per function: only the token function signs, only the
// callback function decrypts organizations' upstream secrets, only the
// authorize function makes and decrypts the device-cookie key, and nobody
// has a wildcard action.
func TestTemplateLeastPrivilege(t *testing.T) {
	actions := functionActions(t)
	if len(actions) < 6 {
		t.Fatalf("found only functions %v", actions)
	}
	holders := func(action string) []string {
		var ids []string
		for id, acts := range actions {
			if slices.Contains(acts, action) {
				ids = append(ids, id)
			}
		}
		sort.Strings(ids)
		return ids
	}
	for action, want := range map[string][]string{
		"kms:Sign":            {"TokenFunction"},
		"kms:Decrypt":         {"AuthorizeFunction", "CallbackFunction"},
		"kms:GenerateDataKey": {"AuthorizeFunction"},
		"kms:Encrypt":         nil,
	} {
		if got := holders(action); !slices.Equal(got, want) {
			t.Errorf("%s is allowed to %v, want %v", action, got, want)
		}
	}
	for id, acts := range actions {
		for _, a := range acts {
			if a == "*" || a == "kms:*" || a == "dynamodb:*" {
				t.Errorf("%s is allowed %s", id, a)
			}
		}
	}
}

// yamlPath walks mapping keys from the template's root; nil when absent.
func yamlPath(t *testing.T, keys ...string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(Template, &doc); err != nil {
		t.Fatal(err)
	}
	n := doc.Content[0]
	for _, k := range keys {
		var next *yaml.Node
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == k {
					next = n.Content[i+1]
				}
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// The SSO secret key refuses any use that names no organization in its
// encryption context, whoever asks, and the callback function may decrypt
// only with one: a ciphertext is bound to its organization.
func TestSSOKeyRequiresTheOrganizationContext(t *testing.T) {
	stmts := yamlPath(t, "Resources", "SSOSecretKey", "Properties", "KeyPolicy", "Statement")
	if stmts == nil {
		t.Fatal("no key policy on SSOSecretKey")
	}
	found := false
	for _, st := range stmts.Content {
		if mapValue(st, "Effect").Value != "Deny" {
			continue
		}
		var actions []string
		for _, a := range mapValue(st, "Action").Content {
			actions = append(actions, a.Value)
		}
		cond := mapValue(mapValue(mapValue(st, "Condition"), "Null"), "kms:EncryptionContext:organization_id")
		if slices.Contains(actions, "kms:Decrypt") && slices.Contains(actions, "kms:Encrypt") && cond != nil && cond.Value == "true" &&
			mapValue(st, "Principal").Value == "*" {
			found = true
		}
	}
	if !found {
		t.Fatal("no Deny of Encrypt/Decrypt without kms:EncryptionContext:organization_id for every principal")
	}
	decryptOK := false
	for _, p := range yamlPath(t, "Resources", "CallbackFunction", "Properties", "Policies").Content {
		for _, st := range mapValue(p, "Statement").Content {
			if a, r := mapValue(st, "Action"), mapValue(st, "Resource"); a != nil && a.Value == "kms:Decrypt" && r != nil && r.Value == "SSOSecretKey.Arn" {
				c := mapValue(mapValue(mapValue(st, "Condition"), "StringLike"), "kms:EncryptionContext:organization_id")
				decryptOK = c != nil && c.Value == "*"
			}
		}
	}
	if !decryptOK {
		t.Fatal("the callback function's kms:Decrypt does not require an organization in the encryption context")
	}
}

func resource(t *testing.T, id string) *yaml.Node {
	t.Helper()
	r := yamlPath(t, "Resources", id)
	if r == nil {
		t.Fatalf("no resource %s", id)
	}
	return r
}

func values(n *yaml.Node) []string {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode {
		return []string{n.Value}
	}
	var out []string
	for _, c := range n.Content {
		out = append(out, c.Value)
	}
	return out
}

// alarmMetrics is every metric an alarm watches: MetricName, or each
// MetricStat of a metric-math alarm.
func alarmMetrics(alarm *yaml.Node) []string {
	p := mapValue(alarm, "Properties")
	if m := mapValue(p, "MetricName"); m != nil {
		return []string{mapValue(p, "Namespace").Value + " " + m.Value}
	}
	var out []string
	for _, q := range mapValue(p, "Metrics").Content {
		if m := mapValue(mapValue(mapValue(q, "MetricStat"), "Metric"), "MetricName"); m != nil {
			out = append(out, mapValue(mapValue(mapValue(q, "MetricStat"), "Metric"), "Namespace").Value+" "+m.Value)
		}
	}
	return out
}

// Every trouble the operator must hear of has an alarm on the right metric,
// silent when there is no traffic, notifying the alarm topic.
func TestTemplateAlarms(t *testing.T) {
	want := map[string][]string{
		"Api5xxAlarm":                        {"AWS/ApiGateway 5xx", "AWS/ApiGateway Count"},
		"ApiLatencyAlarm":                    {"AWS/ApiGateway Latency"},
		"TokenFunctionErrorsAlarm":           {"AWS/Lambda Errors"},
		"TokenFunctionThrottlesAlarm":        {"AWS/Lambda Throttles"},
		"TokenFunctionDurationAlarm":         {"AWS/Lambda Duration"},
		"CallbackFunctionDurationAlarm":      {"AWS/Lambda Duration"},
		"AuthorizeFunctionErrorsAlarm":       {"AWS/Lambda Errors"},
		"WellKnownFunctionThrottlesAlarm":    {"AWS/Lambda Throttles"},
		"ApplicationsFunctionErrorsAlarm":    {"AWS/Lambda Errors"},
		"ConsoleFunctionErrorsAlarm":         {"AWS/Lambda Errors"},
		"DynamoDBThrottlesAlarm":             {"AWS/DynamoDB ReadThrottleEvents", "AWS/DynamoDB WriteThrottleEvents"},
		"KMSErrorsAlarm":                     {"orgauth/${Stage} KMSErrors"},
		"KMSThrottlesAlarm":                  {"orgauth/${Stage} KMSThrottles"},
		"KMSSignQuotaAlarm":                  {"AWS/Usage CallCount"},
		"LoginFailuresAlarm":                 {"orgauth/${Stage} LoginFailures"},
		"RefreshReuseAlarm":                  {"orgauth/${Stage} RefreshTokenReuse"},
		"CodeReplayAlarm":                    {"orgauth/${Stage} CodeReplays"},
		"ClientAuthFailuresAlarm":            {"orgauth/${Stage} ClientAuthFailures"},
		"AuthorizeFunctionDurationAlarm":     {"AWS/Lambda Duration"},
		"ApplicationsFunctionThrottlesAlarm": {"AWS/Lambda Throttles"},
	}
	for id, metrics := range want {
		a := resource(t, id)
		if got := alarmMetrics(a); !slices.Equal(got, metrics) {
			t.Errorf("%s watches %v, want %v", id, got, metrics)
		}
		p := mapValue(a, "Properties")
		if tmd := mapValue(p, "TreatMissingData"); tmd == nil || tmd.Value != "notBreaching" {
			t.Errorf("%s: TreatMissingData is not notBreaching", id)
		}
		if act := mapValue(p, "AlarmActions"); act == nil || act.Tag != "!If" || !slices.Contains(values(act.Content[1]), "AlarmTopicArn") {
			t.Errorf("%s does not notify AlarmTopicArn", id)
		}
	}
	// 70% of each timeout: 10 s functions at 7000 ms, callback (20 s) at 14000.
	for id, want := range map[string]string{"TokenFunctionDurationAlarm": "7000", "CallbackFunctionDurationAlarm": "14000"} {
		if got := mapValue(mapValue(resource(t, id), "Properties"), "Threshold").Value; got != want {
			t.Errorf("%s threshold %s, want %s", id, got, want)
		}
	}
	// The audit filters count the audit events by their event field.
	for id, event := range map[string]string{"LoginFailuresMetricFilter": "login_failed", "RefreshReuseMetricFilter": "refresh_reuse",
		"CodeReplayMetricFilter": "code_replayed"} {
		if got := mapValue(mapValue(resource(t, id), "Properties"), "FilterPattern").Value; got != `{ $.event = "`+event+`" }` {
			t.Errorf("%s pattern %q", id, got)
		}
	}
	events := values(mapValue(mapValue(mapValue(mapValue(resource(t, "KeyTamperingRule"), "Properties"), "EventPattern"), "detail"), "eventName"))
	for _, e := range []string{"ScheduleKeyDeletion", "DisableKey"} {
		if !slices.Contains(events, e) {
			t.Errorf("KeyTamperingRule misses %s (has %v)", e, events)
		}
	}
	if resource(t, "Dashboard").Content[1].Value != "AWS::CloudWatch::Dashboard" {
		t.Error("Dashboard is not a dashboard")
	}
}

// Prod refuses an empty issuer, the example audience, no alarm topic,
// another account and a short log retention.
func TestTemplateProdRules(t *testing.T) {
	for _, rule := range []string{"ProdHasAPermanentIssuer", "ProdHasRealAudiences", "ProdHasAnAlarmTopic", "ProdIsInItsAccount", "ProdKeepsAuditLogsAYear"} {
		r := yamlPath(t, "Rules", rule)
		if r == nil {
			t.Errorf("no rule %s", rule)
			continue
		}
		cond := mapValue(r, "RuleCondition")
		if cond == nil || cond.Tag != "!Equals" || cond.Content[0].Value != "Stage" || cond.Content[1].Value != "prod" {
			t.Errorf("%s does not apply to prod", rule)
		}
	}
	assert := func(rule string) *yaml.Node {
		return mapValue(mapValue(yamlPath(t, "Rules", rule), "Assertions").Content[0], "Assert")
	}
	if a := assert("ProdHasAPermanentIssuer"); a.Tag != "!Not" || a.Content[0].Content[0].Value != "IssuerUrl" {
		t.Error("ProdHasAPermanentIssuer does not refuse an empty IssuerUrl")
	}
	if a := assert("ProdHasRealAudiences"); a.Tag != "!Not" || a.Content[0].Content[1].Value != "https://api.example.com" {
		t.Error("ProdHasRealAudiences does not refuse the example audience")
	}
	if a := assert("ProdHasAnAlarmTopic"); a.Tag != "!Not" || a.Content[0].Content[0].Value != "AlarmTopicArn" {
		t.Error("ProdHasAnAlarmTopic does not refuse an empty AlarmTopicArn")
	}
	if a := assert("ProdIsInItsAccount"); a.Tag != "!Equals" || a.Content[0].Value != "AccountId" || a.Content[1].Value != "AWS::AccountId" {
		t.Error("ProdIsInItsAccount does not compare AccountId with the account")
	}
}

func denyStatement(t *testing.T, key, sid string) *yaml.Node {
	t.Helper()
	for _, st := range yamlPath(t, "Resources", key, "Properties", "KeyPolicy", "Statement").Content {
		if mapValue(st, "Sid").Value == sid {
			if mapValue(st, "Effect").Value != "Deny" || mapValue(st, "Principal").Value != "*" {
				t.Fatalf("%s.%s is not a Deny for every principal", key, sid)
			}
			return st
		}
	}
	t.Fatalf("%s has no statement %s", key, sid)
	return nil
}

// Only the token function's role (and break-glass) signs; only break-glass
// deletes or disables a key; only the callback role decrypts SSO secrets.
func TestTemplateKeyPolicies(t *testing.T) {
	exempt := func(st *yaml.Node) []string {
		return values(mapValue(mapValue(mapValue(st, "Condition"), "ArnNotLike"), "aws:PrincipalArn"))
	}
	sign := denyStatement(t, "SigningKey", "OnlyTheTokenFunctionSigns")
	if got := values(mapValue(sign, "Action")); !slices.Equal(got, []string{"kms:Sign"}) {
		t.Errorf("OnlyTheTokenFunctionSigns denies %v", got)
	}
	if ex := exempt(sign); len(ex) != 2 || ex[0] != "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/orgauth-${Stage}-token/*" {
		t.Errorf("Sign is exempted for %v", ex)
	}
	if rp := yamlPath(t, "Resources", "TokenFunction", "Properties", "RolePath"); rp == nil || rp.Value != "/orgauth-${Stage}-token/" {
		t.Error("the token function's role is not on the path the key policy names")
	}
	for _, key := range []string{"SigningKey", "SSOSecretKey", "DeviceCookieKeyEncryptionKey"} {
		st := denyStatement(t, key, "OnlyBreakGlassDeletesOrDisables")
		if got := values(mapValue(st, "Action")); !slices.Equal(got, []string{"kms:ScheduleKeyDeletion", "kms:DisableKey"}) {
			t.Errorf("%s denies %v", key, got)
		}
		if n := mapValue(mapValue(mapValue(st, "Condition"), "ArnNotLike"), "aws:PrincipalArn"); n == nil || n.Tag != "!If" {
			t.Errorf("%s: deletion is not exempted for the break-glass role only", key)
		}
	}
	dec := denyStatement(t, "SSOSecretKey", "OnlyTheCallbackFunctionDecrypts")
	if ex := exempt(dec); len(ex) != 2 || ex[0] != "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/orgauth-${Stage}-callback/*" {
		t.Errorf("Decrypt is exempted for %v", ex)
	}
	if rp := yamlPath(t, "Resources", "CallbackFunction", "Properties", "RolePath"); rp == nil || rp.Value != "/orgauth-${Stage}-callback/" {
		t.Error("the callback function's role is not on the path the key policy names")
	}
}

// No function may write the key set: every function that writes the table
// is denied writes whose leading key is KEYSET.
func TestTemplateKeySetIsTheOperatorsOnly(t *testing.T) {
	for id, acts := range functionActions(t) {
		if !slices.Contains(acts, "dynamodb:PutItem") && !slices.Contains(acts, "dynamodb:UpdateItem") {
			continue
		}
		found := false
		for _, p := range yamlPath(t, "Resources", id, "Properties", "Policies").Content {
			for _, st := range mapValue(p, "Statement").Content {
				lk := mapValue(mapValue(mapValue(st, "Condition"), "ForAnyValue:StringEquals"), "dynamodb:LeadingKeys")
				a := values(mapValue(st, "Action"))
				if mapValue(st, "Effect").Value == "Deny" && slices.Equal(values(lk), []string{"KEYSET"}) &&
					slices.Contains(a, "dynamodb:PutItem") && slices.Contains(a, "dynamodb:UpdateItem") && slices.Contains(a, "dynamodb:DeleteItem") {
					found = true
				}
			}
		}
		if !found {
			t.Errorf("%s writes the table but is not denied the KEYSET item", id)
		}
	}
	if yamlPath(t, "Resources", "OperatorPolicy") == nil {
		t.Error("no operator managed policy")
	}
}

// Every function deploys through its live alias, shifted by DeploymentType
// and rolled back by its own errors alarm and the API's 5xx alarm; the API
// invokes the alias.
func TestTemplateDeploymentPreferences(t *testing.T) {
	if a := yamlPath(t, "Globals", "Function", "AutoPublishAlias"); a == nil || a.Value != "live" {
		t.Fatal("no AutoPublishAlias live")
	}
	if ty := yamlPath(t, "Globals", "Function", "DeploymentPreference", "Type"); ty == nil || ty.Value != "DeploymentType" {
		t.Fatal("no DeploymentPreference Type")
	}
	if d := yamlPath(t, "Parameters", "DeploymentType", "Default"); d == nil || d.Value != "Canary10Percent5Minutes" {
		t.Error("the default deployment is not a canary")
	}
	for id := range functionActions(t) {
		alarms := values(yamlPath(t, "Resources", id, "Properties", "DeploymentPreference", "Alarms"))
		if !slices.Equal(alarms, []string{id + "ErrorsAlarm", "Api5xxAlarm"}) {
			t.Errorf("%s rolls back on %v", id, alarms)
		}
	}
}

// Prod keeps its logs (the audit trail) when the stack goes, for the
// retention the parameter sets.
func TestTemplateLogRetention(t *testing.T) {
	n := 0
	for _, id := range []string{"AccessLogGroup", "TokenLogGroup", "AuthorizeLogGroup", "CallbackLogGroup", "WellKnownLogGroup", "ApplicationsLogGroup", "ConsoleLogGroup"} {
		r := resource(t, id)
		for _, attr := range []string{"DeletionPolicy", "UpdateReplacePolicy"} {
			p := mapValue(r, attr)
			if p == nil || p.Tag != "!If" || !slices.Equal(values(p), []string{"IsProd", "Retain", "Delete"}) {
				t.Errorf("%s %s is not Retain in prod", id, attr)
			}
		}
		if ret := mapValue(mapValue(r, "Properties"), "RetentionInDays"); ret == nil || ret.Value != "LogRetentionDays" {
			t.Errorf("%s retention is not LogRetentionDays", id)
		}
		n++
	}
	a := mapValue(yamlPath(t, "Rules", "ProdKeepsAuditLogsAYear", "Assertions").Content[0], "Assert")
	if a.Tag != "!Contains" || values(a.Content[0])[0] != "365" || a.Content[1].Value != "LogRetentionDays" {
		t.Error("prod may keep its logs less than 365 days")
	}
}

// The device-cookie key's wrapping key: whoever asks, only the sign-in
// functions' roles (authorize, and callback, which opens the SSO states
// sealed under a key derived from it) may use it (not even break-glass:
// nobody needs the plaintext), and only with the device-cookie purpose in
// the encryption context; they may only generate and decrypt with it, with
// that context (the callback only decrypts it: the authorize function
// makes it), and are told its ARN, not a key.
func TestTemplateDeviceCookieKeyIsTheSignInFunctions(t *testing.T) {
	const key = "DeviceCookieKeyEncryptionKey"
	uses := []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"}
	signIn := map[string]string{"AuthorizeFunction": "authorize", "CallbackFunction": "callback"}
	only := denyStatement(t, key, "OnlyTheSignInFunctionsUseIt")
	if got := values(mapValue(only, "Action")); !slices.Equal(got, uses) {
		t.Errorf("OnlyTheSignInFunctionsUseIt denies %v, want %v", got, uses)
	}
	ex := values(mapValue(mapValue(mapValue(only, "Condition"), "ArnNotLike"), "aws:PrincipalArn"))
	if !slices.Equal(ex, []string{"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/orgauth-${Stage}-authorize/*",
		"arn:${AWS::Partition}:iam::${AWS::AccountId}:role/orgauth-${Stage}-callback/*"}) {
		t.Errorf("the device-cookie key may be used by %v", ex)
	}
	for fn, name := range signIn {
		if rp := yamlPath(t, "Resources", fn, "Properties", "RolePath"); rp == nil || rp.Value != "/orgauth-${Stage}-"+name+"/" {
			t.Errorf("the %s function's role is not on the path the key policy names", name)
		}
	}
	purpose := denyStatement(t, key, "EveryUseIsTheDeviceCookieKey")
	if got := values(mapValue(purpose, "Action")); !slices.Equal(got, uses) {
		t.Errorf("EveryUseIsTheDeviceCookieKey denies %v, want %v", got, uses)
	}
	if c := mapValue(mapValue(mapValue(purpose, "Condition"), "StringNotEquals"), "kms:EncryptionContext:purpose"); c == nil || c.Value != "device-cookie" {
		t.Error("uses without the device-cookie encryption context are not denied")
	}
	for _, st := range yamlPath(t, "Resources", key, "Properties", "KeyPolicy", "Statement").Content {
		if mapValue(st, "Effect").Value == "Allow" && mapValue(st, "Sid").Value != "AccountAdministersThroughIAM" {
			t.Errorf("the key policy allows %s", mapValue(st, "Sid").Value)
		}
	}

	found := 0
	for id := range functionActions(t) {
		policies := yamlPath(t, "Resources", id, "Properties", "Policies")
		if policies == nil {
			continue
		}
		for _, p := range policies.Content {
			for _, st := range mapValue(p, "Statement").Content {
				res := mapValue(st, "Resource")
				if res == nil || res.Tag != "!GetAtt" || res.Value != key+".Arn" {
					continue
				}
				found++
				c := mapValue(mapValue(mapValue(st, "Condition"), "StringEquals"), "kms:EncryptionContext:purpose")
				want := []string{"kms:GenerateDataKey", "kms:Decrypt"}
				if id == "CallbackFunction" {
					want = []string{"kms:Decrypt"}
				}
				if signIn[id] == "" || mapValue(st, "Effect").Value != "Allow" ||
					!slices.Equal(values(mapValue(st, "Action")), want) || c == nil || c.Value != "device-cookie" {
					t.Errorf("%s: %s on the device-cookie key", id, mapValue(st, "Sid").Value)
				}
			}
		}
	}
	if found != len(signIn) {
		t.Errorf("%d statements name the device-cookie key, want one of each sign-in function", found)
	}
	for fn, name := range signIn {
		env := yamlPath(t, "Resources", fn, "Properties", "Environment", "Variables", "DEVICE_COOKIE_KMS_KEY_ID")
		if env == nil || env.Tag != "!GetAtt" || env.Value != key+".Arn" {
			t.Errorf("the %s function is not given DEVICE_COOKIE_KMS_KEY_ID", name)
		}
		if yamlPath(t, "Resources", fn, "Properties", "Environment", "Variables", "DEVICE_COOKIE_KEY") != nil {
			t.Errorf("a device-cookie key in the %s function's configuration", name)
		}
	}
	if yamlPath(t, "Globals", "Function", "Environment", "Variables", "DEVICE_COOKIE_KEY") != nil {
		t.Error("a device-cookie key in the function configuration")
	}
}

// With EdgeProtection, CloudFront's origin header comes from Secrets
// Manager at deploy time and the functions get only its hash: the secret is
// in neither the template nor the functions' settings. Discovery and the
// JWKS are cached at the edge; nothing else is.
func TestTemplateEdgeSecret(t *testing.T) {
	if yamlPath(t, "Parameters", "OriginSecret") != nil {
		t.Error("the origin secret is a template parameter")
	}
	hdr := yamlPath(t, "Resources", "EdgeDistribution", "Properties", "DistributionConfig", "Origins").Content[0]
	h := mapValue(hdr, "OriginCustomHeaders").Content[0]
	if mapValue(h, "HeaderName").Value != "X-Origin-Verify" || !strings.HasPrefix(mapValue(h, "HeaderValue").Value, "{{resolve:secretsmanager:") {
		t.Errorf("origin header %v is not a Secrets Manager reference", values(h))
	}
	env := yamlPath(t, "Globals", "Function", "Environment", "Variables", "ORIGIN_VERIFY_SHA256")
	if env == nil || env.Tag != "!If" || env.Content[0].Value != "UseEdge" || env.Content[1].Value != "OriginSecretSha256" {
		t.Error("the functions do not get the origin secret's hash with the edge on")
	}
	if p := mapValue(yamlPath(t, "Parameters", "OriginSecretSha256"), "AllowedPattern"); p == nil || p.Value != "^([0-9a-f]{64})?$" {
		t.Error("OriginSecretSha256 is not constrained to a SHA-256")
	}
	var cached []string
	for _, b := range yamlPath(t, "Resources", "EdgeDistribution", "Properties", "DistributionConfig", "CacheBehaviors").Content {
		if mapValue(b, "CachePolicyId").Value != "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" {
			cached = append(cached, mapValue(b, "PathPattern").Value)
		}
	}
	if !slices.Equal(cached, []string{"/.well-known/*"}) {
		t.Errorf("cached at the edge: %v", cached)
	}
	if v := yamlPath(t, "Resources", "EdgeDistribution", "Properties", "DistributionConfig", "DefaultCacheBehavior", "CachePolicyId"); v.Value != "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" {
		t.Error("the default behavior caches")
	}
}

// Keys created by orgauthctl keys rotate carry the same policy as the
// template's signing key (kmskeys.SigningKeyPolicy): same statements, and
// the stack outputs the two role ARNs it needs.
func TestTemplateRotatedKeyPolicy(t *testing.T) {
	var sids []string
	for _, st := range yamlPath(t, "Resources", "SigningKey", "Properties", "KeyPolicy", "Statement").Content {
		sids = append(sids, mapValue(st, "Sid").Value)
	}
	raw, err := kmskeys.SigningKeyPolicy(kmskeys.KeyPolicyRoles{TokenRole: "arn:aws:iam::111122223333:role/orgauth-prod-token/*",
		BreakGlassRole: "arn:aws:iam::111122223333:role/orgauth-prod-break-glass"})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Statement []struct{ Sid string } }
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	var built []string
	for _, st := range doc.Statement {
		built = append(built, st.Sid)
	}
	if !slices.Equal(sids, built) {
		t.Errorf("template statements %v, rotated keys' %v", sids, built)
	}
	tokenRole := values(mapValue(mapValue(mapValue(denyStatement(t, "SigningKey", "OnlyTheTokenFunctionSigns"), "Condition"), "ArnNotLike"), "aws:PrincipalArn"))[0]
	if out := yamlPath(t, "Outputs", "KeyPolicyTokenRole", "Value"); out == nil || out.Value != tokenRole {
		t.Errorf("KeyPolicyTokenRole output %v, the key policy names %s", out, tokenRole)
	}
	if yamlPath(t, "Outputs", "BreakGlassRoleArn") == nil {
		t.Error("no BreakGlassRoleArn output")
	}
}
