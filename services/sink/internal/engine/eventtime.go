package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// DefaultEventTimeFields are the record fields tried, in order, for a
// record's event time: the intake's event_time, the Debezium source commit
// time source.ts_ms, the envelope's processing time ts_ms, then the common
// timestamp and created_at. The first one present in the writer schema
// with a usable value wins; without one the Kafka record timestamp is used.
var DefaultEventTimeFields = []string{"event_time", "source.ts_ms", "ts_ms", "timestamp", "created_at"}

// timeStep is one field of an event-time path: its name and whether the
// field's type is a union (its goavro value is nil or {"branch": v}).
type timeStep struct {
	name  string
	union bool
}

// timePath is one compiled event-time field path.
type timePath struct {
	path  string
	steps []timeStep
	unit  time.Duration // for plain numbers: from the field name, 0 = guess by magnitude
}

// eventTimer extracts a record's event time by the first of its paths
// that yields one.
type eventTimer struct {
	paths []timePath
}

// newEventTimer compiles the candidate fields against one Avro writer
// schema, keeping those the schema has, in the configured order.
func newEventTimer(avroSchema string, fields []string) (*eventTimer, error) {
	var root any
	if err := json.Unmarshal([]byte(avroSchema), &root); err != nil {
		return nil, fmt.Errorf("parse avro schema: %w", err)
	}
	named := map[string]any{}
	collectNamed(root, "", named)
	et := &eventTimer{}
	for _, f := range fields {
		if steps, ok := resolvePath(root, "", strings.Split(f, "."), named); ok {
			et.paths = append(et.paths, timePath{path: f, steps: steps, unit: unitOf(f)})
		}
	}
	return et, nil
}

// Fields returns the compiled paths, in order.
func (et *eventTimer) Fields() []string {
	out := make([]string, len(et.paths))
	for i, p := range et.paths {
		out[i] = p.path
	}
	return out
}

// Time returns the event time of a decoded record (goavro native form),
// false when none of the paths holds a usable value.
func (et *eventTimer) Time(native any) (time.Time, bool) {
	for _, p := range et.paths {
		if t, ok := p.get(native); ok {
			return t, true
		}
	}
	return time.Time{}, false
}

func (p timePath) get(native any) (time.Time, bool) {
	v := native
	for _, s := range p.steps {
		m, ok := v.(map[string]any)
		if !ok {
			return time.Time{}, false
		}
		v = m[s.name]
		if s.union {
			u, ok := v.(map[string]any)
			if !ok || len(u) != 1 {
				return time.Time{}, false
			}
			for _, inner := range u {
				v = inner
			}
		}
	}
	return toTime(v, p.unit)
}

// unitOf guesses the unit of a plain number from the field's name suffix.
func unitOf(path string) time.Duration {
	name := strings.ToLower(path[strings.LastIndex(path, ".")+1:])
	switch {
	case strings.HasSuffix(name, "_ms") || strings.HasSuffix(name, "millis"):
		return time.Millisecond
	case strings.HasSuffix(name, "_us") || strings.HasSuffix(name, "micros"):
		return time.Microsecond
	case strings.HasSuffix(name, "_ns") || strings.HasSuffix(name, "nanos"):
		return time.Nanosecond
	case strings.HasSuffix(name, "_s") || strings.HasSuffix(name, "_sec") || strings.HasSuffix(name, "seconds"):
		return time.Second
	}
	return 0
}

// Bounds of plausible event times: anything outside is treated as absent.
var (
	minEventTime = time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC)
	maxEventTime = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
)

func toTime(v any, unit time.Duration) (time.Time, bool) {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case int64:
		t = fromNumber(x, unit)
	case int32:
		t = fromNumber(int64(x), unit)
	case float64:
		t = fromNumber(int64(x), unit)
	case string:
		var ok bool
		if t, ok = parseTimeString(x); !ok {
			return time.Time{}, false
		}
	default:
		return time.Time{}, false
	}
	if t.Before(minEventTime) || t.After(maxEventTime) {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// fromNumber reads n in unit, or, without a unit, as seconds, milliseconds,
// microseconds or nanoseconds since the epoch by its magnitude.
func fromNumber(n int64, unit time.Duration) time.Time {
	if unit == 0 {
		switch a := max(n, -n); {
		case a < 1e11:
			unit = time.Second
		case a < 1e14:
			unit = time.Millisecond
		case a < 1e17:
			unit = time.Microsecond
		default:
			unit = time.Nanosecond
		}
	}
	switch unit {
	case time.Second:
		return time.Unix(n, 0)
	case time.Millisecond:
		return time.UnixMilli(n)
	case time.Microsecond:
		return time.UnixMicro(n)
	}
	return time.Unix(0, n)
}

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05", "2006-01-02"}

func parseTimeString(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// collectNamed records every named type (record, enum, fixed) by full name
// and by short name.
func collectNamed(s any, ns string, named map[string]any) {
	switch x := s.(type) {
	case []any:
		for _, b := range x {
			collectNamed(b, ns, named)
		}
	case map[string]any:
		t, _ := x["type"].(string)
		switch t {
		case "record", "error", "enum", "fixed":
			name, _ := x["name"].(string)
			if n, ok := x["namespace"].(string); ok {
				ns = n
			}
			full := name
			if i := strings.LastIndex(name, "."); i >= 0 {
				ns = name[:i]
			} else if ns != "" {
				full = ns + "." + name
			}
			named[full] = x
			if _, dup := named[name]; !dup {
				named[name] = x
			}
			if fs, ok := x["fields"].([]any); ok {
				for _, f := range fs {
					if fm, ok := f.(map[string]any); ok {
						collectNamed(fm["type"], ns, named)
					}
				}
			}
		case "array":
			collectNamed(x["items"], ns, named)
		case "map":
			collectNamed(x["values"], ns, named)
		default:
			if inner, ok := x["type"].(map[string]any); ok {
				collectNamed(inner, ns, named)
			}
		}
	}
}

// resolvePath follows names through records (and nullable unions of a
// record) and returns the steps, false when the schema lacks the path.
func resolvePath(s any, ns string, names []string, named map[string]any) ([]timeStep, bool) {
	rec := recordOf(s, named)
	if rec == nil {
		return nil, false
	}
	fields, _ := rec["fields"].([]any)
	for _, f := range fields {
		fm, _ := f.(map[string]any)
		if fm == nil || fm["name"] != names[0] {
			continue
		}
		ft := fm["type"]
		_, union := ft.([]any)
		step := timeStep{name: names[0], union: union}
		if len(names) == 1 {
			return []timeStep{step}, true
		}
		rest, ok := resolvePath(ft, ns, names[1:], named)
		if !ok {
			return nil, false
		}
		return append([]timeStep{step}, rest...), true
	}
	return nil, false
}

// recordOf returns the record schema s is, refers to, or is the single
// non-null branch of; nil otherwise.
func recordOf(s any, named map[string]any) map[string]any {
	switch x := s.(type) {
	case string:
		if r, ok := named[x].(map[string]any); ok {
			return recordOf(r, named)
		}
	case []any:
		var only any
		n := 0
		for _, b := range x {
			if b == "null" {
				continue
			}
			only = b
			n++
		}
		if n == 1 {
			return recordOf(only, named)
		}
	case map[string]any:
		if t, _ := x["type"].(string); t == "record" || t == "error" {
			return x
		}
		if inner, ok := x["type"].(map[string]any); ok {
			return recordOf(inner, named)
		}
	}
	return nil
}
