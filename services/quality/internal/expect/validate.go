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
		Results:              make([]Result, 0, len(es)),
		EvaluationParameters: map[string]any{},
		Meta:                 map[string]any{"expectation_suite_name": suiteName},
	}
	for _, e := range es {
		r := validateOne(e, b)
		sr.Results = append(sr.Results, r)
		sr.Statistics.EvaluatedExpectations++
		if r.Success {
			sr.Statistics.SuccessfulExpectations++
		} else {
			sr.Statistics.UnsuccessfulExpectations++
			sr.Success = false
		}
	}
	sr.Statistics.SuccessPercent = percent(sr.Statistics.SuccessfulExpectations, sr.Statistics.EvaluatedExpectations)
	return sr
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
