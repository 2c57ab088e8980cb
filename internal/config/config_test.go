package config

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// envOf returns a getenv that reads m (nil: everything unset).
func envOf(m map[string]string) func(string) string {
	return func(name string) string { return m[name] }
}

func TestLoadDefaults(t *testing.T) {
	got, err := Load(envOf(nil))
	if err != nil {
		t.Fatalf("Load with nothing set: %v", err)
	}
	want := Config{
		Addr:           ":8080",
		MetricsAddr:    "127.0.0.1:9090",
		DataDir:        "./data",
		BaseURL:        "http://localhost:8080",
		SecureCookies:  false,
		TrustedProxies: nil,
		MongoURI:       "",
		MongoDatabase:  "insieme",
		RedisURL:       "",
		LogFormat:      "json",
		LogLevel:       "info",
		SMTPURL:        "",
		MailFrom:       "Insieme <no-reply@localhost>",
		SessionTTL:     720 * time.Hour,
		LoginPerMinute: 120,
		ShutdownGrace:  15 * time.Second,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
	if !got.Embedded() {
		t.Error("Embedded() = false with no MONGODB_URI; want true")
	}

	// Blank values count as unset.
	blank := map[string]string{}
	for _, name := range Names() {
		blank[name] = " \t "
	}
	got, err = Load(envOf(blank))
	if err != nil {
		t.Fatalf("Load with blank values: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("blank values:\n got %+v\nwant the defaults %+v", got, want)
	}
}

func TestNamesAndDefaults(t *testing.T) {
	names := Names()
	if len(names) == 0 {
		t.Fatal("Names() is empty")
	}
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			t.Errorf("%s is listed twice", name)
		}
		seen[name] = true
		if !regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`).MatchString(name) {
			t.Errorf("%q is not an UPPER_SNAKE_CASE name", name)
		}
		if _, ok := Default(name); !ok {
			t.Errorf("Default(%q) is not found", name)
		}
	}
	if d, ok := Default("INSIEME_NO_SUCH_VARIABLE"); ok || d != "" {
		t.Errorf("Default of an unknown name = %q, %v; want \"\", false", d, ok)
	}
}

// badValues holds, for each variable, values that Load must refuse with an error naming it.
var badValues = map[string][]string{
	"INSIEME_ADDR":             {"8080", "localhost", ":http", ":70000", ":-1", "::8080"},
	"INSIEME_METRICS_ADDR":     {"9090", "none", "127.0.0.1:99999", "disabled"},
	"INSIEME_BASE_URL":         {"localhost:8080", "forum.example.org", "ftp://forum.example.org", "https://", "//forum.example.org"},
	"INSIEME_SECURE_COOKIES":   {"maybe", "2", "si", "enabled"},
	"INSIEME_DEV_CLOCK":        {"sometimes"},
	"INSIEME_TRUSTED_PROXIES":  {"proxy.local", "10.0.0.0/33", "10.0.0.1,lb", "256.1.1.1", "10.0.0.1;10.0.0.2"},
	"MONGODB_URI":              {"localhost:27017", "postgres://db/insieme", "mongo://mongo1:27017"},
	"MONGODB_DATABASE":         {"a/b", "a.b", "my db", "a$b", `a"b`, `a\b`},
	"REDIS_URL":                {"localhost:6379", "http://redis:6379", "tcp://redis:6379"},
	"INSIEME_LOG_FORMAT":       {"xml", "logfmt", "JSON"},
	"INSIEME_LOG_LEVEL":        {"trace", "warning", "fatal", "INFO"},
	"INSIEME_SMTP_URL":         {"mail.example.org:587", "http://mail.example.org", "smtp://", "smtp:///path"},
	"INSIEME_MAIL_FROM":        {"nobody", "Insieme"},
	"INSIEME_SESSION_TTL":      {"0", "0s", "-1h", "30", "a month"},
	"INSIEME_LOGIN_PER_MINUTE": {"0", "-5", "ten", "1.5", "99999999999999999999"},
	"INSIEME_SHUTDOWN_GRACE":   {"0", "-1s", "15", "soon"},
}

// acceptsAnything lists the variables that have no bad value, and why.
var acceptsAnything = map[string]string{
	"INSIEME_DATA_DIR": "every non-empty path is accepted, and an empty one means the default",
}

func TestLoadBadValues(t *testing.T) {
	for _, name := range Names() {
		_, hasBad := badValues[name]
		_, exempt := acceptsAnything[name]
		if !hasBad && !exempt {
			t.Errorf("%s has no bad values in badValues (nor a reason in acceptsAnything): add some", name)
		}
	}
	for name := range badValues {
		if _, ok := Default(name); !ok {
			t.Errorf("badValues has %s, which the config does not know", name)
		}
	}

	for name, values := range badValues {
		for _, value := range values {
			t.Run(name+"="+value, func(t *testing.T) {
				got, err := Load(envOf(map[string]string{name: value}))
				if err == nil {
					t.Fatalf("Load accepted %s=%q (config %+v); want an error", name, value, got)
				}
				named := namedIn(err)
				if !slices.Equal(named, []string{name}) {
					t.Errorf("the error names %v; want exactly [%s]. Error:\n%v", named, name, err)
				}
				if !reflect.DeepEqual(got, Config{}) {
					t.Errorf("Load returned a non-zero config with its error: %+v", got)
				}
			})
		}
	}
}

func TestLoadReportsEveryBadVariable(t *testing.T) {
	env := map[string]string{}
	var want []string
	for _, name := range Names() {
		if values := badValues[name]; len(values) > 0 {
			env[name] = values[0]
			want = append(want, name)
		}
	}
	_, err := Load(envOf(env))
	if err == nil {
		t.Fatal("Load accepted a bad value for every variable")
	}
	if got := namedIn(err); !slices.Equal(got, want) {
		t.Errorf("the error names\n %v\nwant (in documentation order)\n %v\nError:\n%v", got, want, err)
	}
}

// namedIn returns the variables that an error from Load names, in the order it names them.
func namedIn(err error) []string {
	var named []string
	for _, name := range Names() {
		re := regexp.MustCompile(`(^|[^A-Z0-9_])` + regexp.QuoteMeta(name) + `([^A-Z0-9_]|$)`)
		if loc := re.FindStringIndex(err.Error()); loc != nil {
			named = append(named, name)
		}
	}
	// Order of appearance in the message.
	msg := err.Error()
	slices.SortStableFunc(named, func(a, b string) int {
		return strings.Index(msg, a+"=") - strings.Index(msg, b+"=")
	})
	return named
}

func TestLoadGoodValues(t *testing.T) {
	type field = func(Config) any
	var (
		addr       field = func(c Config) any { return c.Addr }
		metrics    field = func(c Config) any { return c.MetricsAddr }
		dataDir    field = func(c Config) any { return c.DataDir }
		baseURL    field = func(c Config) any { return c.BaseURL }
		secure     field = func(c Config) any { return c.SecureCookies }
		proxies    field = func(c Config) any { return c.TrustedProxies }
		mongoURI   field = func(c Config) any { return c.MongoURI }
		embedded   field = func(c Config) any { return c.Embedded() }
		database   field = func(c Config) any { return c.MongoDatabase }
		redisURL   field = func(c Config) any { return c.RedisURL }
		logFormat  field = func(c Config) any { return c.LogFormat }
		logLevel   field = func(c Config) any { return c.LogLevel }
		smtpURL    field = func(c Config) any { return c.SMTPURL }
		mailFrom   field = func(c Config) any { return c.MailFrom }
		sessionTTL field = func(c Config) any { return c.SessionTTL }
		loginRate  field = func(c Config) any { return c.LoginPerMinute }
		grace      field = func(c Config) any { return c.ShutdownGrace }
	)
	tests := []struct {
		name, value string
		get         field
		want        any
	}{
		{"INSIEME_ADDR", "127.0.0.1:3000", addr, "127.0.0.1:3000"},
		{"INSIEME_ADDR", ":0", addr, ":0"},
		{"INSIEME_ADDR", "[::1]:8080", addr, "[::1]:8080"},
		{"INSIEME_ADDR", "  0.0.0.0:8080 ", addr, "0.0.0.0:8080"},
		{"INSIEME_METRICS_ADDR", "0.0.0.0:9090", metrics, "0.0.0.0:9090"},
		{"INSIEME_METRICS_ADDR", "off", metrics, ""},
		{"INSIEME_DATA_DIR", "/var/lib/insieme", dataDir, "/var/lib/insieme"},
		{"INSIEME_BASE_URL", "https://forum.example.org", baseURL, "https://forum.example.org"},
		{"INSIEME_BASE_URL", "https://forum.example.org/", baseURL, "https://forum.example.org"},
		{"INSIEME_BASE_URL", "http://127.0.0.1:8080", baseURL, "http://127.0.0.1:8080"},
		{"INSIEME_SECURE_COOKIES", "true", secure, true},
		{"INSIEME_SECURE_COOKIES", "1", secure, true},
		{"INSIEME_SECURE_COOKIES", "YES", secure, true},
		{"INSIEME_SECURE_COOKIES", "on", secure, true},
		{"INSIEME_SECURE_COOKIES", "False", secure, false},
		{"INSIEME_SECURE_COOKIES", "0", secure, false},
		{"INSIEME_SECURE_COOKIES", "no", secure, false},
		{"INSIEME_DEV_CLOCK", "true", func(c Config) any { return c.DevClock }, true},
		{"INSIEME_TRUSTED_PROXIES", "10.0.0.1", proxies, []string{"10.0.0.1"}},
		{"INSIEME_TRUSTED_PROXIES", " 172.30.0.0/24 , ::1,,fd00::/8", proxies, []string{"172.30.0.0/24", "::1", "fd00::/8"}},
		{"MONGODB_URI", "mongodb://mongo1:27017/?replicaSet=rs0", mongoURI, "mongodb://mongo1:27017/?replicaSet=rs0"},
		{"MONGODB_URI", "mongodb://mongo1:27017/?replicaSet=rs0", embedded, false},
		{"MONGODB_URI", "mongodb+srv://cluster0.example.org", mongoURI, "mongodb+srv://cluster0.example.org"},
		{"MONGODB_DATABASE", "insieme_test-1", database, "insieme_test-1"},
		{"REDIS_URL", "redis://127.0.0.1:6379/0", redisURL, "redis://127.0.0.1:6379/0"},
		{"REDIS_URL", "rediss://user:secret@redis:6380/1", redisURL, "rediss://user:secret@redis:6380/1"},
		{"INSIEME_LOG_FORMAT", "text", logFormat, "text"},
		{"INSIEME_LOG_FORMAT", "json", logFormat, "json"},
		{"INSIEME_LOG_LEVEL", "debug", logLevel, "debug"},
		{"INSIEME_LOG_LEVEL", "warn", logLevel, "warn"},
		{"INSIEME_LOG_LEVEL", " error ", logLevel, "error"},
		{"INSIEME_SMTP_URL", "smtp://user:secret@mail.example.org:587", smtpURL, "smtp://user:secret@mail.example.org:587"},
		{"INSIEME_SMTP_URL", "smtps://mail.example.org:465", smtpURL, "smtps://mail.example.org:465"},
		{"INSIEME_MAIL_FROM", "forum@example.org", mailFrom, "forum@example.org"},
		{"INSIEME_MAIL_FROM", "Forum Puglia <forum@example.org>", mailFrom, "Forum Puglia <forum@example.org>"},
		{"INSIEME_SESSION_TTL", "1h30m", sessionTTL, 90 * time.Minute},
		{"INSIEME_SESSION_TTL", "168h", sessionTTL, 7 * 24 * time.Hour},
		{"INSIEME_LOGIN_PER_MINUTE", "5", loginRate, 5},
		{"INSIEME_SHUTDOWN_GRACE", "1m", grace, time.Minute},
		{"INSIEME_SHUTDOWN_GRACE", "500ms", grace, 500 * time.Millisecond},
	}
	covered := map[string]bool{}
	for _, tt := range tests {
		covered[tt.name] = true
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			c, err := Load(envOf(map[string]string{tt.name: tt.value}))
			if err != nil {
				t.Fatalf("Load refused %s=%q: %v", tt.name, tt.value, err)
			}
			if got := tt.get(c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s=%q gives %#v; want %#v", tt.name, tt.value, got, tt.want)
			}
		})
	}
	for _, name := range Names() {
		if !covered[name] {
			t.Errorf("%s has no good value in TestLoadGoodValues: add one", name)
		}
	}
}

// repoRoot walks up from the working directory to the folder that holds go.mod.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod found above the test's working directory")
		}
		dir = parent
	}
}

func readRepoFile(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("reading %s: %v", rel, err)
	}
	return string(b)
}

// TestExampleEnvFile keeps config/insieme.example.env in step with the code: every variable, in
// the order of Names(), as NAME=default, each right after a one-line "# explanation".
func TestExampleEnvFile(t *testing.T) {
	const file = "config/insieme.example.env"
	lines := strings.Split(readRepoFile(t, file), "\n")
	assign := regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)

	var order []string
	values := map[string]string{}
	for i, line := range lines {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := assign.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("%s:%d: %q is neither a comment nor NAME=value", file, i+1, line)
			continue
		}
		name, value := m[1], m[2]
		if _, dup := values[name]; dup {
			t.Errorf("%s:%d: %s is set twice", file, i+1, name)
		}
		values[name] = value
		order = append(order, name)
		if i == 0 || !regexp.MustCompile(`^#\s*\S`).MatchString(lines[i-1]) {
			t.Errorf("%s:%d: %s is not right after a one-line '# explanation'", file, i+1, name)
		}
		def, known := Default(name)
		switch {
		case !known:
			t.Errorf("%s:%d: %s is not a variable the config knows (config.Names())", file, i+1, name)
		case value != def:
			t.Errorf("%s:%d: %s=%s, but its default is %q", file, i+1, name, value, def)
		}
	}
	for _, name := range Names() {
		if _, ok := values[name]; !ok {
			t.Errorf("%s lacks %s (add it: # explanation, then %s=%s)", file, name, name, mustDefault(name))
		}
	}
	if !slices.Equal(order, Names()) && !t.Failed() {
		t.Errorf("%s lists the variables in the order\n %v\nwant the order of config.Names()\n %v", file, order, Names())
	}
}

func mustDefault(name string) string {
	d, _ := Default(name)
	return d
}

// TestComposeEnvironment checks that the app services of docker-compose.yml set only variables
// the config knows: a typo there would silently leave a node on a default.
func TestComposeEnvironment(t *testing.T) {
	doc, err := parseCompose(readRepoFile(t, "docker-compose.yml"))
	if err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	known := map[string]bool{}
	for _, n := range Names() {
		known[n] = true
	}
	apps := doc.appServices()
	for _, want := range []string{"app1", "app2"} {
		if !slices.Contains(apps, want) {
			t.Errorf("docker-compose.yml has no app service %q (found app services %v)", want, apps)
		}
	}
	for _, svc := range apps {
		env := doc.serviceEnv(svc)
		if len(env) == 0 {
			t.Errorf("service %s sets no environment variable: the compose parser may be out of step with the file", svc)
		}
		for _, name := range env {
			if !known[name] {
				t.Errorf("service %s sets %s, which the config does not know (config.Names())", svc, name)
			}
		}
	}
}

// composeDoc is what a minimal, line-based reading of a compose file gives: enough for block-style
// YAML with `environment:` as a map or a list, anchors (&name) and aliases (*name, <<: *name).
type composeDoc struct {
	services []string
	env      []composeEnv        // every environment entry, with the path of its environment key
	anchors  map[string]string   // anchor -> path of the key that defines it
	aliases  map[string][]string // path prefix ("services/app1") -> aliases used under it
	text     map[string][]string // top-level-and-second-level path -> its raw lines
}

type composeEnv struct {
	path string // e.g. "services/app1/environment" or "x-insieme/environment"
	name string
}

var (
	yamlKey   = regexp.MustCompile(`^(?:"([^"]+)"|'([^']+)'|([^\s:"'#][^:#]*?))\s*:(?:\s+(.*))?$`)
	yamlAlias = regexp.MustCompile(`\*([A-Za-z0-9_-]+)`)
	yamlAnchr = regexp.MustCompile(`^&([A-Za-z0-9_-]+)`)
)

func parseCompose(src string) (*composeDoc, error) {
	doc := &composeDoc{anchors: map[string]string{}, aliases: map[string][]string{}, text: map[string][]string{}}
	type frame struct {
		indent int
		key    string
	}
	var stack []frame
	blockIndent := -1 // the indent of a key whose value is a block scalar (| or >) being skipped
	pathOf := func() string {
		keys := make([]string, len(stack))
		for i, f := range stack {
			keys[i] = f.key
		}
		return strings.Join(keys, "/")
	}
	sc := bufio.NewScanner(strings.NewReader(src))
	for n := 1; sc.Scan(); n++ {
		raw := strings.TrimRight(sc.Text(), " \r")
		trimmed := strings.TrimLeft(raw, " ")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if strings.HasPrefix(trimmed, "\t") {
			return nil, fmt.Errorf("line %d: a tab in the indentation", n)
		}
		indent := len(raw) - len(trimmed)
		if blockIndent >= 0 {
			if indent > blockIndent {
				continue // inside a block scalar: text, not YAML structure
			}
			blockIndent = -1
		}
		for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		parent := pathOf()
		if len(stack) >= 1 {
			top := stack[0].key
			if len(stack) >= 2 {
				top += "/" + stack[1].key
			}
			doc.text[top] = append(doc.text[top], trimmed)
		}
		for _, m := range yamlAlias.FindAllStringSubmatch(trimmed, -1) {
			doc.aliases[parent] = append(doc.aliases[parent], m[1])
		}
		inEnv := len(stack) > 0 && stack[len(stack)-1].key == "environment"

		if item, ok := strings.CutPrefix(trimmed, "-"); ok && (item == "" || item[0] == ' ') {
			if inEnv {
				name, _, _ := strings.Cut(unquote(strings.TrimSpace(item)), "=")
				if name == "" {
					return nil, fmt.Errorf("line %d: an empty environment entry", n)
				}
				doc.env = append(doc.env, composeEnv{parent, name})
			}
			if v := strings.TrimSpace(item); strings.HasPrefix(v, "|") || strings.HasPrefix(v, ">") {
				blockIndent = indent
			}
			continue // list items open no key of their own here
		}
		m := yamlKey.FindStringSubmatch(trimmed)
		if m == nil {
			if inEnv {
				return nil, fmt.Errorf("line %d: cannot read environment entry %q", n, trimmed)
			}
			continue // a continuation of a multi-line value
		}
		key := m[1] + m[2] + m[3]
		value := strings.TrimSpace(m[4])
		if key == "environment" && (strings.HasPrefix(value, "{") || strings.HasPrefix(value, "[")) {
			return nil, fmt.Errorf("line %d: flow-style environment is not read by this test; use a block map or list", n)
		}
		if inEnv && key != "<<" {
			doc.env = append(doc.env, composeEnv{parent, key})
		}
		if parent == "services" {
			doc.services = append(doc.services, key)
		}
		stack = append(stack, frame{indent, key})
		if a := yamlAnchr.FindStringSubmatch(value); a != nil {
			doc.anchors[a[1]] = pathOf()
			value = strings.TrimSpace(strings.TrimPrefix(value, a[0]))
		}
		if strings.HasPrefix(value, "|") || strings.HasPrefix(value, ">") {
			if inEnv {
				return nil, fmt.Errorf("line %d: a block scalar in environment is not read by this test", n)
			}
			blockIndent = indent
		}
	}
	return doc, sc.Err()
}

func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}

// under reports whether path is prefix or below it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// prefixes returns the paths reachable from a service: its own and those of the anchors it uses
// (followed transitively).
func (d *composeDoc) prefixes(svc string) []string {
	todo := []string{"services/" + svc}
	var done []string
	for len(todo) > 0 {
		p := todo[0]
		todo = todo[1:]
		if slices.Contains(done, p) {
			continue
		}
		done = append(done, p)
		for at, names := range d.aliases {
			if !under(at, p) {
				continue
			}
			for _, a := range names {
				if target, ok := d.anchors[a]; ok {
					todo = append(todo, target)
				}
			}
		}
	}
	return done
}

// serviceEnv returns the names of the variables a service sets, merged anchors included.
func (d *composeDoc) serviceEnv(svc string) []string {
	var names []string
	for _, p := range d.prefixes(svc) {
		for _, e := range d.env {
			if under(e.path, p) && !slices.Contains(names, e.name) {
				names = append(names, e.name)
			}
		}
	}
	return names
}

// appServices returns the services that run Insieme: named app*, or built from deploy/Dockerfile,
// or running an image whose name contains "insieme".
func (d *composeDoc) appServices() []string {
	var apps []string
	for _, svc := range d.services {
		isApp := strings.HasPrefix(svc, "app")
		for _, p := range d.prefixes(svc) {
			for _, line := range d.linesUnder(p) {
				if strings.Contains(line, "deploy/Dockerfile") ||
					(strings.HasPrefix(line, "image:") && strings.Contains(line, "insieme")) {
					isApp = true
				}
			}
		}
		if isApp {
			apps = append(apps, svc)
		}
	}
	return apps
}

func (d *composeDoc) linesUnder(p string) []string {
	var lines []string
	for top, ls := range d.text {
		if under(top, p) || under(p, top) {
			lines = append(lines, ls...)
		}
	}
	return lines
}

func TestParseCompose(t *testing.T) {
	const src = `
x-insieme: &insieme
  build:
    context: .
    dockerfile: deploy/Dockerfile
  environment: &env
    MONGODB_URI: "mongodb://mongo1:27017/?replicaSet=rs0"   # a comment
    'REDIS_URL': redis://redis:6379/0
services:
  mongo1:
    image: mongo:7
    environment:
      - NOT_OURS=1
  app1:
    <<: *insieme
    environment:
      <<: *env
      INSIEME_BASE_URL: http://localhost:8080
  app2:
    <<: *insieme
  worker:
    image: example/insieme:1
    environment:
      - "INSIEME_LOG_LEVEL=debug"
      - INSIEME_LOG_FORMAT
  redis:
    image: redis:7
    command: >
      redis-server --save ""
      environment: not-a-key
  init:
    image: mongo:7
    entrypoint:
      - bash
      - -c
      - |
        mongosh --eval 'rs.initiate({_id: "rs0"})'
        environment: still-not-a-key
`
	doc, err := parseCompose(src)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := doc.appServices(), []string{"app1", "app2", "worker"}; !slices.Equal(got, want) {
		t.Errorf("appServices() = %v; want %v", got, want)
	}
	tests := map[string][]string{
		"app1":   {"INSIEME_BASE_URL", "MONGODB_URI", "REDIS_URL"},
		"app2":   {"MONGODB_URI", "REDIS_URL"},
		"worker": {"INSIEME_LOG_FORMAT", "INSIEME_LOG_LEVEL"},
		"mongo1": {"NOT_OURS"},
		"redis":  nil,
		"init":   nil,
	}
	for svc, want := range tests {
		got := doc.serviceEnv(svc)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("serviceEnv(%s) = %v; want %v", svc, got, want)
		}
	}
	if _, err := parseCompose("services:\n  app1:\n    environment: {A: b}\n"); err == nil {
		t.Error("flow-style environment was accepted; want an error")
	}
}

// TestStaticBuildMatchesDockerfile: the image must be built exactly as `make static` builds.
func TestStaticBuildMatchesDockerfile(t *testing.T) {
	makeCmd, err := makefileStaticBuild(readRepoFile(t, "Makefile"))
	if err != nil {
		t.Fatalf("Makefile: %v", err)
	}
	dockerCmd, err := dockerfileGoBuild(readRepoFile(t, "deploy/Dockerfile"))
	if err != nil {
		t.Fatalf("deploy/Dockerfile: %v", err)
	}
	if makeCmd != dockerCmd {
		t.Errorf("the Go build commands differ:\n Makefile (static): %s\n deploy/Dockerfile: %s", makeCmd, dockerCmd)
	}
	if !strings.Contains(makeCmd, "CGO_ENABLED=0") {
		t.Errorf("the static build %q does not set CGO_ENABLED=0", makeCmd)
	}
	// The Dockerfile must copy what that command produced into the final image.
	fields := strings.Fields(dockerCmd)
	if i := slices.Index(fields, "-o"); i < 0 || i+1 == len(fields) {
		t.Errorf("the static build %q names no -o output", dockerCmd)
	} else if out := fields[i+1]; !regexp.MustCompile(`(?m)^COPY\s+--from=\S+.*\s\S*` + regexp.QuoteMeta(out) + `\s`).MatchString(readRepoFile(t, "deploy/Dockerfile")) {
		t.Errorf("deploy/Dockerfile has no `COPY --from=... %s ...` of the built binary", out)
	}
}

// goBuildIn returns the `go build` command on a shell line, from the environment assignments
// before it to the end of the command (a && ; or | ends it), with spaces normalised.
func goBuildIn(line string) (string, bool) {
	fields := strings.Fields(line)
	for i := 0; i+1 < len(fields); i++ {
		if fields[i] != "go" || fields[i+1] != "build" {
			continue
		}
		start := i
		for start > 0 && regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*=`).MatchString(fields[start-1]) {
			start--
		}
		end := i
		for end < len(fields) && !slices.Contains([]string{"&&", "||", ";", "|"}, fields[end]) {
			end++
		}
		return strings.Join(fields[start:end], " "), true
	}
	return "", false
}

// joinContinued joins lines ending in a backslash with the next one.
func joinContinued(src string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n") {
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(s)
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(line)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

func makefileStaticBuild(src string) (string, error) {
	var found []string
	inStatic := false
	for _, line := range joinContinued(src) {
		switch {
		case regexp.MustCompile(`^static\s*:([^=]|$)`).MatchString(line):
			inStatic = true
		case strings.HasPrefix(line, "\t"):
			if inStatic {
				recipe := strings.TrimLeft(strings.TrimSpace(line), "@-+")
				if cmd, ok := goBuildIn(recipe); ok {
					found = append(found, cmd)
				}
			}
		case strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#"):
		default:
			inStatic = false
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("want exactly one `go build` in the recipe of target static, found %d: %q", len(found), found)
	}
	return found[0], nil
}

func dockerfileGoBuild(src string) (string, error) {
	var found []string
	for _, line := range joinContinued(src) {
		fields := strings.Fields(line)
		if len(fields) == 0 || !strings.EqualFold(fields[0], "RUN") {
			continue
		}
		if cmd, ok := goBuildIn(line); ok {
			found = append(found, cmd)
		}
	}
	if len(found) != 1 {
		return "", errors.New("want exactly one RUN with `go build` (shell form), found " + fmt.Sprint(len(found)))
	}
	return found[0], nil
}

func TestBaseURLNormalisedAndSecretsHidden(t *testing.T) {
	c, err := Load(func(k string) string {
		if k == "INSIEME_BASE_URL" {
			return "https://Forum.Example.org:443/"
		}
		return ""
	})
	if err != nil || c.BaseURL != "https://forum.example.org" {
		t.Fatalf("base URL %q, %v", c.BaseURL, err)
	}
	_, err = Load(func(k string) string {
		if k == "REDIS_URL" {
			return "http://user:hunter2@redis"
		}
		return ""
	})
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "REDIS_URL") {
		t.Fatalf("secret in message: %v", err)
	}
}
