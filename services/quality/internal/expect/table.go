package expect

import "slices"

// rowCount is expect_table_row_count_to_be_between.
type rowCount struct {
	base
	b bounds
}

func compileRowCount(c Config) (Expectation, error) {
	k := newKwargs(c)
	e := &rowCount{base: base{cfg: c, level: Table, cond: readCondition(k)}}
	e.b = readBounds(k)
	if err := k.finish(); err != nil {
		return nil, err
	}
	return e, nil
}

// Validate counts the window's rows.
func (e *rowCount) Validate(b *Batch) Result {
	n := int64(len(e.domain(b.Rows)))
	return Result{Success: e.b.within(n, false), ExpectationConfig: e.cfg,
		Result: ResultStats{Shape: ShapeAggregate, ObservedValue: n}}
}

// columnExists is expect_column_to_exist.
type columnExists struct {
	base
	index int64 // column_index, -1 when absent
}

func compileColumnExists(c Config) (Expectation, error) {
	k := newKwargs(c)
	e := &columnExists{base: base{cfg: c, level: Table, column: k.str("column", true)}, index: -1}
	if i, ok := k.integer("column_index", false); ok {
		if i < 0 {
			k.fail("column_index", "must not be negative")
		}
		e.index = i
	}
	if err := k.finish(); err != nil {
		return nil, err
	}
	return e, nil
}

// Validate looks the column up in Batch.Columns (or the rows' keys).
func (e *columnExists) Validate(b *Batch) Result {
	cols := b.columns()
	i := slices.Index(cols, e.column)
	ok := i >= 0 && (e.index < 0 || int64(i) == e.index)
	return Result{Success: ok, ExpectationConfig: e.cfg, Result: ResultStats{Shape: ShapeEmpty}}
}

// relationship is the dbt relationships test: every non-null value must be
// a key of another model, fed by the gate through Batch.Lookup.
type relationship struct {
	base
	toModel, field string
}

func compileRelationship(c Config) (Expectation, error) {
	k := newKwargs(c)
	e := &relationship{base: newBase(c, k, Set)}
	e.toModel = k.str("to_model", true)
	e.field = k.str("field", true)
	if err := k.finish(); err != nil {
		return nil, err
	}
	return e, nil
}

// ToModel returns the referenced model.
func (e *relationship) ToModel() string { return e.toModel }

// Field returns the referenced model's key column.
func (e *relationship) Field() string { return e.field }

// Validate checks every non-null value against the key set
// Batch.Lookup["to_model.field"]; a missing key set is reported as an exception.
func (e *relationship) Validate(b *Batch) Result {
	keys, ok := b.Lookup[e.toModel+"."+e.field]
	if !ok {
		return Result{ExpectationConfig: e.cfg, Result: ResultStats{Shape: ShapeMap},
			ExceptionInfo: exception("no key set for " + e.toModel + "." + e.field)}
	}
	var t tally
	for _, r := range e.domain(b.Rows) {
		v := r[e.column]
		switch {
		case isNull(v):
			t.add(stMissing, nil)
		case keys[Key(v)]:
			t.add(stOK, nil)
		default:
			t.add(stUnexpected, v)
		}
	}
	return t.result(e.cfg, 1, ShapeMap)
}
