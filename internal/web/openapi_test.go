package web

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// httpMethods are the operation keys of an OpenAPI path item.
var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true,
	"options": true, "head": true, "patch": true, "trace": true}

var (
	fiberParam   = regexp.MustCompile(`:([A-Za-z_][A-Za-z0-9_]*)`)
	openAPIParam = regexp.MustCompile(`\{([^{}]+)\}`)
)

// openAPIPath turns a fiber route path (/a/:id) into an OpenAPI one (/a/{id}).
func openAPIPath(fiberPath string) string { return fiberParam.ReplaceAllString(fiberPath, "{$1}") }

// loadOpenAPI parses the embedded document, the one /api/v1/openapi.json serves.
func loadOpenAPI(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(openAPIDoc, &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	return doc
}

// documentedOperations lists "METHOD /path" for every operation of the document, with its
// path item and operation objects.
type documentedOp struct {
	method, path string
	item, op     map[string]any
}

func documentedOperations(t *testing.T, doc map[string]any) []documentedOp {
	t.Helper()
	paths, ok := doc["paths"].(map[string]any)
	if !ok {
		t.Fatalf("openapi.json has no paths object")
	}
	var ops []documentedOp
	for path, v := range paths {
		item, ok := v.(map[string]any)
		if !ok {
			t.Errorf("path item %s is not an object", path)
			continue
		}
		for key, o := range item {
			if !httpMethods[key] {
				continue
			}
			op, ok := o.(map[string]any)
			if !ok {
				t.Errorf("%s %s is not an object", strings.ToUpper(key), path)
				continue
			}
			ops = append(ops, documentedOp{method: strings.ToUpper(key), path: path, item: item, op: op})
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].path != ops[j].path {
			return ops[i].path < ops[j].path
		}
		return ops[i].method < ops[j].method
	})
	return ops
}

// TestOpenAPIMatchesRoutes keeps openapi.json and routeTable in agreement, and checks that the
// document holds together: OpenAPI 3.x, unique operation ids, resolvable $refs, declared path
// parameters.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc := loadOpenAPI(t)

	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.") {
		t.Errorf("openapi = %q, want 3.x", doc["openapi"])
	}

	// The route table, built without a running server. A zero Server is enough: routeTable only
	// takes method values and builds middleware (the rate limiters fall back to their defaults
	// and in-memory storage), none of which touches the store, the hub or the config's values.
	routes := map[string]bool{}
	for _, r := range (&Server{}).routeTable() {
		if strings.ContainsAny(r.path, "*?+") {
			t.Errorf("route %s %s uses fiber syntax this test does not translate", r.method, r.path)
		}
		key := r.method + " " + openAPIPath(r.path)
		if routes[key] {
			t.Errorf("route %s appears twice in the route table", key)
		}
		routes[key] = true
	}

	ops := documentedOperations(t, doc)
	documented := map[string]bool{}
	for _, o := range ops {
		documented[o.method+" "+o.path] = true
	}

	var undocumented, unrouted []string
	for k := range routes {
		if !documented[k] {
			undocumented = append(undocumented, k)
		}
	}
	for k := range documented {
		if !routes[k] {
			unrouted = append(unrouted, k)
		}
	}
	sort.Strings(undocumented)
	sort.Strings(unrouted)
	if len(undocumented) > 0 {
		t.Errorf("routes missing from openapi.json:\n\t%s", strings.Join(undocumented, "\n\t"))
	}
	if len(unrouted) > 0 {
		t.Errorf("operations in openapi.json that are not in the route table:\n\t%s", strings.Join(unrouted, "\n\t"))
	}

	// Every operation has a unique operationId and at least one response.
	ids := map[string]string{}
	for _, o := range ops {
		name := o.method + " " + o.path
		id, _ := o.op["operationId"].(string)
		if id == "" {
			t.Errorf("%s has no operationId", name)
		} else if other, dup := ids[id]; dup {
			t.Errorf("operationId %q is used by both %s and %s", id, other, name)
		} else {
			ids[id] = name
		}
		if rs, _ := o.op["responses"].(map[string]any); len(rs) == 0 {
			t.Errorf("%s has no responses", name)
		}
	}

	// Every $ref resolves.
	var refs []string
	collectRefs(doc, &refs)
	for _, ref := range refs {
		if _, err := resolvePointer(doc, ref); err != nil {
			t.Errorf("$ref %q: %v", ref, err)
		}
	}

	// Every security requirement names a declared scheme.
	schemes, _ := digMap(doc, "components", "securitySchemes")
	for _, o := range ops {
		reqs, _ := o.op["security"].([]any)
		for _, r := range reqs {
			req, _ := r.(map[string]any)
			for name := range req {
				if _, ok := schemes[name]; !ok {
					t.Errorf("%s %s: security scheme %q is not declared", o.method, o.path, name)
				}
			}
		}
	}

	// Every {name} of a path is declared as a path parameter of the operation or its path item,
	// and every declared path parameter is in the path and required.
	for _, o := range ops {
		name := o.method + " " + o.path
		declared := map[string]bool{}
		for _, list := range []any{o.item["parameters"], o.op["parameters"]} {
			ps, _ := list.([]any)
			for _, p := range ps {
				param := resolveObject(t, doc, p, name)
				if param == nil || param["in"] != "path" {
					continue
				}
				pn, _ := param["name"].(string)
				declared[pn] = true
				if !strings.Contains(o.path, "{"+pn+"}") {
					t.Errorf("%s declares path parameter %q, which is not in the path", name, pn)
				}
				if param["required"] != true {
					t.Errorf("%s: path parameter %q is not required: true", name, pn)
				}
			}
		}
		for _, m := range openAPIParam.FindAllStringSubmatch(o.path, -1) {
			if !declared[m[1]] {
				t.Errorf("%s: path parameter {%s} is not declared", name, m[1])
			}
		}
	}
}

// collectRefs appends the value of every "$ref" key in v.
func collectRefs(v any, refs *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if k == "$ref" {
				if s, ok := e.(string); ok {
					*refs = append(*refs, s)
					continue
				}
			}
			collectRefs(e, refs)
		}
	case []any:
		for _, e := range x {
			collectRefs(e, refs)
		}
	}
}

// resolvePointer follows a local reference ("#/components/schemas/User") in doc.
func resolvePointer(doc map[string]any, ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("only local references (#/...) are used in this document")
	}
	var cur any = doc
	for _, tok := range strings.Split(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%q is not inside an object", tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%q does not exist", tok)
		}
	}
	return cur, nil
}

// resolveObject returns v as an object, following a $ref; nil (after reporting) otherwise.
func resolveObject(t *testing.T, doc map[string]any, v any, where string) map[string]any {
	t.Helper()
	m, ok := v.(map[string]any)
	for hops := 0; ok && hops < 10; hops++ {
		ref, isRef := m["$ref"].(string)
		if !isRef {
			return m
		}
		target, err := resolvePointer(doc, ref)
		if err != nil {
			return nil // reported by the $ref check
		}
		m, ok = target.(map[string]any)
	}
	t.Errorf("%s: a parameter is not an object", where)
	return nil
}

func digMap(doc map[string]any, keys ...string) (map[string]any, bool) {
	cur := doc
	for _, k := range keys {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, true
}
