// Package config reads Insieme's settings from environment variables and validates them.
// Every variable is listed in vars below and documented in config/insieme.example.env; a test
// keeps the two (and docker-compose.yml) in agreement.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of a node.
type Config struct {
	Addr           string        // INSIEME_ADDR: where the app listens
	MetricsAddr    string        // INSIEME_METRICS_ADDR: where /metrics listens ("off" disables)
	DataDir        string        // INSIEME_DATA_DIR: the embedded store's folder
	BaseURL        string        // INSIEME_BASE_URL: the public address, for links in mails and the Origin check
	SecureCookies  bool          // INSIEME_SECURE_COOKIES
	TrustedProxies []string      // INSIEME_TRUSTED_PROXIES: comma-separated IPs or CIDRs
	MongoURI       string        // MONGODB_URI: "" means the embedded store
	MongoDatabase  string        // MONGODB_DATABASE
	RedisURL       string        // REDIS_URL: "" means the in-process broker
	LogFormat      string        // INSIEME_LOG_FORMAT: json or text
	LogLevel       string        // INSIEME_LOG_LEVEL: debug, info, warn, error
	SMTPURL        string        // INSIEME_SMTP_URL: smtp://user:pass@host:port; "" means the development outbox
	MailFrom       string        // INSIEME_MAIL_FROM
	SessionTTL     time.Duration // INSIEME_SESSION_TTL: how long a sign-in lasts
	LoginPerMinute int           // INSIEME_LOGIN_PER_MINUTE: sign-in attempts per client address per minute (a hall shares one)
	ShutdownGrace  time.Duration // INSIEME_SHUTDOWN_GRACE: how long a shutdown waits for requests in flight
	DevClock       bool          // INSIEME_DEV_CLOCK: admins may move the clock forward (tests and demos only)
}

// A variable: its name, default and how it sets the config.
type variable struct {
	name string
	def  string
	set  func(c *Config, v string) error
}

var vars = []variable{
	{"INSIEME_ADDR", ":8080", func(c *Config, v string) error { c.Addr = v; return checkAddr(v) }},
	{"INSIEME_METRICS_ADDR", "127.0.0.1:9090", func(c *Config, v string) error {
		if v == "off" {
			v = ""
		}
		c.MetricsAddr = v
		if v == "" {
			return nil
		}
		return checkAddr(v)
	}},
	{"INSIEME_DATA_DIR", "./data", func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		c.DataDir = v
		return nil
	}},
	{"INSIEME_BASE_URL", "http://localhost:8080", func(c *Config, v string) error {
		// Browsers send the Origin as scheme://host[:port] in lower case without a default
		// port; keep the base URL in that form so the Origin check matches it.
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return errors.New("must be an http or https address without a path, such as https://forum.example.org")
		}
		host := strings.ToLower(u.Host)
		if (u.Scheme == "https" && strings.HasSuffix(host, ":443")) || (u.Scheme == "http" && strings.HasSuffix(host, ":80")) {
			host = host[:strings.LastIndex(host, ":")]
		}
		c.BaseURL = u.Scheme + "://" + host
		return nil
	}},
	{"INSIEME_SECURE_COOKIES", "false", func(c *Config, v string) (err error) {
		c.SecureCookies, err = parseBool(v)
		return err
	}},
	{"INSIEME_TRUSTED_PROXIES", "", func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if net.ParseIP(p) == nil {
				if _, _, err := net.ParseCIDR(p); err != nil {
					return fmt.Errorf("%q is neither an IP address nor a CIDR range", p)
				}
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
		return nil
	}},
	{"MONGODB_URI", "", func(c *Config, v string) error {
		if v != "" && !strings.HasPrefix(v, "mongodb://") && !strings.HasPrefix(v, "mongodb+srv://") {
			return errors.New("must start with mongodb:// or mongodb+srv://")
		}
		c.MongoURI = v
		return nil
	}},
	{"MONGODB_DATABASE", "insieme", func(c *Config, v string) error {
		if v == "" || strings.ContainsAny(v, `/\. "$`) {
			return errors.New("must be a database name without / \\ . space \" or $")
		}
		c.MongoDatabase = v
		return nil
	}},
	{"REDIS_URL", "", func(c *Config, v string) error {
		if v != "" && !strings.HasPrefix(v, "redis://") && !strings.HasPrefix(v, "rediss://") {
			return errors.New("must start with redis:// or rediss://")
		}
		c.RedisURL = v
		return nil
	}},
	{"INSIEME_LOG_FORMAT", "json", func(c *Config, v string) error {
		if v != "json" && v != "text" {
			return errors.New("must be json or text")
		}
		c.LogFormat = v
		return nil
	}},
	{"INSIEME_LOG_LEVEL", "info", func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return errors.New("must be debug, info, warn or error")
	}},
	{"INSIEME_SMTP_URL", "", func(c *Config, v string) error {
		if v != "" {
			u, err := url.Parse(v)
			if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
				return errors.New("must look like smtp://user:password@host:587")
			}
		}
		c.SMTPURL = v
		return nil
	}},
	{"INSIEME_MAIL_FROM", "Insieme <no-reply@localhost>", func(c *Config, v string) error {
		if _, err := mail.ParseAddress(v); err != nil {
			return errors.New("must be an email address, optionally with a name: Insieme <no-reply@example.org>")
		}
		c.MailFrom = v
		return nil
	}},
	{"INSIEME_SESSION_TTL", "720h", func(c *Config, v string) (err error) {
		c.SessionTTL, err = parsePositiveDuration(v)
		return err
	}},
	{"INSIEME_LOGIN_PER_MINUTE", "120", func(c *Config, v string) (err error) {
		c.LoginPerMinute, err = parsePositiveInt(v)
		return err
	}},
	{"INSIEME_SHUTDOWN_GRACE", "15s", func(c *Config, v string) (err error) {
		c.ShutdownGrace, err = parsePositiveDuration(v)
		return err
	}},
	{"INSIEME_DEV_CLOCK", "false", func(c *Config, v string) (err error) {
		c.DevClock, err = parseBool(v)
		return err
	}},
}

// secretBearing variables may hold passwords, so their values never appear in messages.
var secretBearing = map[string]bool{"MONGODB_URI": true, "REDIS_URL": true, "INSIEME_SMTP_URL": true}

// Names lists every variable the configuration knows, in documentation order.
func Names() []string {
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.name
	}
	return names
}

// Default returns a variable's default value.
func Default(name string) (string, bool) {
	for _, v := range vars {
		if v.name == name {
			return v.def, true
		}
	}
	return "", false
}

// Load reads every variable through getenv (empty means unset) and returns the config, or an
// error naming every bad variable and what it should be.
func Load(getenv func(string) string) (Config, error) {
	var c Config
	var problems []string
	for _, v := range vars {
		val := strings.TrimSpace(getenv(v.name))
		if val == "" {
			val = v.def
		}
		if err := v.set(&c, val); err != nil {
			shown := fmt.Sprintf("%q", val)
			if secretBearing[v.name] {
				shown = "(value hidden: it may hold a password)"
			}
			problems = append(problems, fmt.Sprintf("%s=%s: %v", v.name, shown, err))
		}
	}
	if len(problems) > 0 {
		return Config{}, fmt.Errorf("invalid configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
}

// Embedded reports whether the node runs the in-process store.
func (c Config) Embedded() bool { return c.MongoURI == "" }

func checkAddr(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return errors.New("must be host:port, such as :8080 or 127.0.0.1:8080")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return errors.New("the port must be a number from 0 to 65535")
	}
	return nil
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off":
		return false, nil
	}
	return false, errors.New("must be true or false")
}

func parsePositiveDuration(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, errors.New("must be a positive duration such as 30s, 15m or 720h")
	}
	return d, nil
}

func parsePositiveInt(v string) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return 0, errors.New("must be a positive whole number")
	}
	return n, nil
}
