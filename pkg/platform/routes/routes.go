package routes

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Route is one HttpApi event: an HTTP method and path routed to a function.
type Route struct {
	Method   string // upper case, such as POST; ANY matches every method
	Path     string // API Gateway syntax: /applications/{client_id}, /files/{proxy+}, or $default
	Function string // logical id of the AWS::Serverless::Function
}

// defaultRoute is the catch-all route API Gateway uses when an HttpApi event
// names neither a method nor a path.
const defaultRoute = "$default"

// Pattern is the route as an http.ServeMux pattern (Go 1.22+): method, a
// space, then the path. API Gateway's {name} parameters carry over as they
// are, and a greedy {name+} becomes {name...}. ANY and $default give a
// pattern without a method; $default matches every path. A path ending in a
// slash matches only itself, as in API Gateway, rather than a subtree.
func (r Route) Pattern() string {
	if r.Path == defaultRoute {
		return "/"
	}
	segs := strings.Split(r.Path, "/")
	for i, s := range segs {
		if name, ok := strings.CutSuffix(s, "+}"); ok && strings.HasPrefix(s, "{") {
			segs[i] = name + "...}"
		}
	}
	path := strings.Join(segs, "/")
	if strings.HasSuffix(path, "/") {
		path += "{$}"
	}
	if r.Method == "ANY" {
		return path
	}
	return r.Method + " " + path
}

// Parse returns the routes of every HttpApi event of every
// AWS::Serverless::Function in a SAM template, sorted by path, then method,
// then function. A template without functions gives no routes and no error.
// Two events for the same method and path are an error.
func Parse(template []byte) ([]Route, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(template, &doc); err != nil {
		return nil, fmt.Errorf("parse template: %w", err)
	}
	if len(doc.Content) == 0 {
		return nil, nil // an empty file, or only comments
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		return nil, errors.New("parse template: the template is not a mapping")
	}
	resources := lookup(root, "Resources")
	if resources == nil {
		return nil, nil
	}
	if resources.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("parse template: Resources (line %d) is not a mapping", resources.Line)
	}
	var out []Route
	for i := 0; i+1 < len(resources.Content); i += 2 {
		id, res := resources.Content[i].Value, deref(resources.Content[i+1])
		if res.Kind != yaml.MappingNode || scalar(lookup(res, "Type")) != "AWS::Serverless::Function" {
			continue
		}
		rs, err := functionRoutes(id, res)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	slices.SortFunc(out, func(a, b Route) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Method, b.Method), cmp.Compare(a.Function, b.Function))
	})
	for i := 1; i < len(out); i++ {
		if a, b := out[i-1], out[i]; a.Method == b.Method && a.Path == b.Path {
			return nil, fmt.Errorf("%s %s is routed twice: to %s and to %s", a.Method, a.Path, a.Function, b.Function)
		}
	}
	return out, nil
}

// functionRoutes reads the HttpApi events of one function resource.
func functionRoutes(id string, fn *yaml.Node) ([]Route, error) {
	events := lookup(lookup(fn, "Properties"), "Events")
	if events == nil {
		return nil, nil
	}
	if events.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s.Events (line %d): not a mapping", id, events.Line)
	}
	var out []Route
	for i := 0; i+1 < len(events.Content); i += 2 {
		name, ev := events.Content[i].Value, deref(events.Content[i+1])
		if scalar(lookup(ev, "Type")) != "HttpApi" {
			continue
		}
		props := lookup(ev, "Properties")
		method, err := literal(lookup(props, "Method"))
		if err != nil {
			return nil, fmt.Errorf("%s.Events.%s.Method: %w", id, name, err)
		}
		path, err := literal(lookup(props, "Path"))
		if err != nil {
			return nil, fmt.Errorf("%s.Events.%s.Path: %w", id, name, err)
		}
		switch {
		case method == "" && path == "":
			method, path = "ANY", defaultRoute
		case method == "" || path == "":
			return nil, fmt.Errorf("%s.Events.%s: Method and Path go together, or both are left out for $default", id, name)
		case path != defaultRoute && !strings.HasPrefix(path, "/"):
			return nil, fmt.Errorf("%s.Events.%s.Path: %q does not start with /", id, name, path)
		}
		out = append(out, Route{Method: strings.ToUpper(method), Path: path, Function: id})
	}
	return out, nil
}

// lookup returns the value of key in mapping n, or nil when n is not a
// mapping or has no such key.
func lookup(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// deref follows YAML aliases (*anchor) to the node they name.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// scalar is the value of a scalar node, or "" for anything else.
func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// literal is the value of a plain string node; "" when n is absent. An
// intrinsic function (!Sub, or a Fn::Sub mapping) is an error: its value is
// only known to CloudFormation.
func literal(n *yaml.Node) (string, error) {
	if n == nil {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!str" {
		return "", fmt.Errorf("line %d: want a plain string, not %s", n.Line, describe(n))
	}
	return n.Value, nil
}

func describe(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a sequence"
	case strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!"):
		return n.Tag + " " + n.Value
	default:
		return n.ShortTag() + " " + n.Value
	}
}
