// Package expect compiles Great Expectations expectation configurations
// into evaluators over riacho row values and reports results in GE's
// ExpectationValidationResult and suite validation-result JSON shapes.
//
// Row values are map[string]any holding nil, string, bool, int64, float64,
// *big.Rat (decimals), time.Time (UTC; dates at midnight UTC) or []byte. A
// missing column, a nil value and a float NaN are all null.
//
// Levels. Row expectations (RowExpectation) decide each record on its own:
// the gate routes a record that fails any of them to quarantine. Set
// expectations (unique, increasing, aggregates, distinct sets, compound
// uniqueness, dbt relationships) need a window of records and Table
// expectations (row count, column existence) look at the window as a whole;
// both implement SetExpectation.
//
// Semantics follow GE:
//   - value expectations ignore nulls, which are counted in missing_count;
//     expect_column_values_to_not_be_null and _to_be_null count them instead;
//   - unexpected_percent is over non-null values and mostly passes when
//     (non-null − unexpected)/non-null ≥ mostly; with no non-null value the
//     expectation is vacuously met;
//   - min_value/max_value bounds are inclusive unless strict_min/strict_max;
//   - row_condition (with condition_parser pandas, great_expectations, spark
//     or sql) restricts the domain: rows where it is false are neither
//     counted nor checked;
//   - partial_unexpected_list holds the first 20 unexpected values.
//
// Per-record gate semantics (a deliberate choice): Check ignores mostly. A
// record whose value breaks a row expectation fails its own check even when
// the expectation has mostly < 1; mostly is applied by ValidateRow to the
// window, whose Result is what quality.results reports.
//
// Deviations from GE, all deliberate:
//   - values a check cannot handle (a string against numeric bounds, a
//     number given to a length, strftime, dateutil, JSON or Brazilian check)
//     are unexpected instead of raising an exception for the whole batch;
//     regexes still see numbers as text, as pandas' astype(str) does;
//   - numbers compare by value across int64, float64 and decimals (1, 1.0
//     and decimal 1 are one value); float bounds are read as the decimal the
//     suite author wrote, so decimal 0.1 equals a 0.1 bound exactly;
//   - in value sets, a string that reads as an ISO date also matches the
//     equal time value;
//   - regexes use Go's RE2 syntax (Python's \Z is accepted; look-arounds and
//     back-references are load errors); patterns asserting only ^ and $ run
//     on a precompiled DFA that does not allocate;
//   - expect_column_values_to_be_dateutil_parseable approximates
//     dateutil.parser.parse without fuzzy matching;
//   - row_condition supports comparisons, and/or/not (also &, |, ~),
//     in/not in lists, isnull()/notnull(), IS [NOT] NULL and col("x"); SQL
//     conditions (spark, sql, dbt where) use three-valued logic, pandas ones
//     treat comparisons with null as false (but != as true).
package expect
