package expect

import (
	"fmt"
	"sort"
)

// factory compiles one expectation type.
type factory func(Config) (Expectation, error)

// RelationshipType is the expectation type dbt relationships tests compile
// to (kwargs column, to_model, field).
const RelationshipType = "dbt_relationships"

// registry returns the supported expectation types.
func registry() map[string]factory {
	r := map[string]factory{
		"expect_column_values_to_not_be_null":              compileNotNull,
		"expect_column_values_to_be_null":                  compileNull,
		"expect_column_values_to_be_unique":                compileUnique,
		"expect_column_values_to_match_regex":              compileMatchRegex(false),
		"expect_column_values_to_not_match_regex":          compileMatchRegex(true),
		"expect_column_values_to_match_regex_list":         compileRegexList(false),
		"expect_column_values_to_not_match_regex_list":     compileRegexList(true),
		"expect_column_values_to_be_in_set":                compileInSet(false),
		"expect_column_values_to_not_be_in_set":            compileInSet(true),
		"expect_column_values_to_be_between":               compileBetween,
		"expect_column_value_lengths_to_be_between":        compileLengthsBetween,
		"expect_column_value_lengths_to_equal":             compileLengthsEqual,
		"expect_column_values_to_be_of_type":               compileTypes(false),
		"expect_column_values_to_be_in_type_list":          compileTypes(true),
		"expect_column_values_to_match_strftime_format":    compileStrftime,
		"expect_column_values_to_be_dateutil_parseable":    compileDateutil,
		"expect_column_values_to_be_json_parseable":        compileJSONParseable,
		"expect_column_values_to_be_increasing":            compileIncreasing,
		"expect_table_row_count_to_be_between":             compileRowCount,
		"expect_column_to_exist":                           compileColumnExists,
		"expect_column_min_to_be_between":                  compileAggregate("min"),
		"expect_column_max_to_be_between":                  compileAggregate("max"),
		"expect_column_mean_to_be_between":                 compileAggregate("mean"),
		"expect_column_median_to_be_between":               compileAggregate("median"),
		"expect_column_sum_to_be_between":                  compileAggregate("sum"),
		"expect_column_distinct_values_to_be_in_set":       compileDistinctInSet,
		"expect_column_unique_value_count_to_be_between":   compileUniqueValueCount,
		"expect_compound_columns_to_be_unique":             compileCompoundUnique,
		"expect_column_pair_values_a_to_be_greater_than_b": compilePairGreater,
		"expect_column_pair_values_A_to_be_greater_than_B": compilePairGreater,
		RelationshipType:                                   compileRelationship,
	}
	for name, valid := range brazilValidators() {
		r[name] = compileBrazil(valid)
	}
	return r
}

// Types returns the supported expectation types, sorted.
func Types() []string {
	r := registry()
	out := make([]string, 0, len(r))
	for name := range r {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// Compile checks c's kwargs and builds its evaluator. Errors are
// *ConfigError values wrapping ErrUnknownExpectation or ErrKwarg.
func Compile(c Config) (Expectation, error) {
	f, ok := registry()[c.Type]
	if !ok {
		return nil, &ConfigError{Source: c.Source, Type: c.Type,
			Err: fmt.Errorf("%w (supported: see expect.Types)", ErrUnknownExpectation)}
	}
	return f(c)
}
