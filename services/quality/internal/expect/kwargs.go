package expect

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// kwargs reads an expectation's kwargs, remembering which were used so
// that unknown ones are reported, and the first problem found.
type kwargs struct {
	c    Config
	used map[string]bool
	err  *ConfigError
}

// newKwargs starts reading c's kwargs; the GE arguments that only shape
// output are accepted and ignored.
func newKwargs(c Config) *kwargs {
	k := &kwargs{c: c, used: map[string]bool{}}
	for _, name := range []string{"result_format", "catch_exceptions", "include_config", "meta", "notes",
		"batch_id", "rendered_content", "id", "description"} {
		k.used[name] = true
	}
	return k
}

// fail records a problem with kwarg name (the first one wins).
func (k *kwargs) fail(name, format string, args ...any) {
	if k.err != nil {
		return
	}
	msg := fmt.Sprintf(format, args...)
	if name != "" {
		msg = "kwarg " + name + ": " + msg
	}
	k.err = &ConfigError{Source: k.c.Source, Type: k.c.Type, Kwarg: name, Err: fmt.Errorf("%s: %w", msg, ErrKwarg)}
}

// raw returns kwarg name, marking it used; a suite parameter reference
// ({"$PARAMETER": ...}) is reported as unsupported.
func (k *kwargs) raw(name string) (any, bool) {
	k.used[name] = true
	v, ok := k.c.Kwargs[name]
	if m, isMap := v.(map[string]any); isMap {
		if _, p := m["$PARAMETER"]; p {
			k.fail(name, "suite parameters ($PARAMETER) are not supported")
			return nil, false
		}
	}
	return v, ok && v != nil
}

// str reads a string kwarg.
func (k *kwargs) str(name string, required bool) string {
	v, ok := k.raw(name)
	if !ok {
		if required {
			k.fail(name, "required")
		}
		return ""
	}
	s, isStr := v.(string)
	if !isStr {
		k.fail(name, "want a string, got %s", typeName(v))
	}
	if required && s == "" {
		k.fail(name, "must not be empty")
	}
	return s
}

// boolean reads a bool kwarg.
func (k *kwargs) boolean(name string, def bool) bool {
	v, ok := k.raw(name)
	if !ok {
		return def
	}
	b, isBool := v.(bool)
	if !isBool {
		k.fail(name, "want true or false, got %s", typeName(v))
		return def
	}
	return b
}

// integer reads a whole-number kwarg.
func (k *kwargs) integer(name string, required bool) (int64, bool) {
	v, ok := k.raw(name)
	if !ok {
		if required {
			k.fail(name, "required")
		}
		return 0, false
	}
	n, isNum := toNum(v)
	if !isNum || (n.kind == numFloat && n.f != math.Trunc(n.f)) || n.kind == numRat && !n.r.IsInt() {
		k.fail(name, "want an integer, got %s", typeName(v))
		return 0, false
	}
	if n.kind == numFloat {
		return int64(n.f), true
	}
	if n.kind == numRat {
		return n.r.Num().Int64(), true
	}
	return n.i, true
}

// mostly reads the mostly kwarg: a number in [0, 1], default 1.
func (k *kwargs) mostly() float64 {
	v, ok := k.raw("mostly")
	if !ok {
		return 1
	}
	n, isNum := toNum(v)
	if !isNum || math.IsNaN(n.float()) || n.float() < 0 || n.float() > 1 {
		k.fail("mostly", "want a number between 0 and 1, got %v", v)
		return 1
	}
	return n.float()
}

// list reads a list kwarg.
func (k *kwargs) list(name string, required bool) []any {
	v, ok := k.raw(name)
	if !ok {
		if required {
			k.fail(name, "required")
		}
		return nil
	}
	l, isList := v.([]any)
	if !isList {
		if sl, isStrs := v.([]string); isStrs {
			l = make([]any, len(sl))
			for i, s := range sl {
				l[i] = s
			}
			return l
		}
		k.fail(name, "want a list, got %s", typeName(v))
	}
	return l
}

// strList reads a list-of-strings kwarg.
func (k *kwargs) strList(name string, required bool) []string {
	l := k.list(name, required)
	out := make([]string, 0, len(l))
	for i, v := range l {
		s, ok := v.(string)
		if !ok {
			k.fail(name, "element %d: want a string, got %s", i, typeName(v))
			return nil
		}
		out = append(out, s)
	}
	if required && len(out) == 0 && k.err == nil {
		k.fail(name, "must not be empty")
	}
	return out
}

// scalar reads a bound or literal kwarg; nil when absent or null.
func (k *kwargs) scalar(name string) *scalar {
	v, ok := k.raw(name)
	if !ok {
		return nil
	}
	s, valid := newScalar(v)
	if !valid {
		k.fail(name, "want a number, string or date, got %s", typeName(v))
		return nil
	}
	return &s
}

// finish reports a kwarg nobody read (a typo is the likely cause of any
// other problem, such as a required kwarg missing), else the first problem.
func (k *kwargs) finish() error {
	var unknown []string
	for name := range k.c.Kwargs {
		if !k.used[name] {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		var known []string
		for name := range k.used {
			known = append(known, name)
		}
		sort.Strings(known)
		k.err = nil
		k.fail(unknown[0], "unknown kwarg for %s (known: %s)", k.c.Type, strings.Join(known, ", "))
	}
	if k.err != nil {
		return k.err
	}
	return nil
}

// typeName names v's type in suite-author terms.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	}
	if _, ok := toNum(v); ok {
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}
