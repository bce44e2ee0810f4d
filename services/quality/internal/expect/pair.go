package expect

import "github.com/riacho/riacho/services/quality/internal/brazil"

// pairMap is expect_column_pair_values_a_to_be_greater_than_b.
type pairMap struct {
	base
	a, b    string
	orEqual bool
	mostly  float64
	ignore  string // both_values_are_missing, either_value_is_missing or neither
	asTimes bool
}

func compilePairGreater(c Config) (Expectation, error) {
	k := newKwargs(c)
	e := &pairMap{base: base{cfg: c, level: Row, cond: readCondition(k)}}
	e.a = k.str("column_A", true)
	e.b = k.str("column_B", true)
	e.orEqual = k.boolean("or_equal", false)
	e.asTimes = k.boolean("parse_strings_as_datetimes", false)
	k.boolean("allow_cross_type_comparisons", false)
	e.mostly = k.mostly()
	e.ignore = k.str("ignore_row_if", false)
	switch e.ignore {
	case "":
		e.ignore = "both_values_are_missing"
	case "both_values_are_missing", "either_value_is_missing", "neither":
	default:
		k.fail("ignore_row_if", "want both_values_are_missing, either_value_is_missing or neither, got %q", e.ignore)
	}
	if err := k.finish(); err != nil {
		return nil, err
	}
	return e, nil
}

// state classifies one row; ignored rows count as missing.
func (e *pairMap) state(row map[string]any) (rowState, any) {
	if e.cond != nil && !e.cond.holds(row) {
		return stSkip, nil
	}
	a, b := row[e.a], row[e.b]
	na, nb := isNull(a), isNull(b)
	switch {
	case na && nb && e.ignore != "neither",
		(na || nb) && e.ignore == "either_value_is_missing":
		return stMissing, nil
	case na || nb:
		return stUnexpected, []any{a, b}
	}
	var c int
	var ok bool
	if sb, isStr := b.(string); isStr && e.asTimes {
		if sc, valid := newScalar(sb); valid {
			c, ok = sc.compare(a, true)
		}
	} else {
		c, ok = compareValues(a, b)
	}
	if ok && (c > 0 || (e.orEqual && c == 0)) {
		return stOK, nil
	}
	return stUnexpected, []any{a, b}
}

// Check decides one record; mostly does not apply.
func (e *pairMap) Check(row map[string]any) (bool, any) {
	st, v := e.state(row)
	return st != stUnexpected, v
}

func (e *pairMap) mostlyValue() float64 { return e.mostly }

func (e *pairMap) shape() Shape { return ShapeMap }

// compileBrazil builds a Brazilian document/contact expectation over
// string values (formatted or bare), using package brazil.
func compileBrazil(valid func(string) bool) func(Config) (Expectation, error) {
	return func(c Config) (Expectation, error) {
		return newColMap(c, nullsSkipped, func(*kwargs) func(any) bool {
			return func(v any) bool {
				switch x := v.(type) {
				case string:
					return valid(x)
				case []byte:
					return valid(string(x))
				}
				return false
			}
		})
	}
}

// brazilValidators returns the Brazilian expectation types and their validators.
func brazilValidators() map[string]func(string) bool {
	return map[string]func(string) bool{
		"expect_column_values_to_be_valid_cpf":      brazil.ValidCPF,
		"expect_column_values_to_be_valid_cnpj":     brazil.ValidCNPJ,
		"expect_column_values_to_be_valid_br_phone": brazil.ValidPhone,
		"expect_column_values_to_be_valid_cep":      brazil.ValidCEP,
	}
}
