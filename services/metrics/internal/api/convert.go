package api

import (
	"fmt"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
	"github.com/riacho/riacho/services/metrics/internal/metricdef"
	"github.com/riacho/riacho/services/metrics/internal/query"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// toRequest converts the API request into the compiler's request.
func toRequest(r *metricsv1.QueryRequest) query.Request {
	q := query.Request{
		Metrics:    r.GetMetrics(),
		Grain:      r.GetGrain(),
		Dimensions: r.GetDimensions(),
		Limit:      int(r.GetLimit()),
	}
	if r.GetStart() != nil {
		q.Start = r.GetStart().AsTime()
	}
	if r.GetEnd() != nil {
		q.End = r.GetEnd().AsTime()
	}
	for _, f := range r.GetFilters() {
		q.Filters = append(q.Filters, query.Filter{Field: f.GetField(), Operator: f.GetOperator(), Values: f.GetValues()})
	}
	for _, o := range r.GetOrder() {
		q.Order = append(q.Order, query.Order{Field: o.GetField(), Desc: o.GetDesc()})
	}
	for _, s := range r.GetSecondaryCalculations() {
		q.Secondary = append(q.Secondary, query.Secondary{
			Calculation: s.GetCalculation(), ComparisonStrategy: s.GetComparisonStrategy(),
			Interval: int(s.GetInterval()), Aggregate: s.GetAggregate(), Period: s.GetPeriod(),
			Alias: s.GetAlias(), Metrics: s.GetMetrics(),
		})
	}
	return q
}

// toMetric converts a loaded definition for the API.
func toMetric(m metricdef.Metric, deps []string) *metricsv1.Metric {
	out := &metricsv1.Metric{
		Name: m.Name, Label: m.Label, Description: m.Description, Model: m.Model,
		CalculationMethod: m.CalculationMethod, Expression: m.Expression, Timestamp: m.Timestamp,
		TimeGrains: m.TimeGrains, Dimensions: m.Dimensions, DependsOn: deps,
		Source: fmt.Sprintf("%s:%d", m.File, m.Line),
	}
	for _, f := range m.Filters {
		out.Filters = append(out.Filters, &metricsv1.MetricFilter{Field: f.Field, Operator: f.Operator, Value: f.Value})
	}
	if m.Window != nil {
		out.Window = &metricsv1.Window{Count: int32(m.Window.Count), Period: m.Window.Period} //nolint:gosec // small counts
	}
	if len(m.Meta) > 0 {
		if st, err := structpb.NewStruct(jsonable(m.Meta).(map[string]any)); err == nil {
			out.Meta = st
		}
	}
	return out
}

// jsonable turns YAML-decoded values into what structpb accepts.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = jsonable(e)
		}
		return out
	case map[any]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[fmt.Sprint(k)] = jsonable(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonable(e)
		}
		return out
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case uint64:
		return float64(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case nil, bool, string, float64:
		return x
	default:
		return fmt.Sprint(x)
	}
}

// toValue converts one normalized query value.
func toValue(v query.Value, typ string) *metricsv1.Value {
	switch x := v.(type) {
	case nil:
		return &metricsv1.Value{Kind: &metricsv1.Value_Null{Null: true}}
	case bool:
		return &metricsv1.Value{Kind: &metricsv1.Value_Bool{Bool: x}}
	case int64:
		return &metricsv1.Value{Kind: &metricsv1.Value_Int{Int: x}}
	case float64:
		return &metricsv1.Value{Kind: &metricsv1.Value_Float{Float: x}}
	case time.Time:
		return &metricsv1.Value{Kind: &metricsv1.Value_Time{Time: timestamppb.New(x)}}
	case string:
		if isDecimalType(typ) {
			return &metricsv1.Value{Kind: &metricsv1.Value_Decimal{Decimal: x}}
		}
		return &metricsv1.Value{Kind: &metricsv1.Value_Text{Text: x}}
	default:
		return &metricsv1.Value{Kind: &metricsv1.Value_Text{Text: fmt.Sprint(x)}}
	}
}

func isDecimalType(typ string) bool {
	t := strings.ToLower(typ)
	return strings.HasPrefix(t, "numeric") || strings.HasPrefix(t, "decimal")
}

func toColumns(cols []query.Column) []*metricsv1.Column {
	out := make([]*metricsv1.Column, len(cols))
	for i, c := range cols {
		out[i] = &metricsv1.Column{Name: c.Name, Role: c.Role, Type: c.Type}
	}
	return out
}

func toFreshness(models []string, fr map[string]warehouse.Freshness) []*metricsv1.Freshness {
	out := make([]*metricsv1.Freshness, 0, len(models))
	for _, m := range models {
		f := &metricsv1.Freshness{Model: m}
		if v, ok := fr[m]; ok {
			if !v.MaxEventTime.IsZero() {
				f.NewestEventTime = timestamppb.New(v.MaxEventTime)
			}
			if !v.LoadedAt.IsZero() {
				f.LoadedAt = timestamppb.New(v.LoadedAt)
			}
		}
		out = append(out, f)
	}
	return out
}
