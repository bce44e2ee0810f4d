package expect

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"math/big"
	"time"
	"unicode/utf8"
)

// partialLimit is how many unexpected values a result lists, as GE's SUMMARY format.
const partialLimit = 20

// Shape selects which GE result fields a ResultStats reports.
type Shape int

const (
	// ShapeMap is a column map result with missing counts (value expectations).
	ShapeMap Shape = iota
	// ShapeNullMap is a column map result about nulls, without missing counts.
	ShapeNullMap
	// ShapeAggregate reports observed_value (and details).
	ShapeAggregate
	// ShapeEmpty reports an empty result object, as expect_column_to_exist.
	ShapeEmpty
)

// ResultStats is GE's "result" object; MarshalJSON writes the fields GE
// writes for the Shape.
type ResultStats struct {
	Shape                       Shape
	ElementCount                int
	MissingCount                int
	UnexpectedCount             int
	MissingPercent              *float64 // nil when element_count is 0
	UnexpectedPercent           *float64 // over non-null values; nil when there are none
	UnexpectedPercentTotal      *float64 // over element_count
	UnexpectedPercentNonmissing *float64 // same as UnexpectedPercent
	PartialUnexpectedList       []any    // first 20 unexpected values
	ObservedValue               any
	Details                     map[string]any
}

// MarshalJSON writes the GE field names for the stats' shape.
func (s ResultStats) MarshalJSON() ([]byte, error) {
	partial := make([]any, len(s.PartialUnexpectedList))
	for i, v := range s.PartialUnexpectedList {
		partial[i] = jsonValue(v)
	}
	switch s.Shape {
	case ShapeAggregate:
		return json.Marshal(struct {
			ObservedValue any            `json:"observed_value"`
			Details       map[string]any `json:"details,omitempty"`
		}{jsonValue(s.ObservedValue), jsonMap(s.Details)})
	case ShapeEmpty:
		return []byte("{}"), nil
	case ShapeNullMap:
		return json.Marshal(struct {
			ElementCount           int      `json:"element_count"`
			UnexpectedCount        int      `json:"unexpected_count"`
			UnexpectedPercent      *float64 `json:"unexpected_percent"`
			PartialUnexpectedList  []any    `json:"partial_unexpected_list"`
			UnexpectedPercentTotal *float64 `json:"unexpected_percent_total"`
		}{s.ElementCount, s.UnexpectedCount, s.UnexpectedPercent, partial, s.UnexpectedPercentTotal})
	}
	return json.Marshal(struct {
		ElementCount                int            `json:"element_count"`
		UnexpectedCount             int            `json:"unexpected_count"`
		UnexpectedPercent           *float64       `json:"unexpected_percent"`
		PartialUnexpectedList       []any          `json:"partial_unexpected_list"`
		MissingCount                int            `json:"missing_count"`
		MissingPercent              *float64       `json:"missing_percent"`
		UnexpectedPercentTotal      *float64       `json:"unexpected_percent_total"`
		UnexpectedPercentNonmissing *float64       `json:"unexpected_percent_nonmissing"`
		Details                     map[string]any `json:"details,omitempty"`
	}{s.ElementCount, s.UnexpectedCount, s.UnexpectedPercent, partial, s.MissingCount, s.MissingPercent,
		s.UnexpectedPercentTotal, s.UnexpectedPercentNonmissing, jsonMap(s.Details)})
}

// ExceptionInfo is GE's exception_info: set when evaluating raised an error.
type ExceptionInfo struct {
	RaisedException    bool    `json:"raised_exception"`
	ExceptionTraceback *string `json:"exception_traceback"`
	ExceptionMessage   *string `json:"exception_message"`
}

// exception builds an ExceptionInfo carrying msg.
func exception(msg string) *ExceptionInfo {
	return &ExceptionInfo{RaisedException: true, ExceptionMessage: &msg}
}

// Result mirrors GE's ExpectationValidationResult.
type Result struct {
	Success           bool           `json:"success"`
	ExpectationConfig Config         `json:"expectation_config"`
	Result            ResultStats    `json:"result"`
	Meta              map[string]any `json:"meta"`
	ExceptionInfo     *ExceptionInfo `json:"exception_info"`
}

// MarshalJSON writes the result with GE's keys; a nil ExceptionInfo is
// written as GE's "nothing raised" object.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result
	p := plain(r)
	if p.ExceptionInfo == nil {
		p.ExceptionInfo = &ExceptionInfo{}
	}
	if p.Meta == nil {
		p.Meta = map[string]any{}
	}
	p.Meta = jsonMap(p.Meta)
	return json.Marshal(p)
}

// MarshalJSON writes the configuration as GE 0.18's expectation_config.
func (c Config) MarshalJSON() ([]byte, error) {
	kw, meta := jsonMap(c.Kwargs), jsonMap(c.Meta)
	if kw == nil {
		kw = map[string]any{}
	}
	if meta == nil {
		meta = map[string]any{}
	}
	return json.Marshal(struct {
		Type   string         `json:"expectation_type"`
		Kwargs map[string]any `json:"kwargs"`
		Meta   map[string]any `json:"meta"`
	}{c.Type, kw, meta})
}

// Statistics is GE's validation-result statistics object.
type Statistics struct {
	EvaluatedExpectations    int      `json:"evaluated_expectations"`
	SuccessfulExpectations   int      `json:"successful_expectations"`
	UnsuccessfulExpectations int      `json:"unsuccessful_expectations"`
	SuccessPercent           *float64 `json:"success_percent"`
}

// SuiteResult mirrors GE's ExpectationSuiteValidationResult.
type SuiteResult struct {
	Success              bool           `json:"success"`
	Results              []Result       `json:"results"`
	EvaluationParameters map[string]any `json:"evaluation_parameters"`
	Statistics           Statistics     `json:"statistics"`
	Meta                 map[string]any `json:"meta"`
}

// percent returns part/whole*100, or nil when whole is 0.
func percent(part, whole int) *float64 {
	if whole == 0 {
		return nil
	}
	p := float64(part) / float64(whole) * 100
	return &p
}

// jsonMap returns m with every value made JSON-encodable.
func jsonMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = jsonValue(v)
	}
	return out
}

// jsonValue converts row values to what GE would write: NaN and infinities
// become null, decimals exact numbers, times RFC 3339 strings.
func jsonValue(v any) any {
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
	case float32:
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil
		}
	case *big.Rat:
		if x == nil {
			return nil
		}
		return ratJSON(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []byte:
		if utf8.Valid(x) {
			return string(x)
		}
		return base64.StdEncoding.EncodeToString(x)
	case map[string]any:
		return jsonMap(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	}
	return v
}

// ratJSON writes a decimal exactly when its expansion terminates.
func ratJSON(r *big.Rat) any {
	d := new(big.Int).Set(r.Denom())
	two, five, zero := big.NewInt(2), big.NewInt(5), big.NewInt(0)
	var twos, fives int
	m := new(big.Int)
	for d.Cmp(big.NewInt(1)) > 0 && twos < 400 {
		if m.Mod(d, two); m.Cmp(zero) == 0 {
			d.Quo(d, two)
			twos++
			continue
		}
		if m.Mod(d, five); m.Cmp(zero) == 0 {
			d.Quo(d, five)
			fives++
			continue
		}
		break
	}
	if d.Cmp(big.NewInt(1)) == 0 {
		return json.Number(r.FloatString(max(twos, fives)))
	}
	f, _ := r.Float64()
	return f
}
