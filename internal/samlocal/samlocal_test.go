package samlocal

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"orgauth"
)

func TestFunctionsOfTheTemplate(t *testing.T) {
	fns, err := Functions(orgauth.Template)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Function{}
	for _, f := range fns {
		byID[f.LogicalID] = f
	}
	tok, ok := byID["TokenFunction"]
	if !ok || tok.Package != "token" || tok.Memory != 512 || tok.Timeout != 10 {
		t.Fatalf("TokenFunction = %+v", tok)
	}
	if !tok.Computed["ISSUER"] || !tok.Computed["SIGNING_KEY_IDS"] || tok.Computed["JWKS_MAX_AGE"] || tok.Variables["JWKS_MAX_AGE"] != "5m" {
		t.Fatalf("TokenFunction variables = %v computed %v", tok.Variables, tok.Computed)
	}
	for _, name := range []string{"DYNAMODB_ENDPOINT", "KMS_ENDPOINT", "SSO_KEY_ID"} {
		for _, f := range fns {
			if _, ok := f.Variables[name]; !ok {
				t.Errorf("%s does not declare %s", f.LogicalID, name)
			}
		}
	}
	// Only the sign-in functions use the device-cookie key (the callback
	// opens SSO states sealed under a key derived from it), and the
	// template computes its KMS key: the env file must give it a value.
	for _, f := range fns {
		signIn := f.LogicalID == "AuthorizeFunction" || f.LogicalID == "CallbackFunction"
		if _, ok := f.Variables["DEVICE_COOKIE_KMS_KEY_ID"]; ok != signIn || (ok && !f.Computed["DEVICE_COOKIE_KMS_KEY_ID"]) {
			t.Errorf("%s: DEVICE_COOKIE_KMS_KEY_ID declared %v, computed %v", f.LogicalID, ok, f.Computed["DEVICE_COOKIE_KMS_KEY_ID"])
		}
	}
	if _, err := Generate(fns, map[string]string{"ISSUER": "x", "TABLE_NAME": "x", "SIGNING_KEY_IDS": "x", "AUDIENCES": "x",
		"MANAGEMENT_AUDIENCE": "x", "SSO_KEY_ID": "x", "METRICS_NAMESPACE": "x", "LOG_LEVEL": "x"}); err == nil ||
		!strings.Contains(err.Error(), "AuthorizeFunction reads DEVICE_COOKIE_KMS_KEY_ID") {
		t.Errorf("an env file without the device-cookie key: %v", err)
	}
	if c := byID["CallbackFunction"]; c.Timeout != 20 || c.Package != "callback" {
		t.Errorf("CallbackFunction = %+v", c)
	}
	if c := byID["ConsoleFunction"]; c.Memory != 128 || c.Package != "console" {
		t.Errorf("ConsoleFunction = %+v", c)
	}
}

const template = `
Globals:
  Function:
    MemorySize: 256
    Environment:
      Variables:
        A: !Ref Thing
        B: plain
        C: "from-template"
Resources:
  OneFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub app-${Stage}-one
      Environment:
        Variables:
          D: !GetAtt Thing.Arn
  TwoFunction:
    Type: AWS::Serverless::Function
    Properties:
      FunctionName: !Sub app-${Stage}-two
      Timeout: 7
`

func TestGenerateAndResolve(t *testing.T) {
	fns, err := Functions([]byte(template))
	if err != nil {
		t.Fatal(err)
	}
	if len(fns) != 2 || fns[0].Package != "one" || !slices.Equal(fns[0].Names(), []string{"A", "B", "C", "D"}) || !slices.Equal(fns[1].Names(), []string{"A", "B", "C"}) {
		t.Fatalf("functions = %+v", fns)
	}
	if _, err := Generate(fns, map[string]string{"A": "a"}); err == nil {
		t.Fatal("OneFunction's computed D has no value, yet Generate succeeded")
	}
	file, err := Generate(fns, map[string]string{"A": "a", "D": "d", "UNDECLARED": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"A": "a", "B": "plain", "C": "from-template", "D": "d"}; !maps.Equal(file["OneFunction"], want) {
		t.Fatalf("OneFunction section = %v", file["OneFunction"])
	}
	if _, ok := file["TwoFunction"]["D"]; ok {
		t.Fatal("TwoFunction got a variable it does not declare")
	}

	// Precedence, as in the SAM CLI: template < shell < Parameters < the
	// function's section; what the template does not declare is dropped.
	file["Parameters"] = map[string]string{"B": "from-parameters", "C": "from-parameters", "UNDECLARED": "x"}
	file["TwoFunction"] = map[string]string{"C": "from-section"}
	shell := map[string]string{"B": "from-shell", "AWS_REGION": "eu-west-1", "UNDECLARED": "y"}
	lookup := func(k string) (string, bool) { v, ok := shell[k]; return v, ok }
	env := Resolve(fns[1], file, lookup)
	if env["A"] != "" || env["B"] != "from-parameters" || env["C"] != "from-section" {
		t.Fatalf("resolved %v", env)
	}
	if _, ok := env["UNDECLARED"]; ok {
		t.Fatal("an undeclared variable reached the function")
	}
	if env["AWS_REGION"] != "eu-west-1" || env["AWS_ACCESS_KEY_ID"] != "defaultkey" || env["AWS_LAMBDA_FUNCTION_TIMEOUT"] != "7" ||
		env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] != "256" || env["AWS_LAMBDA_FUNCTION_NAME"] != "TwoFunction" {
		t.Fatalf("AWS variables = %v", env)
	}
}
