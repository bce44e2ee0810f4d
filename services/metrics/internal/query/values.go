package query

import (
	"fmt"
	"math"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/riacho/riacho/services/metrics/internal/metricdef"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// normOp lower-cases an operator and collapses its spaces.
func normOp(op string) string { return strings.ToLower(strings.Join(strings.Fields(op), " ")) }

// resolveMetricFilter checks one of a metric's filters: the field, the
// operator and the value, a SQL literal as dbt pasted it.
func (c *Compiler) resolveMetricFilter(t *warehouse.Table, f metricdef.Filter) (metricFilter, error) {
	ref, err := c.resolveColumn(t, f.Field)
	if err != nil {
		return metricFilter{}, err
	}
	mf := metricFilter{ref: ref, op: normOp(f.Operator)}
	if mf.op == "!=" {
		mf.op = "<>"
	}
	text := strings.TrimSpace(f.Value)
	switch mf.op {
	case "in", "not in":
		if !strings.HasPrefix(text, "(") || !strings.HasSuffix(text, ")") {
			return mf, fmt.Errorf("%s %s: value %q is not a parenthesized list like ('a', 'b')", f.Field, f.Operator, f.Value)
		}
		mf.lits, err = parseLiterals(text[1 : len(text)-1])
		if err == nil && len(mf.lits) == 0 {
			err = fmt.Errorf("empty list")
		}
	case "=", "<>", ">", ">=", "<", "<=", "like", "is", "is not":
		mf.lits, err = parseLiterals(text)
		if err == nil && len(mf.lits) != 1 {
			err = fmt.Errorf("want one value")
		}
	default:
		return mf, fmt.Errorf("%s: unknown operator %q", f.Field, f.Operator)
	}
	if err != nil {
		return mf, fmt.Errorf("%s %s %s: %w", f.Field, f.Operator, f.Value, err)
	}
	for i, l := range mf.lits {
		isOp := mf.op == "is" || mf.op == "is not"
		switch {
		case l.kind == "null" && !isOp:
			return mf, fmt.Errorf("%s %s null: compare with null using is or is not", f.Field, f.Operator)
		case isOp && l.kind == "value":
			return mf, fmt.Errorf("%s %s %s: is/is not take null, true or false", f.Field, f.Operator, f.Value)
		case l.kind == "bool" && ref.col.Type.Base != "boolean":
			return mf, fmt.Errorf("%s is %s, not boolean; value %s does not apply", f.Field, ref.col.Type, l.text)
		case mf.op == "like" && ref.col.Type.Base != "text":
			return mf, fmt.Errorf("like needs a text column; %s is %s", f.Field, ref.col.Type)
		case l.kind == "value":
			v, err := checkValue(l.text, ref.col.Type)
			if err != nil {
				return mf, fmt.Errorf("%s: %w", f.Field, err)
			}
			mf.lits[i].text = v
		}
	}
	return mf, nil
}

var numberRe = regexp.MustCompile(`^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?`)

// parseLiterals parses a comma-separated list of SQL literals: 'text' (with
// ” for a quote), numbers, true, false, null.
func parseLiterals(s string) ([]literal, error) {
	var out []literal
	s = strings.TrimSpace(s)
	for s != "" {
		var l literal
		switch {
		case s[0] == '\'':
			var b strings.Builder
			i := 1
			for {
				if i >= len(s) {
					return nil, fmt.Errorf("unterminated string literal")
				}
				if s[i] == '\'' {
					if i+1 < len(s) && s[i+1] == '\'' {
						b.WriteByte('\'')
						i += 2
						continue
					}
					i++
					break
				}
				b.WriteByte(s[i])
				i++
			}
			l, s = literal{kind: "value", text: b.String()}, s[i:]
		case numberRe.MatchString(s):
			n := numberRe.FindString(s)
			l, s = literal{kind: "value", text: n}, s[len(n):]
		default:
			word := s
			if i := strings.IndexAny(s, ", \t"); i >= 0 {
				word = s[:i]
			}
			switch strings.ToLower(word) {
			case "true", "false":
				l = literal{kind: "bool", text: strings.ToLower(word)}
			case "null":
				l = literal{kind: "null", text: "null"}
			default:
				return nil, fmt.Errorf("%q is not a SQL literal ('text', a number, true, false or null)", word)
			}
			s = s[len(word):]
		}
		out = append(out, l)
		s = strings.TrimSpace(s)
		if s == "" {
			break
		}
		if s[0] != ',' {
			return nil, fmt.Errorf("unexpected %q after a literal", s)
		}
		s = strings.TrimSpace(s[1:])
		if s == "" {
			return nil, fmt.Errorf("trailing comma")
		}
	}
	return out, nil
}

var decimalRe = regexp.MustCompile(`^[+-]?\d+(\.\d+)?$`)

// checkValue validates v for a column of type t and returns the canonical
// text both engines cast the same way.
func checkValue(v string, t warehouse.Type) (string, error) {
	s := strings.TrimSpace(v)
	switch t.Base {
	case "text":
		return v, nil
	case "integer", "bigint":
		bits := 64
		if t.Base == "integer" {
			bits = 32
		}
		n, err := strconv.ParseInt(s, 10, bits)
		if err != nil {
			return "", fmt.Errorf("%q is not an %s", v, t.Base)
		}
		return strconv.FormatInt(n, 10), nil
	case "numeric":
		if !decimalRe.MatchString(s) {
			return "", fmt.Errorf("%q is not a decimal number", v)
		}
		r, _ := new(big.Rat).SetString(s)
		limit := new(big.Rat).SetFrac(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(t.Precision-t.Scale)), nil), big.NewInt(1))
		if new(big.Rat).Abs(r).Cmp(limit) >= 0 {
			return "", fmt.Errorf("%q does not fit %s", v, t)
		}
		// Rounded here (half away from zero, as both engines' casts do) so the cast is exact.
		return r.FloatString(t.Scale), nil
	case "double":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return "", fmt.Errorf("%q is not a finite number", v)
		}
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	case "boolean":
		switch strings.ToLower(s) {
		case "true", "false":
			return strings.ToLower(s), nil
		}
		return "", fmt.Errorf("%q is not true or false", v)
	case "date":
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			return "", fmt.Errorf("%q is not a date (YYYY-MM-DD)", v)
		}
		return d.Format(time.DateOnly), nil
	case "timestamp":
		ts, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			d, derr := time.Parse(time.DateOnly, s)
			if derr != nil {
				return "", fmt.Errorf("%q is not an RFC 3339 timestamp", v)
			}
			ts = d
		}
		return formatTS(ceilMicro(ts)), nil
	}
	return "", fmt.Errorf("columns of type %s cannot be filtered", t)
}

// ceilMicro rounds t up to a whole microsecond (both engines keep microseconds).
func ceilMicro(t time.Time) time.Time {
	u := t.UTC()
	if r := u.Truncate(time.Microsecond); !r.Equal(u) {
		return r.Add(time.Microsecond)
	}
	return u
}

func formatTS(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999999Z07:00") }

// exprIdents lists the identifiers of a SQL expression outside string literals.
func exprIdents(expr string) []string {
	var out []string
	scanExpr(expr, func(tok string, ident bool) {
		if ident {
			out = append(out, tok)
		}
	})
	return out
}

// scanExpr splits expr into identifiers and other text (string literals kept whole).
func scanExpr(expr string, emit func(tok string, ident bool)) {
	i := 0
	for i < len(expr) {
		ch := expr[i]
		switch {
		case ch == '\'':
			j := i + 1
			for j < len(expr) {
				if expr[j] == '\'' {
					if j+1 < len(expr) && expr[j+1] == '\'' {
						j += 2
						continue
					}
					break
				}
				j++
			}
			j = min(j+1, len(expr))
			emit(expr[i:j], false)
			i = j
		case ch == '_' || ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z':
			j := i + 1
			for j < len(expr) && (expr[j] == '_' || expr[j] >= 'A' && expr[j] <= 'Z' || expr[j] >= 'a' && expr[j] <= 'z' || expr[j] >= '0' && expr[j] <= '9') {
				j++
			}
			// Identifiers glued to digits or dots before them (1e5, x.y) are not metric names.
			ident := i == 0 || (expr[i-1] != '.' && (expr[i-1] < '0' || expr[i-1] > '9'))
			emit(expr[i:j], ident)
			i = j
		default:
			j := i + 1
			for j < len(expr) && expr[j] != '\'' && expr[j] != '_' && (expr[j] < 'A' || expr[j] > 'Z') && (expr[j] < 'a' || expr[j] > 'z') {
				j++
			}
			emit(expr[i:j], false)
			i = j
		}
	}
}
