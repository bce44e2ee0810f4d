package project

import (
	"fmt"
	"math"
	"sort"
	"time"
)

func setIf[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// stringList accepts "a" or ["a", "b"].
func stringList(v any) ([]string, error) {
	switch t := v.(type) {
	case string:
		return []string{t}, nil
	case []any:
		out := make([]string, 0, len(t))
		for _, x := range t {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("want strings, found %v", x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a string or a list of strings, not %v", v)
}

func wholeInt(v any) (int, bool) {
	switch t := v.(type) {
	case int:
		return t, true
	case int64:
		return int(t), true
	case uint64:
		return int(min(t, math.MaxInt32+1)), true
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1<<53 {
			return int(t), true
		}
	}
	return 0, false
}

// duration reads '200ms'; a bare 0 is allowed where zero means off.
func duration(v any, zeroOK bool) (time.Duration, error) {
	if n, ok := wholeInt(v); ok && n == 0 && zeroOK {
		return 0, nil
	}
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("want a duration string")
	}
	return time.ParseDuration(s)
}
