package expect

// base carries what every compiled expectation has.
type base struct {
	cfg    Config
	level  Level
	column string
	cond   *condition // row_condition, nil when absent
}

// Config returns the expectation's configuration.
func (b *base) Config() Config { return b.cfg }

// Level returns whether the expectation is decided per row, set or table.
func (b *base) Level() Level { return b.level }

// Column returns the column checked, "" for table-level and multi-column expectations.
func (b *base) Column() string { return b.column }

// domain returns the rows that pass the row_condition.
func (b *base) domain(rows []map[string]any) []map[string]any {
	if b.cond == nil {
		return rows
	}
	out := make([]map[string]any, 0, len(rows))
	for _, r := range rows {
		if b.cond.holds(r) {
			out = append(out, r)
		}
	}
	return out
}

// readCondition reads row_condition and condition_parser.
func readCondition(k *kwargs) *condition {
	text := k.str("row_condition", false)
	parser := k.str("condition_parser", false)
	if text == "" {
		return nil
	}
	c, err := compileCondition(text, parser)
	if err != nil {
		k.fail("row_condition", "%v", err)
		return nil
	}
	return c
}

// newBase reads the kwargs shared by column expectations: column and row_condition.
func newBase(c Config, k *kwargs, level Level) base {
	return base{cfg: c, level: level, column: k.str("column", true), cond: readCondition(k)}
}

// rowState is what one row contributes to a column map result.
type rowState uint8

const (
	stSkip       rowState = iota // outside the row_condition
	stMissing                    // null, not checked
	stOK                         // checked and expected
	stUnexpected                 // checked and unexpected
)

// stater is implemented by column map expectations so that window results
// count missing values the way GE does.
type stater interface {
	state(row map[string]any) (rowState, any)
	mostlyValue() float64
	shape() Shape
}

// nullPolicy says how a column map expectation treats nulls.
type nullPolicy uint8

const (
	nullsSkipped    nullPolicy = iota // value expectations: nulls are missing, not checked
	nullsUnexpected                   // expect_column_values_to_not_be_null
	nullsOnly                         // expect_column_values_to_be_null
)

// colMap is a column map expectation: one yes/no test per non-null value.
type colMap struct {
	base
	mostly float64
	nulls  nullPolicy
	test   func(v any) bool
}

// state classifies one row.
func (e *colMap) state(row map[string]any) (rowState, any) {
	if e.cond != nil && !e.cond.holds(row) {
		return stSkip, nil
	}
	v := row[e.column]
	if isNull(v) {
		switch e.nulls {
		case nullsUnexpected:
			return stUnexpected, nil
		case nullsOnly:
			return stOK, nil
		}
		return stMissing, nil
	}
	if e.nulls == nullsOnly || !e.test(v) {
		return stUnexpected, v
	}
	return stOK, nil
}

// Check decides one record; mostly does not apply (see the package doc).
func (e *colMap) Check(row map[string]any) (bool, any) {
	st, v := e.state(row)
	return st != stUnexpected, v
}

func (e *colMap) mostlyValue() float64 { return e.mostly }

func (e *colMap) shape() Shape {
	if e.nulls == nullsSkipped {
		return ShapeMap
	}
	return ShapeNullMap
}

// tally accumulates a column map result.
type tally struct {
	elements, missing, unexpected int
	partial                       []any
}

// add counts one row state.
func (t *tally) add(st rowState, v any) {
	switch st {
	case stSkip:
		return
	case stMissing:
		t.missing++
	case stUnexpected:
		t.unexpected++
		if len(t.partial) < partialLimit {
			t.partial = append(t.partial, v)
		}
	}
	t.elements++
}

// result turns the tally into a GE result, applying mostly over non-null values.
func (t *tally) result(cfg Config, mostly float64, shape Shape) Result {
	nonnull := t.elements - t.missing
	success := nonnull == 0 || float64(nonnull-t.unexpected)/float64(nonnull) >= mostly
	partial := t.partial
	if partial == nil {
		partial = []any{}
	}
	st := ResultStats{
		Shape:                       shape,
		ElementCount:                t.elements,
		MissingCount:                t.missing,
		UnexpectedCount:             t.unexpected,
		MissingPercent:              percent(t.missing, t.elements),
		UnexpectedPercent:           percent(t.unexpected, nonnull),
		UnexpectedPercentTotal:      percent(t.unexpected, t.elements),
		UnexpectedPercentNonmissing: percent(t.unexpected, nonnull),
		PartialUnexpectedList:       partial,
	}
	return Result{Success: success, ExpectationConfig: cfg, Result: st}
}
