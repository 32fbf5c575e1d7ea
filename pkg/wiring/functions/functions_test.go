package functions_test

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"orgauth/pkg/testkit/emulator"
	"orgauth/pkg/wiring/functions"
)

// ownEndpoints lists, per function directory, the endpoint packages its
// bootstrap may link: its own, and no other function's.
var ownEndpoints = map[string][]string{
	"token":        {"token"},
	"wellknown":    {"wellknown", "userinfo"},
	"applications": {"applications"},
	"authorize":    {"authorize", "logout", "signinhttp"},
	"callback":     {"callback", "signinhttp"},
	"console":      {"console"},
}

// Each bootstrap links its own endpoints only, and never Go's testing
// package or the test infrastructure.
func TestEachFunctionLinksOnlyItsOwnCode(t *testing.T) {
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if len(ownEndpoints) != len(functions.All) {
		t.Fatalf("%d functions listed here, %d constructors", len(ownEndpoints), len(functions.All))
	}
	for dir, own := range ownEndpoints {
		t.Run(dir, func(t *testing.T) {
			// The tags the deployed build uses (Makefile, GO_LAMBDA_BUILD).
			cmd := exec.Command("go", "list", "-tags", "lambda.norpc", "-deps", "./functions/"+dir)
			cmd.Dir = root
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v", err)
			}
			for _, dep := range strings.Fields(string(out)) {
				switch {
				case dep == "testing" || strings.HasPrefix(dep, "orgauth/pkg/testkit") || strings.HasPrefix(dep, "orgauth/test"):
					t.Errorf("links %s", dep)
				case dep == "orgauth/pkg/storage/conformance" || dep == "orgauth/pkg/wiring/functions":
					t.Errorf("links %s", dep)
				case dep == "text/template" || dep == "html/template":
					// Its reflection keeps every exported method of the
					// binary: megabytes (signinhttp/html.go).
					t.Errorf("links %s", dep)
				case strings.HasPrefix(dep, "orgauth/pkg/endpoints/"):
					if name := filepath.Base(dep); !slices.Contains(own, name) {
						t.Errorf("links another function's endpoint %s", dep)
					}
				}
			}
		})
	}
}
