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

// Variable is one environment variable a configuration struct reads.
type Variable struct {
	// Name is the variable, e.g. RIACHO_KAFKA_BROKERS.
	Name string
	// Default is the value used when the variable is unset ("" for none).
	Default string
	// HasDefault tells an empty default from none.
	HasDefault bool
	// Required means loading fails when the variable is unset.
	Required bool
	// Field is the Go path of the field, e.g. Kafka.Brokers.
	Field string
	// Type is the field's Go type, e.g. []string or telemetry.Secret.
	Type string
}

// Variables lists every variable target (a struct or pointer to one) reads,
// nested structs included, in field order. Deployment checks use it to
// prove that a manifest sets only variables a service knows.
func Variables(target any) []Variable {
	t := reflect.TypeOf(target)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var out []Variable
	collect(t, "", &out)
	return out
}

// collect appends the variables of struct type t, its fields prefixed with path.
func collect(t reflect.Type, path string, out *[]Variable) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag, ok := f.Tag.Lookup("env")
		if !ok {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collect(ft, path+f.Name+".", out)
			}
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		v := Variable{Name: strings.TrimSpace(name), Field: path + f.Name, Type: f.Type.String()}
		// default= is the last option and keeps any commas of its own.
		if before, def, found := strings.Cut(opts, "default="); found {
			v.Default, v.HasDefault, opts = def, true, before
		}
		for o := range strings.SplitSeq(opts, ",") {
			if strings.TrimSpace(o) == "required" {
				v.Required = true
			}
		}
		if v.Name != "" {
			*out = append(*out, v)
		}
	}
}
