// Package samlocal knows what `sam local` needs from this repository: the
// functions of template.yaml with the environment variables each one
// declares (Globals merged with its own Environment), the --env-vars file
// that gives them local values, and how `sam local` turns that file into a
// function's environment.
package samlocal

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Function is one AWS::Serverless::Function of the template.
type Function struct {
	LogicalID string // such as TokenFunction
	Package   string // its directory under functions/, from FunctionName orgauth-${Stage}-<package>
	// Variables are the environment variables the function declares, with
	// the template's value when it is a plain scalar; a value the template
	// computes (!Ref, !Sub, !If, ...) is "" and Computed holds its name.
	Variables map[string]string
	Computed  map[string]bool
	Memory    int // MemorySize, in MB
	Timeout   int // Timeout, in seconds
}

// Names are the function's variable names, sorted.
func (f Function) Names() []string { return slices.Sorted(maps.Keys(f.Variables)) }

// Functions reads every function of a SAM template, in template order.
func Functions(template []byte) ([]Function, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(template, &doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, errors.New("parse template: empty")
	}
	root := doc.Content[0]
	globals := get(get(root, "Globals"), "Function")
	base := Function{Variables: map[string]string{}, Computed: map[string]bool{}, Memory: 128, Timeout: 3}
	apply(&base, globals)
	var out []Function
	res := get(root, "Resources")
	if res == nil || res.Kind != yaml.MappingNode {
		return nil, errors.New("parse template: no Resources")
	}
	for i := 0; i+1 < len(res.Content); i += 2 {
		id, r := res.Content[i].Value, res.Content[i+1]
		if scalar(get(r, "Type")) != "AWS::Serverless::Function" {
			continue
		}
		f := Function{LogicalID: id, Variables: maps.Clone(base.Variables), Computed: maps.Clone(base.Computed), Memory: base.Memory, Timeout: base.Timeout}
		props := get(r, "Properties")
		apply(&f, props)
		name := get(props, "FunctionName")
		if name == nil {
			return nil, fmt.Errorf("%s has no FunctionName", id)
		}
		_, pkg, ok := strings.Cut(name.Value, "${Stage}-")
		if !ok || pkg == "" {
			return nil, fmt.Errorf("%s: FunctionName %q does not end in ${Stage}-<package>", id, name.Value)
		}
		f.Package = pkg
		out = append(out, f)
	}
	if len(out) == 0 {
		return nil, errors.New("parse template: no AWS::Serverless::Function")
	}
	return out, nil
}

// apply lays the properties of Globals.Function or of a function over f:
// the function's own variables win over the global ones, as in SAM.
func apply(f *Function, props *yaml.Node) {
	vars := get(get(props, "Environment"), "Variables")
	if vars != nil && vars.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(vars.Content); i += 2 {
			k, v := vars.Content[i].Value, vars.Content[i+1]
			if v.Kind == yaml.ScalarNode && (v.Tag == "" || strings.HasPrefix(v.Tag, "!!")) {
				f.Variables[k], f.Computed[k] = v.Value, false
			} else {
				f.Variables[k], f.Computed[k] = "", true
			}
		}
	}
	if n, err := strconv.Atoi(scalar(get(props, "MemorySize"))); err == nil {
		f.Memory = n
	}
	if n, err := strconv.Atoi(scalar(get(props, "Timeout"))); err == nil {
		f.Timeout = n
	}
}

func get(n *yaml.Node, key string) *yaml.Node {
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

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// EnvFile is a `sam local --env-vars` file: "Parameters" for every
// function, and one section per function by logical id.
type EnvFile map[string]map[string]string

// Generate writes one section per function holding every variable it
// declares: the value in values where there is one, else the template's own
// plain value. A variable the template computes and values lacks is an
// error, since `sam local` cannot compute it.
func Generate(fns []Function, values map[string]string) (EnvFile, error) {
	out := EnvFile{}
	var errs []error
	for _, f := range fns {
		sec := map[string]string{}
		for _, k := range f.Names() {
			if v, ok := values[k]; ok {
				sec[k] = v
			} else if !f.Computed[k] {
				sec[k] = f.Variables[k]
			} else {
				errs = append(errs, fmt.Errorf("%s reads %s, which template.yaml computes and the local stack does not set", f.LogicalID, k))
			}
		}
		out[f.LogicalID] = sec
	}
	return out, errors.Join(errs...)
}

// Write writes the file atomically, readable by its owner only (it holds no
// secret, but names the local keys and table).
func (e EnvFile) Write(path string) error {
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Read reads an --env-vars file.
func Read(path string) (EnvFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var e EnvFile
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return e, nil
}

// Resolve is the environment `sam local` gives function f, following the SAM
// CLI (samcli/local/lambdafn/env_vars.py and local_lambda.py): the AWS_*
// variables of the Lambda runtime and the shell's credentials, then every
// variable the template declares for f, valued by the template, overridden
// by the shell, then by the file's "Parameters", then by the file's section
// for f. A variable of the file that the template does not declare is
// dropped. lookup reads the shell's environment (os.LookupEnv).
func Resolve(f Function, file EnvFile, lookup func(string) (string, bool)) map[string]string {
	region, key, secret := "us-east-1", "defaultkey", "defaultsecret"
	if v, ok := lookup("AWS_REGION"); ok && v != "" {
		region = v
	} else if v, ok := lookup("AWS_DEFAULT_REGION"); ok && v != "" {
		region = v
	}
	if v, ok := lookup("AWS_ACCESS_KEY_ID"); ok && v != "" {
		key = v
	}
	if v, ok := lookup("AWS_SECRET_ACCESS_KEY"); ok && v != "" {
		secret = v
	}
	env := map[string]string{
		"AWS_SAM_LOCAL":                   "true",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": strconv.Itoa(f.Memory),
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(f.Timeout),
		"AWS_LAMBDA_FUNCTION_HANDLER":     "bootstrap",
		"AWS_LAMBDA_FUNCTION_NAME":        f.LogicalID,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "aws/lambda/" + f.LogicalID,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "$LATEST",
		"AWS_REGION":                      region,
		"AWS_DEFAULT_REGION":              region,
		"AWS_ACCESS_KEY_ID":               key,
		"AWS_SECRET_ACCESS_KEY":           secret,
		"AWS_ACCOUNT_ID":                  "123456789012",
	}
	if v, ok := lookup("AWS_SESSION_TOKEN"); ok && v != "" {
		env["AWS_SESSION_TOKEN"] = v
	}
	overrides := map[string]string{}
	maps.Copy(overrides, file["Parameters"])
	maps.Copy(overrides, file[f.LogicalID])
	for name, v := range f.Variables {
		if s, ok := lookup(name); ok {
			v = s
		}
		if s, ok := overrides[name]; ok {
			v = s
		}
		env[name] = v
	}
	return env
}

// Environ is env as KEY=value lines, sorted, for exec.Cmd.Env.
func Environ(env map[string]string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}
