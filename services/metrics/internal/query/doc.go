// Package query compiles dbt metric requests (metrics, grain, dimensions,
// filters, secondary calculations) into one SQL statement that runs
// unchanged on PostgreSQL and DuckDB, executes it streaming normalized rows,
// and keeps the optional rollup tables declared for frequent KPIs.
//
// Semantics, following dbt_metrics where it defined them:
//
//   - A base metric selects from its model (the fact table named by
//     ref('model')), applies the metric's filters ANDed with the request's
//     filters and the [Start, End) range on the metric timestamp, and groups
//     by CAST(date_trunc(grain, timestamp) AS date) (the "period"; weeks start
//     on Monday, periods are cut in UTC) and the requested dimensions.
//     Grain "" or all_time groups by the dimensions only and has no period.
//   - With a time grain the answer runs over a calendar spine: every period
//     from the first to the last one holding rows (or from the period of
//     Start to the period of End when given) for every combination of
//     dimension values seen, so secondary calculations see every period.
//     A period without rows is what SQL aggregates say of an empty set:
//     count and count_distinct are 0; sum, average, median, min and max are
//     NULL (dbt_metrics' treat_null_values_as_zero is not applied).
//   - Derived metrics evaluate their expression per period×dimensions over
//     the base metrics cast to double precision (so integer division and
//     decimal division behave alike on both engines); the result is double.
//     Base metrics over several models are combined like a full outer join
//     on period and dimensions. Division by zero is an error on PostgreSQL
//     and NULL on DuckDB: write nullif(x, 0) as dbt's examples do.
//   - Secondary calculations are window functions partitioned by the
//     dimensions and ordered by period: period_over_period (ratio =
//     cur / NULLIF(prev, 0) as double, difference = cur - prev), rolling
//     (aggregate over the last Interval periods including the current; 0 =
//     all earlier periods), period_to_date (aggregate since the start of
//     Period) and prior (the value Interval periods back). Windows see only
//     the rows in [Start, End). Default column names follow dbt_metrics:
//     mrr_ratio_to_1_month_ago, mrr_difference_to_1_month_ago,
//     mrr_rolling_sum_3_month (mrr_rolling_sum when unbounded),
//     mrr_sum_for_year, mrr_1_month_prior. An Alias names the column when the
//     calculation applies to one metric, <metric>_<alias> when to several.
//
// Results are identical on both engines (tested): counts are bigint; sums of
// integers are bigint, sums of numeric(p,s) are numeric(38,s) rendered as
// canonical decimal text with s digits; min and max keep the column type;
// averages are CAST(sum AS double)/count (the sum is exact, so both engines
// divide the same two doubles); median is percentile_cont(0.5) over double;
// every float64 is finally rounded to 12 significant digits, which absorbs
// last-bit differences in derived expressions and double-column sums. Text
// sorts bytewise (COLLATE "C" on PostgreSQL, DuckDB's default).
//
// A metric expression that is not a bare column (or * for count) is SQL
// written by the metric's author, evaluated over the fact table's columns,
// and treated as double precision. Metric filter values are SQL literals as
// dbt wrote them ('text', numbers, true/false, null, ('a','b') lists); they
// and every request value are bound as parameters cast to the column's type.
// Identifiers come only from the metric files and the warehouse schema, are
// validated and quoted; request strings select among them and never reach
// the SQL text. Metric windows (window: {count, period}) are not supported.
package query
