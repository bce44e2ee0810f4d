package avro

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// RegistryConfig is how a riacho process reaches its schema registry. It is
// read from RIACHO_SCHEMA_REGISTRY_* variables (see LoadRegistryConfig).
// The password never appears in String, GoString, LogValue or errors.
type RegistryConfig struct {
	// URL is the registry's base URL, http or https, optionally with a path
	// prefix (RIACHO_SCHEMA_REGISTRY_URL).
	URL string `env:"RIACHO_SCHEMA_REGISTRY_URL, default=http://127.0.0.1:8081"`
	// Username turns on HTTP basic auth (RIACHO_SCHEMA_REGISTRY_USERNAME).
	Username string `env:"RIACHO_SCHEMA_REGISTRY_USERNAME"`
	// Password is the basic-auth password (RIACHO_SCHEMA_REGISTRY_PASSWORD).
	Password string `env:"RIACHO_SCHEMA_REGISTRY_PASSWORD" json:"-"`
	// PasswordFile holds the password instead (RIACHO_SCHEMA_REGISTRY_PASSWORD_FILE).
	PasswordFile string `env:"RIACHO_SCHEMA_REGISTRY_PASSWORD_FILE"`
	// Timeout bounds each HTTP request, retries included (RIACHO_SCHEMA_REGISTRY_TIMEOUT).
	Timeout time.Duration `env:"RIACHO_SCHEMA_REGISTRY_TIMEOUT, default=10s"`
}

// DefaultRegistryConfig returns the configuration used when no variable is
// set: a registry at http://127.0.0.1:8081 without auth.
func DefaultRegistryConfig() RegistryConfig {
	return RegistryConfig{URL: "http://127.0.0.1:8081", Timeout: 10 * time.Second}
}

// LoadRegistryConfig reads a RegistryConfig through l (the process
// environment when l is nil) and validates it.
func LoadRegistryConfig(ctx context.Context, l envconfig.Lookuper) (RegistryConfig, error) {
	if l == nil {
		l = envconfig.OsLookuper()
	}
	var c RegistryConfig
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &c, Lookuper: l}); err != nil {
		return RegistryConfig{}, fmt.Errorf("schema registry config: %s%w", envVarOf(err), err)
	}
	if err := c.Validate(); err != nil {
		return RegistryConfig{}, err
	}
	return c, nil
}

// envVarOf returns "RIACHO_X: " for a go-envconfig error naming a field.
func envVarOf(err error) string {
	msg := err.Error()
	t := reflect.TypeFor[RegistryConfig]()
	for i := range t.NumField() {
		f := t.Field(i)
		if strings.HasPrefix(msg, f.Name+":") {
			name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
			return strings.TrimSpace(name) + ": "
		}
	}
	return ""
}

// Validate reports every problem in c, each naming its variable.
func (c RegistryConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if u, err := url.Parse(c.URL); err != nil {
		bad("RIACHO_SCHEMA_REGISTRY_URL: %w", err)
	} else if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("RIACHO_SCHEMA_REGISTRY_URL: %q is not an http(s)://host URL", c.URL)
	} else if u.User != nil {
		bad("RIACHO_SCHEMA_REGISTRY_URL: put credentials in RIACHO_SCHEMA_REGISTRY_USERNAME/_PASSWORD, not in the URL")
	}
	if c.Timeout <= 0 {
		bad("RIACHO_SCHEMA_REGISTRY_TIMEOUT: must be positive, got %s", c.Timeout)
	}
	switch {
	case c.Username == "" && (c.Password != "" || c.PasswordFile != ""):
		bad("RIACHO_SCHEMA_REGISTRY_USERNAME: required when a password is set")
	case c.Password != "" && c.PasswordFile != "":
		bad("RIACHO_SCHEMA_REGISTRY_PASSWORD and RIACHO_SCHEMA_REGISTRY_PASSWORD_FILE: set only one")
	}
	return errors.Join(errs...)
}

// String describes c with the password redacted.
func (c RegistryConfig) String() string {
	s := fmt.Sprintf("schema-registry{url=%s timeout=%s", c.URL, c.Timeout)
	if c.Username != "" {
		s += fmt.Sprintf(" user=%q", c.Username)
		switch {
		case c.PasswordFile != "":
			s += fmt.Sprintf(" password_file=%q", c.PasswordFile)
		case c.Password != "":
			s += " password=[redacted]"
		}
	}
	return s + "}"
}

// GoString is String, so that %#v does not print the password either.
func (c RegistryConfig) GoString() string { return c.String() }

// LogValue lets slog print c without its password.
func (c RegistryConfig) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("url", c.URL), slog.Duration("timeout", c.Timeout)}
	if c.Username != "" {
		attrs = append(attrs, slog.String("user", c.Username))
	}
	return slog.GroupValue(attrs...)
}
