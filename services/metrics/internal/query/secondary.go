package query

import (
	"fmt"
	"slices"
	"strings"

	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

var (
	calculations = []string{"period_over_period", "rolling", "period_to_date", "prior"}
	aggregates   = []string{"sum", "average", "min", "max", "count"}
	grainRank    = map[string]int{"day": 1, "week": 2, "month": 3, "quarter": 4, "year": 5}
)

const maxInterval = 10000

// resolveSecondary checks the secondary calculations and adds their columns.
func (c *Compiler) resolveSecondary(r *resolved, secs []Secondary) error {
	for i, s := range secs {
		where := fmt.Sprintf("secondary calculation %d (%s)", i+1, s.Calculation)
		if !slices.Contains(calculations, s.Calculation) {
			return invalid("%s: unknown calculation (calculations: %s)", where, strings.Join(calculations, ", "))
		}
		if r.grain == "all_time" {
			return invalid("%s: needs a time grain, not all_time", where)
		}
		if s.Interval < 0 || s.Interval > maxInterval {
			return invalid("%s: interval %d is outside 0..%d", where, s.Interval, maxInterval)
		}
		if s.Alias != "" && !identRe.MatchString(s.Alias) {
			return invalid("%s: alias %q must be letters, digits and _ (not starting with a digit)", where, s.Alias)
		}
		switch s.Calculation {
		case "period_over_period", "prior":
			if s.Aggregate != "" || s.Period != "" {
				return invalid("%s: aggregate and period do not apply", where)
			}
			if s.Calculation == "prior" && s.ComparisonStrategy != "" {
				return invalid("%s: comparison_strategy does not apply", where)
			}
			if s.Calculation == "period_over_period" && s.ComparisonStrategy != "ratio" && s.ComparisonStrategy != "difference" {
				return invalid("%s: comparison_strategy %q is not ratio or difference", where, s.ComparisonStrategy)
			}
			if s.Interval == 0 {
				s.Interval = 1
			}
		case "rolling", "period_to_date":
			if s.ComparisonStrategy != "" {
				return invalid("%s: comparison_strategy does not apply", where)
			}
			if !slices.Contains(aggregates, s.Aggregate) {
				return invalid("%s: aggregate %q is not one of %s", where, s.Aggregate, strings.Join(aggregates, ", "))
			}
			if s.Calculation == "period_to_date" {
				if s.Interval != 0 {
					return invalid("%s: interval does not apply", where)
				}
				if grainRank[s.Period] == 0 {
					return invalid("%s: period %q is not one of day, week, month, quarter, year", where, s.Period)
				}
				if grainRank[s.Period] <= grainRank[r.grain] {
					return invalid("%s: period %s must be coarser than the grain %s", where, s.Period, r.grain)
				}
			} else if s.Period != "" {
				return invalid("%s: period does not apply", where)
			}
		}
		ms := s.Metrics
		if len(ms) == 0 {
			ms = r.metrics
		}
		for _, m := range ms {
			if !slices.Contains(r.metrics, m) {
				return invalid("%s: metric %q is not among the requested metrics (%s)", where, m, strings.Join(r.metrics, ", "))
			}
			typ, err := c.secondaryType(s, m)
			if err != nil {
				return invalid("%s on %s: %v", where, m, err)
			}
			name := defaultAlias(s, m, r.grain)
			if s.Alias != "" {
				name = s.Alias
				if len(ms) > 1 {
					name = m + "_" + s.Alias
				}
			}
			r.secs = append(r.secs, secCol{name: name, metric: m, s: s, typ: typ})
			r.columns = append(r.columns, Column{Name: name, Role: "secondary", Type: typ.String()})
		}
	}
	return nil
}

// secondaryType is the type of a secondary calculation over metric m.
func (c *Compiler) secondaryType(s Secondary, m string) (warehouse.Type, error) {
	t := c.typeOf(m)
	numeric := t.Base == "bigint" || t.Base == "integer" || t.Base == "double" || t.Base == "numeric"
	agg := s.Aggregate
	switch {
	case s.Calculation == "prior":
		return t, nil
	case s.Calculation == "period_over_period" && s.ComparisonStrategy == "ratio":
		if !numeric {
			return t, fmt.Errorf("ratio needs a numeric metric; it is %s", t)
		}
		return warehouse.Type{Base: "double"}, nil
	case s.Calculation == "period_over_period":
		agg = "sum" // a difference keeps the metric's type like a sum does
	}
	switch agg {
	case "count":
		return warehouse.Type{Base: "bigint"}, nil
	case "average":
		if !numeric {
			return t, fmt.Errorf("average needs a numeric metric; it is %s", t)
		}
		return warehouse.Type{Base: "double"}, nil
	case "sum":
		switch t.Base {
		case "bigint", "integer":
			return warehouse.Type{Base: "bigint"}, nil
		case "numeric":
			return warehouse.Type{Base: "numeric", Precision: 38, Scale: t.Scale}, nil
		case "double":
			return t, nil
		}
		return t, fmt.Errorf("%s needs a numeric metric; it is %s", s.Calculation, t)
	}
	return t, nil // min, max
}

// defaultAlias names a secondary calculation like dbt_metrics does.
func defaultAlias(s Secondary, m, grain string) string {
	switch s.Calculation {
	case "period_over_period":
		return fmt.Sprintf("%s_%s_to_%d_%s_ago", m, s.ComparisonStrategy, s.Interval, grain)
	case "rolling":
		if s.Interval == 0 {
			return fmt.Sprintf("%s_rolling_%s", m, s.Aggregate)
		}
		return fmt.Sprintf("%s_rolling_%s_%d_%s", m, s.Aggregate, s.Interval, grain)
	case "period_to_date":
		return fmt.Sprintf("%s_%s_for_%s", m, s.Aggregate, s.Period)
	}
	return fmt.Sprintf("%s_%d_%s_prior", m, s.Interval, grain)
}
