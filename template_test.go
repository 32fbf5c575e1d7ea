package orgauth

import (
	"slices"
	"sort"
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
// callback function decrypts organizations' upstream secrets, and nobody
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
		"kms:Sign":    {"TokenFunction"},
		"kms:Decrypt": {"CallbackFunction"},
		"kms:Encrypt": nil,
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
			if a := mapValue(st, "Action"); a != nil && a.Value == "kms:Decrypt" {
				c := mapValue(mapValue(mapValue(st, "Condition"), "StringLike"), "kms:EncryptionContext:organization_id")
				decryptOK = c != nil && c.Value == "*"
			}
		}
	}
	if !decryptOK {
		t.Fatal("the callback function's kms:Decrypt does not require an organization in the encryption context")
	}
}
