// Package envconf reads a service's configuration struct from environment
// entries ("KEY=value", as os.Environ returns them) with
// github.com/sethvargo/go-envconfig `env` tags, so every service loads its
// RIACHO_* variables the same way and tests can pass their own entries.
package envconf

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/sethvargo/go-envconfig"
)

// Map turns environment entries into a map; an entry without '=' is skipped
// and a later entry for the same key wins.
func Map(environ []string) map[string]string {
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// Load fills target, a pointer to a struct with `env` tags, from environ.
// Fields set before the call keep their value unless a variable (or an
// `overwrite` default) replaces them. The error names the variable when
// the failing field is a top-level one.
func Load(ctx context.Context, environ []string, target any) error {
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{
		Target:   target,
		Lookuper: envconfig.MapLookuper(Map(environ)),
	}); err != nil {
		return fmt.Errorf("read configuration: %s%w", variableOf(target, err), err)
	}
	return nil
}

// variableOf is "NAME: " when err starts with a top-level field of target's
// struct ("Field: ..." as envconfig writes it) that has an env tag.
func variableOf(target any, err error) string {
	t := reflect.TypeOf(target)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return ""
	}
	msg := err.Error()
	for i := range t.NumField() {
		f := t.Field(i)
		if !strings.HasPrefix(msg, f.Name+":") {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
		if name = strings.TrimSpace(name); name != "" {
			return name + ": "
		}
	}
	return ""
}
