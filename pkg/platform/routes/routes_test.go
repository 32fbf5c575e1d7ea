package routes_test

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"orgauth"
	"orgauth/pkg/platform/routes"
)

// TestTemplateRoutes pins the routes of template.yaml: a change there must be
// a deliberate change here.
func TestTemplateRoutes(t *testing.T) {
	got, err := routes.Parse(orgauth.Template)
	if err != nil {
		t.Fatal(err)
	}
	want := []routes.Route{
		{"GET", "/.well-known/jwks.json", "WellKnownFunction"},
		{"GET", "/.well-known/oauth-authorization-server", "WellKnownFunction"},
		{"GET", "/.well-known/openid-configuration", "WellKnownFunction"},
		{"GET", "/apis", "ApplicationsFunction"},
		{"GET", "/applications", "ApplicationsFunction"},
		{"POST", "/applications", "ApplicationsFunction"},
		{"DELETE", "/applications/{client_id}", "ApplicationsFunction"},
		{"GET", "/applications/{client_id}", "ApplicationsFunction"},
		{"PATCH", "/applications/{client_id}", "ApplicationsFunction"},
		{"POST", "/applications/{client_id}/rotate-secret", "ApplicationsFunction"},
		{"GET", "/authorize", "AuthorizeFunction"},
		{"GET", "/callback", "CallbackFunction"},
		{"GET", "/callback/{org}", "CallbackFunction"},
		{"ANY", "/consent", "AuthorizeFunction"},
		{"GET", "/consents", "ApplicationsFunction"},
		{"DELETE", "/consents/{client_id}", "ApplicationsFunction"},
		{"GET", "/console", "ConsoleFunction"},
		{"GET", "/console/{path+}", "ConsoleFunction"},
		{"ANY", "/login", "AuthorizeFunction"},
		{"GET", "/logout", "AuthorizeFunction"},
		{"ANY", "/oauth/introspect", "TokenFunction"},
		{"ANY", "/oauth/revoke", "TokenFunction"},
		{"ANY", "/oauth/token", "TokenFunction"},
		{"GET", "/organization", "ApplicationsFunction"},
		{"ANY", "/userinfo", "WellKnownFunction"},
		{"GET", "/v2/logout", "AuthorizeFunction"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("routes:\n got %v\nwant %v", got, want)
	}

	// The patterns mount on one ServeMux without conflict, and a request
	// reaches the function that owns its route.
	mux := http.NewServeMux()
	for _, r := range got {
		mux.Handle(r.Pattern(), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			io.WriteString(w, r.Function)
		}))
	}
	for _, r := range got {
		path := strings.NewReplacer("{client_id}", "app-1", "{path+}", "assets/app.js").Replace(r.Path)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(r.Method, path, nil))
		if rec.Body.String() != r.Function {
			t.Errorf("%s %s reached %q (%d), want %s", r.Method, path, rec.Body, rec.Code, r.Function)
		}
	}
}

// TestTemplateDefinitionBody checks the second copy of the routes in
// template.yaml: HttpApi's DefinitionBody must integrate exactly the routes of
// the Events, each with the function that owns the event. (It names functions
// by FunctionName so that the API does not depend on them; see the top of
// template.yaml.)
func TestTemplateDefinitionBody(t *testing.T) {
	rs, err := routes.Parse(orgauth.Template)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(orgauth.Template, &doc); err != nil {
		t.Fatal(err)
	}
	resources := get(t, doc.Content[0], "Resources")
	fnNames := map[string]string{} // FunctionName -> logical id
	for _, r := range rs {
		name := get(t, get(t, get(t, resources, r.Function), "Properties"), "FunctionName").Value
		fnNames[name] = r.Function
	}
	want := map[string]string{} // "METHOD path" -> logical id
	for _, r := range rs {
		want[r.Method+" "+r.Path] = r.Function
	}

	uriFunction := regexp.MustCompile(`:function:([^/:]+):live/invocations$`)
	got := map[string]string{}
	paths := get(t, get(t, get(t, get(t, resources, "HttpApi"), "Properties"), "DefinitionBody"), "paths")
	for i := 0; i < len(paths.Content); i += 2 {
		path, methods := paths.Content[i].Value, paths.Content[i+1]
		for j := 0; j < len(methods.Content); j += 2 {
			method := strings.ToUpper(methods.Content[j].Value)
			if method == "X-AMAZON-APIGATEWAY-ANY-METHOD" {
				method = "ANY"
			}
			uri := get(t, get(t, methods.Content[j+1], "x-amazon-apigateway-integration"), "uri").Value
			m := uriFunction.FindStringSubmatch(uri)
			if m == nil {
				t.Errorf("%s %s: integration uri %q names no function", method, path, uri)
				continue
			}
			got[method+" "+path] = fnNames[m[1]]
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("DefinitionBody routes do not match the Events:\n got %v\nwant %v", got, want)
	}
}

func get(t *testing.T, n *yaml.Node, key string) *yaml.Node {
	t.Helper()
	for i := 0; n != nil && i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	t.Fatalf("no %q under line %d", key, n.Line)
	return nil
}

func TestParse(t *testing.T) {
	const tpl = `
Transform: AWS::Serverless-2016-10-31
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
Resources:
  Api:
    Type: AWS::Serverless::HttpApi
  Files:
    Type: AWS::Serverless::Function
    Properties:
      Environment:
        Variables:
          TABLE: !Ref Table
          URL: !Sub "https://${Api}.execute-api.${AWS::Region}.${AWS::URLSuffix}"
          ARN: !GetAtt Key.Arn
          LEVEL: !If [IsProd, info, debug]
      Events:
        Read:
          Type: HttpApi
          Properties: &read
            ApiId: !Ref Api
            Method: get
            Path: /files/{proxy+}
        Queue:
          Type: SQS
          Properties:
            Queue: !GetAtt Queue.Arn
        Rest:
          Type: Api
          Properties:
            Method: GET
            Path: /rest
  Other:
    Type: AWS::Serverless::Function
    Properties:
      Events:
        Anything:
          Type: HttpApi
          Properties:
            Method: ANY
            Path: /any/
        Fallback:
          Type: HttpApi
        Again:
          Type: HttpApi
          Properties: *read
  Table:
    Type: AWS::DynamoDB::Table
`
	_, err := routes.Parse([]byte(tpl))
	if err == nil || !strings.Contains(err.Error(), "GET /files/{proxy+} is routed twice: to Files and to Other") {
		t.Fatalf("duplicate route: err = %v", err)
	}

	got, err := routes.Parse([]byte(strings.Replace(tpl, "Properties: *read", "Properties: {Method: POST, Path: /files}", 1)))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		route   routes.Route
		pattern string
	}{
		{routes.Route{"ANY", "$default", "Other"}, "/"},
		{routes.Route{"ANY", "/any/", "Other"}, "/any/{$}"},
		{routes.Route{"POST", "/files", "Other"}, "POST /files"},
		{routes.Route{"GET", "/files/{proxy+}", "Files"}, "GET /files/{proxy...}"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i, w := range want {
		if got[i] != w.route || got[i].Pattern() != w.pattern {
			t.Errorf("route %d = %v %q, want %v %q", i, got[i], got[i].Pattern(), w.route, w.pattern)
		}
	}
}

func TestPattern(t *testing.T) {
	for _, tc := range []struct {
		r    routes.Route
		want string
	}{
		{routes.Route{Method: "POST", Path: "/applications/{client_id}"}, "POST /applications/{client_id}"},
		{routes.Route{Method: "GET", Path: "/.well-known/jwks.json"}, "GET /.well-known/jwks.json"},
		{routes.Route{Method: "GET", Path: "/"}, "GET /{$}"},
		{routes.Route{Method: "ANY", Path: "/{proxy+}"}, "/{proxy...}"},
	} {
		if got := tc.r.Pattern(); got != tc.want {
			t.Errorf("%v.Pattern() = %q, want %q", tc.r, got, tc.want)
		}
	}
}

func TestParseNoFunctions(t *testing.T) {
	for _, tpl := range []string{
		"",
		"AWSTemplateFormatVersion: '2010-09-09'\n",
		"Resources:\n  Table:\n    Type: AWS::DynamoDB::Table\n    Properties:\n      TableName: !Sub '${AWS::StackName}-t'\n",
		"Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Handler: bootstrap\n",
	} {
		got, err := routes.Parse([]byte(tpl))
		if err != nil || len(got) != 0 {
			t.Errorf("Parse(%q) = %v, %v; want no routes and no error", tpl, got, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	fn := func(props string) string {
		return "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      Events:\n        E:\n          Type: HttpApi\n          Properties:\n" + props
	}
	for _, tc := range []struct {
		name, tpl, want string
	}{
		{"malformed", "Resources:\n  Fn: [unclosed\n", "parse template"},
		{"tab indent", "Resources:\n\tFn: {}\n", "parse template"},
		{"not a mapping", "- a\n- b\n", "not a mapping"},
		{"resources not a mapping", "Resources: [a]\n", "Resources (line 1) is not a mapping"},
		{"intrinsic path", fn("            Method: GET\n            Path: !Sub /${Stage}/x\n"), "Fn.Events.E.Path: line 10: want a plain string, not !Sub /${Stage}/x"},
		{"mapping method", fn("            Method: {Ref: M}\n            Path: /x\n"), "Fn.Events.E.Method: line 9: want a plain string, not a mapping"},
		{"method without path", fn("            Method: GET\n"), "Method and Path go together"},
		{"relative path", fn("            Method: GET\n            Path: x\n"), `"x" does not start with /`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := routes.Parse([]byte(tc.tpl))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %v, %v; want an error containing %q", got, err, tc.want)
			}
		})
	}
}
