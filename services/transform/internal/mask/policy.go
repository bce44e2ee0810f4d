package mask

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Policy kinds, the values of Policy.Kind.
const (
	KindHash     = "hash"
	KindRedact   = "redact"
	KindKeepLast = "keep_last"
)

// ErrPolicy is wrapped by every error of ParsePolicy.
var ErrPolicy = errors.New("invalid masking policy")

// Policy says how one column is masked.
type Policy struct {
	// Kind is KindHash, KindRedact or KindKeepLast.
	Kind string
	// N is how many trailing runes KindKeepLast leaves readable.
	N int
}

// String is the policy as written in config: "hash", "redact" or "keep_last(4)".
func (p Policy) String() string {
	if p.Kind == KindKeepLast {
		return fmt.Sprintf("%s(%d)", p.Kind, p.N)
	}
	return p.Kind
}

// ParsePolicy reads a policy from a config value: the string "hash" or
// "redact", or a dict {'policy': 'keep_last', 'n': 4} (a dict may also name
// hash or redact). Map keys must be strings; n must be a whole number >= 0.
func ParsePolicy(v any) (Policy, error) {
	switch t := v.(type) {
	case string:
		switch t {
		case KindHash, KindRedact:
			return Policy{Kind: t}, nil
		case KindKeepLast:
			return Policy{}, fmt.Errorf("%w: keep_last needs n: write {'policy': 'keep_last', 'n': 4}", ErrPolicy)
		}
		return Policy{}, fmt.Errorf("%w: unknown policy %q (want hash, redact or keep_last)", ErrPolicy, t)
	case map[string]any:
		return parseDict(t)
	case nil:
		return Policy{}, fmt.Errorf("%w: empty policy (want hash, redact or keep_last)", ErrPolicy)
	}
	return Policy{}, fmt.Errorf("%w: %T is not a policy (want 'hash', 'redact' or {'policy': 'keep_last', 'n': 4})", ErrPolicy, v)
}

func parseDict(m map[string]any) (Policy, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k != "policy" && k != "n" {
			return Policy{}, fmt.Errorf("%w: unknown key %q (want policy, n)", ErrPolicy, k)
		}
	}
	kind, ok := m["policy"].(string)
	if !ok {
		return Policy{}, fmt.Errorf("%w: policy must be a string (hash, redact or keep_last)", ErrPolicy)
	}
	rawN, hasN := m["n"]
	switch kind {
	case KindHash, KindRedact:
		if hasN {
			return Policy{}, fmt.Errorf("%w: n applies only to keep_last", ErrPolicy)
		}
		return Policy{Kind: kind}, nil
	case KindKeepLast:
		if !hasN {
			return Policy{}, fmt.Errorf("%w: keep_last needs n", ErrPolicy)
		}
		n, ok := wholeNumber(rawN)
		if !ok || n < 0 {
			return Policy{}, fmt.Errorf("%w: keep_last n must be a whole number >= 0, not %v", ErrPolicy, rawN)
		}
		return Policy{Kind: KindKeepLast, N: n}, nil
	}
	return Policy{}, fmt.Errorf("%w: unknown policy %q (want hash, redact or keep_last)", ErrPolicy, strings.TrimSpace(kind))
}

// wholeNumber accepts the integer types YAML and the template engine produce.
func wholeNumber(v any) (int, bool) {
	const maxN = 1 << 20
	switch t := v.(type) {
	case int:
		return t, t <= maxN
	case int64:
		return int(t), t <= maxN && t >= math.MinInt32
	case uint64:
		return int(t), t <= maxN //nolint:gosec // the caller uses the value only when t <= maxN
	case float64:
		if t == math.Trunc(t) && t <= maxN && t >= math.MinInt32 {
			return int(t), true
		}
	}
	return 0, false
}
