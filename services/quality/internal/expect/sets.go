package expect

import (
	"math"
	"sort"
	"strconv"
	"strings"
)

// uniqueExp is expect_column_values_to_be_unique: every occurrence of a
// duplicated non-null value is unexpected, as in GE.
type uniqueExp struct {
	base
	mostly float64
}

func compileUnique(c Config) (Expectation, error) {
	k := newKwargs(c)
	e := &uniqueExp{base: newBase(c, k, Set)}
	e.mostly = k.mostly()
	if err := k.finish(); err != nil {
		return nil, err
	}
	return e, nil
}

// Validate counts duplicated values in the window.
func (e *uniqueExp) Validate(b *Batch) Result {
	rows := e.domain(b.Rows)
	counts := make(map[setKey]int, len(rows))
	for _, r := range rows {
		if k, ok := keyOf(r[e.column]); ok {
			counts[k]++
		}
	}
	var t tally
	for _, r := range rows {
		v := r[e.column]
		switch k, ok := keyOf(v); {
		case isNull(v):
			t.add(stMissing, nil)
		case ok && counts[k] > 1:
			t.add(stUnexpected, v)
		default:
			t.add(stOK, nil)
		}
	}
	return t.result(e.cfg, e.mostly, ShapeMap)
}

// increasingExp is expect_column_values_to_be_increasing: each non-null
// value is compared with the previous non-null one.
type increasingExp struct {
	base
	mostly   float64
	strictly bool
	asTimes  bool
}

func compileIncreasing(c Config) (Expectation, error) {
	k := newKwargs(c)
	e := &increasingExp{base: newBase(c, k, Set)}
	e.strictly = k.boolean("strictly", false)
	e.asTimes = k.boolean("parse_strings_as_datetimes", false)
	e.mostly = k.mostly()
	if err := k.finish(); err != nil {
		return nil, err
	}
	return e, nil
}

// Validate walks the window in arrival order.
func (e *increasingExp) Validate(b *Batch) Result {
	var t tally
	var prev any
	for _, r := range e.domain(b.Rows) {
		v := r[e.column]
		if isNull(v) {
			t.add(stMissing, nil)
			continue
		}
		if s, ok := v.(string); ok && e.asTimes {
			if tm, ok := parseTime(s); ok {
				v = tm
			}
		}
		st := stOK
		if prev != nil {
			c, ok := compareValues(v, prev)
			if !ok || c < 0 || (e.strictly && c == 0) {
				st = stUnexpected
			}
		}
		t.add(st, r[e.column])
		prev = v
	}
	return t.result(e.cfg, e.mostly, ShapeMap)
}

// compoundUnique is expect_compound_columns_to_be_unique.
type compoundUnique struct {
	base
	cols   []string
	mostly float64
	ignore string // all_values_are_missing, any_value_is_missing or never
}

func compileCompoundUnique(c Config) (Expectation, error) {
	k := newKwargs(c)
	e := &compoundUnique{base: base{cfg: c, level: Set, cond: readCondition(k)}}
	e.cols = k.strList("column_list", true)
	e.mostly = k.mostly()
	switch e.ignore = k.str("ignore_row_if", false); e.ignore {
	case "":
		e.ignore = "all_values_are_missing"
	case "all_values_are_missing", "any_value_is_missing", "never":
	default:
		k.fail("ignore_row_if", "want all_values_are_missing, any_value_is_missing or never, got %q", e.ignore)
	}
	if err := k.finish(); err != nil {
		return nil, err
	}
	return e, nil
}

// tupleKey encodes the row's values in the columns; ignored reports rows
// skipped by ignore_row_if.
func (e *compoundUnique) tupleKey(r map[string]any) (key string, ignored bool) {
	var b strings.Builder
	nulls := 0
	for _, c := range e.cols {
		k, ok := keyOf(r[c])
		if !ok {
			nulls++
		}
		b.WriteByte(byte(k.k))
		b.WriteString(strconv.Itoa(len(k.s)))
		b.WriteByte(':')
		b.WriteString(k.s)
		b.WriteString(strconv.FormatInt(k.n, 36))
		b.WriteByte(':')
		b.WriteString(strconv.FormatUint(math.Float64bits(k.f), 36))
		b.WriteByte(';')
	}
	switch e.ignore {
	case "all_values_are_missing":
		ignored = nulls == len(e.cols)
	case "any_value_is_missing":
		ignored = nulls > 0
	}
	return b.String(), ignored
}

// Validate counts duplicated tuples; ignored rows count as missing.
func (e *compoundUnique) Validate(b *Batch) Result {
	rows := e.domain(b.Rows)
	keys := make([]string, len(rows))
	skip := make([]bool, len(rows))
	counts := map[string]int{}
	for i, r := range rows {
		keys[i], skip[i] = e.tupleKey(r)
		if !skip[i] {
			counts[keys[i]]++
		}
	}
	var t tally
	for i, r := range rows {
		switch {
		case skip[i]:
			t.add(stMissing, nil)
		case counts[keys[i]] > 1:
			tuple := make(map[string]any, len(e.cols))
			for _, c := range e.cols {
				tuple[c] = r[c]
			}
			t.add(stUnexpected, tuple)
		default:
			t.add(stOK, nil)
		}
	}
	return t.result(e.cfg, e.mostly, ShapeMap)
}

// distinctValues returns the distinct non-null values of col with their
// counts, sorted.
func distinctValues(rows []map[string]any, col string) ([]any, []int) {
	idx := map[setKey]int{}
	var vals []any
	var counts []int
	for _, r := range rows {
		v := r[col]
		k, ok := keyOf(v)
		if !ok {
			continue
		}
		if i, seen := idx[k]; seen {
			counts[i]++
			continue
		}
		idx[k] = len(vals)
		vals = append(vals, v)
		counts = append(counts, 1)
	}
	order := make([]int, len(vals))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return lessValue(vals[order[a]], vals[order[b]]) })
	sv, sc := make([]any, len(vals)), make([]int, len(vals))
	for i, o := range order {
		sv[i], sc[i] = vals[o], counts[o]
	}
	return sv, sc
}

// lessValue orders values of one kind by value and of different kinds by kind.
func lessValue(a, b any) bool {
	if c, ok := compareValues(a, b); ok {
		return c < 0
	}
	ka, _ := keyOf(a)
	kb, _ := keyOf(b)
	return ka.k < kb.k
}
