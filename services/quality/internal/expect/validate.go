package expect

import "fmt"

// ValidateRow evaluates a row expectation over a window, applying mostly:
// the GE result the window reports.
func ValidateRow(e RowExpectation, b *Batch) Result {
	var t tally
	if s, ok := e.(stater); ok {
		for _, r := range b.Rows {
			t.add(s.state(r))
		}
		return t.result(e.Config(), s.mostlyValue(), s.shape())
	}
	for _, r := range b.Rows {
		if ok, v := e.Check(r); ok {
			t.add(stOK, nil)
		} else {
			t.add(stUnexpected, v)
		}
	}
	return t.result(e.Config(), 1, ShapeMap)
}

// Validate evaluates every expectation over the window and returns GE's
// suite validation result. A panicking evaluator is reported in its
// result's exception_info, as GE's catch_exceptions does.
func Validate(suiteName string, es []Expectation, b *Batch) SuiteResult {
	sr := SuiteResult{
		Success:              true,
		Results:              make([]Result, len(es)),
		EvaluationParameters: map[string]any{},
		Meta:                 map[string]any{"expectation_suite_name": suiteName},
	}
	done := validateRowMajor(es, b, sr.Results)
	for i, e := range es {
		if !done[i] {
			sr.Results[i] = validateOne(e, b)
		}
		sr.Statistics.EvaluatedExpectations++
		if sr.Results[i].Success {
			sr.Statistics.SuccessfulExpectations++
		} else {
			sr.Statistics.UnsuccessfulExpectations++
			sr.Success = false
		}
	}
	sr.Statistics.SuccessPercent = percent(sr.Statistics.SuccessfulExpectations, sr.Statistics.EvaluatedExpectations)
	return sr
}

// validateRowMajor evaluates the column map row expectations in one pass
// over the rows (each row is read while it is in cache), filling their
// results; done marks them. On a panic nothing is marked, so that each is
// evaluated again on its own with its exception reported.
func validateRowMajor(es []Expectation, b *Batch, results []Result) (done []bool) {
	done = make([]bool, len(es))
	var idx []int
	var staters []stater
	for i, e := range es {
		if s, ok := e.(stater); ok && e.Level() == Row {
			idx = append(idx, i)
			staters = append(staters, s)
		}
	}
	if len(idx) == 0 {
		return done
	}
	defer func() {
		if recover() != nil {
			done = make([]bool, len(es))
		}
	}()
	tallies := make([]tally, len(idx))
	for _, r := range b.Rows {
		for j, s := range staters {
			tallies[j].add(s.state(r))
		}
	}
	for j, i := range idx {
		results[i] = tallies[j].result(es[i].Config(), staters[j].mostlyValue(), staters[j].shape())
		done[i] = true
	}
	return done
}

// validateOne evaluates one expectation, turning a panic into exception_info.
func validateOne(e Expectation, b *Batch) (r Result) {
	defer func() {
		if p := recover(); p != nil {
			r = Result{ExpectationConfig: e.Config(), Result: ResultStats{Shape: ShapeEmpty},
				ExceptionInfo: exception(fmt.Sprint(p))}
		}
	}()
	switch x := e.(type) {
	case SetExpectation:
		return x.Validate(b)
	case RowExpectation:
		return ValidateRow(x, b)
	}
	return Result{ExpectationConfig: e.Config(), Result: ResultStats{Shape: ShapeEmpty},
		ExceptionInfo: exception(fmt.Sprintf("expectation %s cannot be evaluated", e.Config().Type))}
}
