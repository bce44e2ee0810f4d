package control

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/riacho/riacho/libs/telemetry"
)

// DefaultAddr is the control address used when neither the service nor
// RIACHO_CONTROL_ADDR chooses one.
const DefaultAddr = "127.0.0.1:9100"

// Config is the control server configuration read from the environment.
type Config struct {
	// Addr is the host:port the gRPC server listens on. A value set before
	// LoadConfig runs is kept unless RIACHO_CONTROL_ADDR is set, which is how
	// each service supplies its own default.
	Addr string `env:"RIACHO_CONTROL_ADDR, overwrite, default=127.0.0.1:9100"`
	// Tokens is a comma-separated list of name:token pairs or plain tokens.
	Tokens telemetry.Secret `env:"RIACHO_CONTROL_TOKENS"`
	// TokensFile names a file with one name:token (or plain token) per line;
	// blank lines and lines starting with # are ignored.
	TokensFile string `env:"RIACHO_CONTROL_TOKENS_FILE"`
	// Insecure allows running without any token, accepting every caller.
	Insecure bool `env:"RIACHO_CONTROL_INSECURE, default=false"`
	// ShutdownTimeout bounds the graceful stop in Run before calls are cut off.
	ShutdownTimeout time.Duration `env:"RIACHO_CONTROL_SHUTDOWN_TIMEOUT, default=5s"`
}

// LoadConfig reads a Config from l (the process environment when l is nil);
// defaultAddr, when not empty, replaces DefaultAddr as the address used when
// RIACHO_CONTROL_ADDR is unset.
func LoadConfig(ctx context.Context, l envconfig.Lookuper, defaultAddr string) (Config, error) {
	cfg := Config{Addr: defaultAddr}
	if l == nil {
		l = envconfig.OsLookuper()
	}
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: l}); err != nil {
		return Config{}, fmt.Errorf("read control config: %w", err)
	}
	return cfg, nil
}

// Validate reports every problem in c, each naming its environment variable.
func (c Config) Validate() error {
	var errs []error
	// An empty host (":9100") listens on every interface, which is allowed.
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("RIACHO_CONTROL_ADDR: %q is not host:port: %w", c.Addr, err))
	} else if port == "" {
		errs = append(errs, fmt.Errorf("RIACHO_CONTROL_ADDR: %q has no port", c.Addr))
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, fmt.Errorf("RIACHO_CONTROL_SHUTDOWN_TIMEOUT: must be positive, got %s", c.ShutdownTimeout))
	}
	creds, err := c.credentials()
	if err != nil {
		errs = append(errs, err)
	} else if len(creds) == 0 && !c.Insecure {
		errs = append(errs, errors.New("RIACHO_CONTROL_TOKENS / RIACHO_CONTROL_TOKENS_FILE: no control token configured; "+
			"set one of them, or RIACHO_CONTROL_INSECURE=true to accept unauthenticated calls"))
	}
	return errors.Join(errs...)
}

// credential is one accepted token, kept only as a SHA-256 digest so that
// comparisons take the same time whatever the presented token's length.
type credential struct {
	name   string
	digest [sha256.Size]byte
}

// credentials parses the tokens from RIACHO_CONTROL_TOKENS and the tokens file.
// Errors never contain token text.
func (c Config) credentials() ([]credential, error) {
	var (
		creds []credential
		errs  []error
		names = map[string]bool{}
		plain = 0
	)
	add := func(src, where, entry string) {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			return
		}
		name, token, hasName := strings.Cut(entry, ":")
		if !hasName {
			plain++
			name, token = fmt.Sprintf("unnamed-%d", plain), entry
		}
		name, token = strings.TrimSpace(name), strings.TrimSpace(token)
		switch {
		case name == "":
			errs = append(errs, fmt.Errorf("%s: %s has an empty name", src, where))
			return
		case token == "":
			errs = append(errs, fmt.Errorf("%s: %s (%q) has an empty token", src, where, name))
			return
		case names[name]:
			errs = append(errs, fmt.Errorf("%s: %s: duplicate token name %q", src, where, name))
			return
		}
		names[name] = true
		creds = append(creds, credential{name: name, digest: sha256.Sum256([]byte(token))})
	}
	if s := strings.TrimSpace(string(c.Tokens)); s != "" {
		for i, entry := range strings.Split(s, ",") {
			add("RIACHO_CONTROL_TOKENS", fmt.Sprintf("entry %d", i+1), entry)
		}
	}
	if c.TokensFile != "" {
		data, err := os.ReadFile(c.TokensFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("RIACHO_CONTROL_TOKENS_FILE: %w", err))
		} else {
			sc := bufio.NewScanner(bytes.NewReader(data))
			for n := 1; sc.Scan(); n++ {
				line := strings.TrimSpace(sc.Text())
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				add("RIACHO_CONTROL_TOKENS_FILE", fmt.Sprintf("%s:%d", c.TokensFile, n), line)
			}
			if err := sc.Err(); err != nil {
				errs = append(errs, fmt.Errorf("RIACHO_CONTROL_TOKENS_FILE: read %s: %w", c.TokensFile, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return creds, nil
}
