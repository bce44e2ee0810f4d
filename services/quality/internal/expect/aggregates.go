package expect

import (
	"fmt"
	"math/big"
	"sort"
)

// aggregate is expect_column_{min,max,mean,median,sum}_to_be_between.
type aggregate struct {
	base
	fn      string
	b       bounds
	asTimes bool
}

func compileAggregate(fn string) func(Config) (Expectation, error) {
	return func(c Config) (Expectation, error) {
		k := newKwargs(c)
		e := &aggregate{base: newBase(c, k, Set), fn: fn}
		if fn == "min" || fn == "max" {
			e.asTimes = k.boolean("parse_strings_as_datetimes", false)
			k.str("output_strftime_format", false)
		}
		e.b = readBounds(k)
		if err := k.finish(); err != nil {
			return nil, err
		}
		return e, nil
	}
}

// Validate computes the aggregate over the window's non-null values and
// checks it against the bounds; no values means an observed null and failure.
func (e *aggregate) Validate(b *Batch) Result {
	var vals []any
	for _, r := range e.domain(b.Rows) {
		if v := r[e.column]; !isNull(v) {
			vals = append(vals, v)
		}
	}
	res := Result{ExpectationConfig: e.cfg, Result: ResultStats{Shape: ShapeAggregate}}
	if len(vals) == 0 {
		return res
	}
	obs, err := e.compute(vals)
	if err != nil {
		res.ExceptionInfo = exception(err.Error())
		return res
	}
	res.Result.ObservedValue = obs
	res.Success = e.b.within(obs, e.asTimes)
	return res
}

// compute applies the aggregate function.
func (e *aggregate) compute(vals []any) (any, error) {
	switch e.fn {
	case "min", "max":
		best := vals[0]
		for _, v := range vals[1:] {
			c, ok := compareValues(v, best)
			if !ok {
				return nil, fmt.Errorf("column %s: cannot compare %T with %T", e.column, v, best)
			}
			if (e.fn == "min" && c < 0) || (e.fn == "max" && c > 0) {
				best = v
			}
		}
		return best, nil
	}
	nums := make([]num, len(vals))
	for i, v := range vals {
		n, ok := toNum(v)
		if !ok {
			return nil, fmt.Errorf("column %s: %s of non-numeric value %T", e.column, e.fn, v)
		}
		nums[i] = n
	}
	switch e.fn {
	case "sum":
		return sumNums(nums), nil
	case "mean":
		return divNum(sumNums(nums), int64(len(nums))), nil
	}
	sort.SliceStable(nums, func(a, b int) bool { return cmpNum(nums[a], nums[b]) < 0 })
	mid := len(nums) / 2
	if len(nums)%2 == 1 {
		return numValue(nums[mid]), nil
	}
	return divNum(sumNums(nums[mid-1:mid+1]), 2), nil
}

// sumNums adds numbers: integers exactly (falling back to decimals on
// overflow), decimals exactly, anything with a float as float64.
func sumNums(nums []num) any {
	kind := numInt
	for _, n := range nums {
		if n.kind == numFloat {
			kind = numFloat
			break
		}
		if n.kind == numRat {
			kind = numRat
		}
	}
	switch kind {
	case numFloat:
		var s float64
		for _, n := range nums {
			s += n.float()
		}
		return s
	case numInt:
		var s int64
		overflow := false
		for _, n := range nums {
			t := s + n.i
			if (n.i > 0 && t < s) || (n.i < 0 && t > s) {
				overflow = true
				break
			}
			s = t
		}
		if !overflow {
			return s
		}
	}
	s := new(big.Rat)
	for _, n := range nums {
		s.Add(s, n.rat())
	}
	return s
}

// divNum divides a sum by n, exactly unless it is a float.
func divNum(sum any, n int64) any {
	switch s := sum.(type) {
	case float64:
		return s / float64(n)
	case int64:
		return new(big.Rat).SetFrac64(s, n)
	case *big.Rat:
		return new(big.Rat).Quo(s, new(big.Rat).SetInt64(n))
	}
	return nil
}

// numValue returns a num as a row value.
func numValue(n num) any {
	switch n.kind {
	case numInt:
		return n.i
	case numRat:
		return n.r
	}
	return n.f
}

// distinctInSet is expect_column_distinct_values_to_be_in_set.
type distinctInSet struct {
	base
	set valueSet // nil: no value_set, only observe
}

func compileDistinctInSet(c Config) (Expectation, error) {
	k := newKwargs(c)
	e := &distinctInSet{base: newBase(c, k, Set)}
	k.boolean("parse_strings_as_datetimes", false)
	if vals := k.list("value_set", false); vals != nil {
		set, err := newValueSet(vals)
		if err != nil {
			k.fail("value_set", "%v", err)
		}
		e.set = set
	}
	if err := k.finish(); err != nil {
		return nil, err
	}
	return e, nil
}

// Validate observes the sorted distinct values and checks each is in value_set.
func (e *distinctInSet) Validate(b *Batch) Result {
	vals, counts := distinctValues(e.domain(b.Rows), e.column)
	ok := true
	vc := make([]any, len(vals))
	for i, v := range vals {
		if e.set != nil && !e.set.has(v) {
			ok = false
		}
		vc[i] = map[string]any{"value": v, "count": counts[i]}
	}
	return Result{Success: ok, ExpectationConfig: e.cfg, Result: ResultStats{Shape: ShapeAggregate,
		ObservedValue: vals, Details: map[string]any{"value_counts": vc}}}
}

// uniqueValueCount is expect_column_unique_value_count_to_be_between.
type uniqueValueCount struct {
	base
	b bounds
}

func compileUniqueValueCount(c Config) (Expectation, error) {
	k := newKwargs(c)
	e := &uniqueValueCount{base: newBase(c, k, Set)}
	e.b = readBounds(k)
	if err := k.finish(); err != nil {
		return nil, err
	}
	return e, nil
}

// Validate counts distinct non-null values.
func (e *uniqueValueCount) Validate(b *Batch) Result {
	vals, _ := distinctValues(e.domain(b.Rows), e.column)
	n := int64(len(vals))
	return Result{Success: e.b.within(n, false), ExpectationConfig: e.cfg,
		Result: ResultStats{Shape: ShapeAggregate, ObservedValue: n}}
}
