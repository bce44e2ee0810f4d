// Package project loads a dbt-style project of SQL models for the transform
// service, in pure Go: no dbt, no Python, no database.
//
// # Layout
//
// dbt_project.yml is optional (name, version, config-version, profile,
// model-paths (default [models]), vars, and a models: tree of +key configs
// per folder or model; other standard dbt keys are accepted and ignored).
// Under each model path, every *.sql file is a model named after the file,
// and every *.yml / *.yaml file is a schema file (version, sources, models;
// metrics, exposures, semantic_models, seeds, snapshots, macros and the
// like are accepted and ignored). Unknown keys anywhere riacho reads are
// errors, with the file, line and column of the key.
//
// # Templates
//
// Model files are Jinja, restricted to what a streaming query needs:
//
//	{{ expr }}   {% if %} {% elif %} {% else %} {% endif %}   {% set x = expr %}   {# comment #}
//
// with whitespace control ({%- -%}, {{- -}}, {#- -#}) and no trim_blocks
// or lstrip_blocks. Unlike Jinja's default, the file's final newline is
// kept: text outside tags compiles byte for byte. Expressions
// have string, integer, float, True/true, False/false and None/none
// literals, lists and dicts, names set by {% set %}, target.name, the
// operators == != < > <= >= (chained), in, not in, and, or, not, ~ (text
// concatenation), + and - (numbers, also text and lists for +), unary
// minus, and parentheses; and the functions
//
//	ref('model') ref('project', 'model') source('source', 'table')
//	var('name'[, default]) env_var('NAME'[, default]) config(key=value, ...)
//	is_incremental()
//
// is_incremental() is always false: every micro-batch is new data. ref()
// and source() render as the quoted table the executor loads the input as:
// "src__<source>__<table>" for a source (also when reached through its
// meta.riacho.alias) and "ref__<model>" for a model, except that a ref to
// an ephemeral model renders as __dbt__cte__<model> and the model is
// inlined as a CTE, merged into a leading WITH as dbt does. config()
// renders as "".
//
// Anything else is a load error at its line and column: filters, tests
// (is ...), conditional expressions, subscripts, attribute access other
// than target.name, * / // % **, tuples, macros, {{ this }}, {% for %}
// and every other tag, unknown functions (checked even in branches not
// taken), undefined names, and var() without a value or default.
//
// # Configuration
//
// Precedence, lowest first: the models: tree of dbt_project.yml (outer
// folders, then inner ones, then a key for the model itself), the model's
// config: in a schema file, then config() in the model file. Tags add up;
// masking and riacho options merge per key; other keys replace.
// Supported keys are materialized, unique_key, masking, enabled, tags and
// riacho (max_records, linger, dedupe_window, version_column, topic,
// partitions); common dbt keys (schema, database, docs, meta, grants, ...)
// are accepted and ignored; alias, hooks and sql_header are refused.
//
// Disabled models stay in Project.Models with Config.Enabled false, but
// leave Project.Order, and a ref to one is an error.
package project
