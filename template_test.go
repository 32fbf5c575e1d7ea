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
