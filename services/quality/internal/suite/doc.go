// Package suite loads expectation suites: Great Expectations suite files in
// JSON or YAML (0.18's expectation_suite_name/expectation_type and GX 1.x's
// name/type) and dbt schema.yml generic tests (not_null, unique,
// accepted_values, relationships, plus dbt_utils and dbt_expectations
// equivalents), compiling every expectation with package expect.
//
// Files are parsed strictly: unknown keys (other than GE's own
// bookkeeping keys) and unknown expectations or kwargs are errors of the
// form "file:line: suite <name>: expectation #<n> <type>: <problem>", n
// counting from 1 within the suite (or the dbt model).
package suite
