package expect

import (
	"encoding/json"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// newColMap reads the column map kwargs shared by value expectations and
// attaches test; extra reads the expectation's own kwargs first.
func newColMap(c Config, nulls nullPolicy, extra func(k *kwargs) func(v any) bool) (Expectation, error) {
	k := newKwargs(c)
	e := &colMap{base: newBase(c, k, Row), nulls: nulls}
	e.mostly = k.mostly()
	e.test = func(any) bool { return true }
	if extra != nil {
		if t := extra(k); t != nil {
			e.test = t
		}
	}
	if err := k.finish(); err != nil {
		return nil, err
	}
	return e, nil
}

func compileNotNull(c Config) (Expectation, error) { return newColMap(c, nullsUnexpected, nil) }

func compileNull(c Config) (Expectation, error) { return newColMap(c, nullsOnly, nil) }

// compileRegexp compiles a GE (Python) regex; \Z becomes Go's \z.
func compileRegexp(k *kwargs, name, expr string) *matcher {
	re, err := newMatcher(strings.ReplaceAll(expr, `\Z`, `\z`))
	if err != nil {
		k.fail(name, "bad regex %q: %v", expr, err)
		return nil
	}
	return re
}

func compileMatchRegex(negate bool) func(Config) (Expectation, error) {
	return func(c Config) (Expectation, error) {
		return newColMap(c, nullsSkipped, func(k *kwargs) func(any) bool {
			re := compileRegexp(k, "regex", k.str("regex", true))
			if re == nil {
				return nil
			}
			return func(v any) bool {
				s, ok := v.(string)
				if !ok {
					s = pyStr(v)
				}
				return re.MatchString(s) != negate
			}
		})
	}
}

func compileRegexList(negate bool) func(Config) (Expectation, error) {
	return func(c Config) (Expectation, error) {
		return newColMap(c, nullsSkipped, func(k *kwargs) func(any) bool {
			exprs := k.strList("regex_list", true)
			all := false
			if !negate {
				switch m := k.str("match_on", false); m {
				case "", "any":
				case "all":
					all = true
				default:
					k.fail("match_on", "want any or all, got %q", m)
				}
			}
			res := make([]*matcher, 0, len(exprs))
			for _, x := range exprs {
				if re := compileRegexp(k, "regex_list", x); re != nil {
					res = append(res, re)
				}
			}
			return func(v any) bool {
				s, ok := v.(string)
				if !ok {
					s = pyStr(v)
				}
				matched := 0
				for _, re := range res {
					if re.MatchString(s) {
						matched++
						if !all {
							break
						}
					}
				}
				if negate {
					return matched == 0
				}
				if all {
					return matched == len(res)
				}
				return matched > 0
			}
		})
	}
}

func compileInSet(negate bool) func(Config) (Expectation, error) {
	return func(c Config) (Expectation, error) {
		return newColMap(c, nullsSkipped, func(k *kwargs) func(any) bool {
			k.boolean("parse_strings_as_datetimes", false)
			vals := k.list("value_set", true)
			set, err := newValueSet(vals)
			if err != nil {
				k.fail("value_set", "%v", err)
				return nil
			}
			return func(v any) bool { return set.has(v) != negate }
		})
	}
}

// bounds is a min_value/max_value pair with strictness.
type bounds struct {
	min, max             *scalar
	strictMin, strictMax bool
}

// readBounds reads min_value, max_value, strict_min and strict_max; at
// least one bound is required, as in GE.
func readBounds(k *kwargs) bounds {
	b := bounds{min: k.scalar("min_value"), max: k.scalar("max_value")}
	b.strictMin = k.boolean("strict_min", false)
	b.strictMax = k.boolean("strict_max", false)
	if b.min == nil && b.max == nil {
		k.fail("min_value", "min_value and max_value cannot both be null")
	}
	return b
}

// within reports whether v lies inside the bounds; values that cannot be
// compared with a bound are outside.
func (b *bounds) within(v any, stringsAsTimes bool) bool {
	if b.min != nil {
		c, ok := b.min.compare(v, stringsAsTimes)
		if !ok || c < 0 || (b.strictMin && c == 0) {
			return false
		}
	}
	if b.max != nil {
		c, ok := b.max.compare(v, stringsAsTimes)
		if !ok || c > 0 || (b.strictMax && c == 0) {
			return false
		}
	}
	return true
}

func compileBetween(c Config) (Expectation, error) {
	return newColMap(c, nullsSkipped, func(k *kwargs) func(any) bool {
		asTimes := k.boolean("parse_strings_as_datetimes", false)
		k.str("output_strftime_format", false)
		k.boolean("allow_cross_type_comparisons", false)
		b := readBounds(k)
		return func(v any) bool { return b.within(v, asTimes) }
	})
}

// strLen returns the length of a string value in code points, as Python's len.
func strLen(v any) (int64, bool) {
	switch x := v.(type) {
	case string:
		return int64(utf8.RuneCountInString(x)), true
	case []byte:
		return int64(len(x)), true
	}
	return 0, false
}

func compileLengthsBetween(c Config) (Expectation, error) {
	return newColMap(c, nullsSkipped, func(k *kwargs) func(any) bool {
		b := readBounds(k)
		for _, s := range []*scalar{b.min, b.max} {
			if s != nil && (s.kind != sNum || s.n.kind != numInt) {
				k.fail("min_value", "length bounds must be integers")
			}
		}
		return func(v any) bool {
			n, ok := strLen(v)
			return ok && b.within(n, false)
		}
	})
}

func compileLengthsEqual(c Config) (Expectation, error) {
	return newColMap(c, nullsSkipped, func(k *kwargs) func(any) bool {
		want, _ := k.integer("value", true)
		return func(v any) bool {
			n, ok := strLen(v)
			return ok && n == want
		}
	})
}

func compileJSONParseable(c Config) (Expectation, error) {
	return newColMap(c, nullsSkipped, func(*kwargs) func(any) bool {
		return func(v any) bool {
			switch x := v.(type) {
			case string:
				return json.Valid([]byte(x))
			case []byte:
				return json.Valid(x)
			}
			return false
		}
	})
}

// pyStr formats a non-string value as pandas' astype(str) would.
func pyStr(v any) string {
	switch x := v.(type) {
	case []byte:
		return string(x)
	case bool:
		if x {
			return "True"
		}
		return "False"
	case float64:
		if x == float64(int64(x)) && x < 1e16 && x > -1e16 {
			return strconv.FormatFloat(x, 'f', 1, 64)
		}
		return strconv.FormatFloat(x, 'g', -1, 64)
	case *big.Rat:
		if r, ok := ratJSON(x).(json.Number); ok {
			return string(r)
		}
		return x.FloatString(10)
	case time.Time:
		if x.Nanosecond() == 0 {
			return x.Format("2006-01-02 15:04:05")
		}
		return x.Format("2006-01-02 15:04:05.000000")
	}
	return Key(v)
}
