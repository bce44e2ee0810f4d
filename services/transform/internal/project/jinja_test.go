package project

import (
	"errors"
	"strings"
	"testing"
)

// fixedHooks answers templates without a project: every ref and source
// exists, vars and env come from maps.
type fixedHooks struct {
	vars    map[string]any
	env     map[string]string
	target  string
	configs []configArg
	refs    []string
}

func (h *fixedHooks) ref(pkg, name string, _ pos) (any, error) {
	h.refs = append(h.refs, name)
	return relValue{`"ref__` + name + `"`}, nil
}

func (h *fixedHooks) source(src, table string, _ pos) (any, error) {
	h.refs = append(h.refs, src+"."+table)
	return relValue{`"src__` + src + "__" + table + `"`}, nil
}

func (h *fixedHooks) config(args []configArg) error {
	h.configs = append(h.configs, args...)
	return nil
}

func (h *fixedHooks) varValue(name string) (any, bool, error) {
	v, ok := h.vars[name]
	if !ok {
		return nil, false, nil
	}
	v, err := fromGo(v)
	return v, err == nil, err
}

func (h *fixedHooks) envValue(name string) (string, bool) {
	v, ok := h.env[name]
	return v, ok
}

func (h *fixedHooks) targetName() string { return h.target }

func newHooks() *fixedHooks {
	return &fixedHooks{
		vars:   map[string]any{"n": 3, "name": "ana", "list": []string{"a", "b"}, "flag": true},
		env:    map[string]string{"HOME_DIR": "/home/ana"},
		target: "prod",
	}
}

func renderString(src string, h hooks) (string, error) {
	t, err := parseTemplate(src)
	if err != nil {
		return "", err
	}
	return t.render(h)
}

func TestRender(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"plain text", "SELECT 1\n", "SELECT 1\n"},
		{"braces that are not tags", "SELECT '{', '}' , '{ {' FROM t", "SELECT '{', '}' , '{ {' FROM t"},
		{"lone braces end", "x {", "x {"},
		{"string single", "{{ 'a b' }}", "a b"},
		{"string double", `{{ "it's" }}`, "it's"},
		{"string escapes", `{{ 'a\'b\\c\nd' }}`, "a'b\\c\nd"},
		{"string unknown escape kept", `{{ 'a\db' }}`, `a\db`},
		{"adjacent strings", `{{ 'a' "b" }}`, "ab"},
		{"string with closing braces", "{{ 'x }} y' }}", "x }} y"},
		{"int", "{{ 42 }}", "42"},
		{"negative int", "{{ -42 }}", "-42"},
		{"float", "{{ 1.5 }}", "1.5"},
		{"float whole", "{{ 2.0 }}", "2.0"},
		{"float exponent", "{{ 1e3 }}", "1000.0"},
		{"float big", "{{ 1e20 }}", "1e+20"},
		{"float small", "{{ 0.00001 }}", "1e-05"},
		{"True", "{{ True }}", "True"},
		{"true", "{{ true }}", "True"},
		{"False", "{{ False }}", "False"},
		{"false", "{{ false }}", "False"},
		{"None", "{{ None }}", "None"},
		{"none", "{{ none }}", "None"},
		{"list", "{{ [1, 'a', None, True, 1.5] }}", "[1, 'a', None, True, 1.5]"},
		{"list trailing comma", "{{ [1, 2,] }}", "[1, 2]"},
		{"empty list", "{{ [] }}", "[]"},
		{"nested list", "{{ [[1], []] }}", "[[1], []]"},
		{"dict", "{{ {'a': 1, 'b': [2]} }}", "{'a': 1, 'b': [2]}"},
		{"dict nested braces", "{{ {'a': {'b': 1}} }}", "{'a': {'b': 1}}"},
		{"dict repeated key", "{{ {'a': 1, 'a': 2} }}", "{'a': 2}"},
		{"dict int key", "{{ {1: 'x'} }}", "{1: 'x'}"},
		{"repr quotes", `{{ ["it's", 'a"b', 'n\n'] }}`, `["it's", 'a"b', 'n\n']`},
		{"set", "{% set x = 'v' %}{{ x }}", "v"},
		{"set overwrite", "{% set x = 1 %}{% set x = x + 1 %}{{ x }}", "2"},
		{"set in if leaks like jinja", "{% if true %}{% set x = 1 %}{% endif %}{{ x }}", "1"},
		{"if true", "{% if true %}yes{% endif %}", "yes"},
		{"if false", "{% if false %}yes{% endif %}", ""},
		{"if else", "{% if 0 %}a{% else %}b{% endif %}", "b"},
		{"elif", "{% if 1 == 2 %}a{% elif 2 == 2 %}b{% else %}c{% endif %}", "b"},
		{"elif chain else", "{% if 0 %}a{% elif '' %}b{% elif [] %}c{% else %}d{% endif %}", "d"},
		{"nested if", "{% if 1 %}{% if 0 %}a{% else %}b{% endif %}{% endif %}", "b"},
		{"comment", "a{# hidden {{ x }} #}b", "ab"},
		{"comment multiline", "a{# one\ntwo #}b", "ab"},
		{"lstrip block", "a  \n {%- if true %}b{% endif %}", "ab"},
		{"rstrip block", "{% if true -%}\n   b{% endif %}", "b"},
		{"strip both", "a\n{%- set x = 1 -%}\nb", "ab"},
		{"strip output", "a {{- 'x' -}} b", "axb"},
		{"strip comment", "a \n{#- c -#}\n b", "ab"},
		{"no strip keeps", "a\n{% set x = 1 %}\nb", "a\n\nb"},
		{"var", "{{ var('name') }}", "ana"},
		{"var default unused", "{{ var('name', 'x') }}", "ana"},
		{"var default", "{{ var('missing', 'dflt') }}", "dflt"},
		{"var default none", "{{ var('missing', none) }}", "None"},
		{"var list", "{{ var('list') }}", "['a', 'b']"},
		{"var int math", "{{ var('n') + 1 }}", "4"},
		{"env_var", "{{ env_var('HOME_DIR') }}", "/home/ana"},
		{"env_var default", "{{ env_var('NOPE', 'd') }}", "d"},
		{"env_var default unused", "{{ env_var('HOME_DIR', 'd') }}", "/home/ana"},
		{"target.name", "{{ target.name }}", "prod"},
		{"target compare", "{% if target.name == 'prod' %}p{% else %}d{% endif %}", "p"},
		{"is_incremental", "{% if is_incremental() %}WHERE x > 1{% endif %}done", "done"},
		{"is_incremental value", "{{ is_incremental() }}", "False"},
		{"config renders empty", "a{{ config(materialized='table') }}b", "ab"},
		{"ref", "{{ ref('m') }}", `"ref__m"`},
		{"ref with package", "{{ ref('proj', 'm') }}", `"ref__m"`},
		{"source", "{{ source('s', 't') }}", `"src__s__t"`},
		{"ref in set", "{% set r = ref('m') %}FROM {{ r }}", `FROM "ref__m"`},
		{"ref concat", "{{ ref('m') ~ ' AS x' }}", `"ref__m" AS x`},
		{"eq", "{{ 1 == 1 }} {{ 1 == 2 }} {{ 'a' == 'a' }} {{ 1 == 1.0 }} {{ 1 == '1' }}", "True False True True False"},
		{"ne", "{{ 1 != 2 }} {{ None != None }}", "True False"},
		{"lt gt", "{{ 1 < 2 }} {{ 2 > 1 }} {{ 2 <= 2 }} {{ 3 >= 4 }} {{ 'a' < 'b' }}", "True True True False True"},
		{"chained compare", "{{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }}", "True False"},
		{"and or values", "{{ 0 or 'x' }} {{ 1 and 'y' }} {{ '' and 'z' }} {{ None or None }}", "x y  None"},
		{"and short circuit", "{{ false and var('nope') }}", "False"},
		{"or short circuit", "{{ true or var('nope') }}", "True"},
		{"not", "{{ not 0 }} {{ not 'a' }} {{ not not [] }}", "True False False"},
		{"in", "{{ 'a' in 'cat' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 in [1] }}", "True True True False"},
		{"not in", "{{ 3 not in [1, 2] }} {{ 'a' not in 'a' }}", "True False"},
		{"tilde", "{{ 'a' ~ 1 ~ None ~ True }}", "a1NoneTrue"},
		{"plus minus", "{{ 1 + 2 - 4 }} {{ 1.5 + 1 }} {{ 'a' + 'b' }} {{ [1] + [2] }}", "-1 2.5 ab [1, 2]"},
		{"bool arithmetic", "{{ True + 1 }}", "2"},
		{"unary plus", "{{ +1 }} {{ -(-2) }} {{ -1.5 }}", "1 2 -1.5"},
		{"parentheses", "{{ (1 + 2) == 3 and (not false) }}", "True"},
		{"precedence not over compare", "{{ not 1 == 2 }}", "True"},
		{"precedence and over or", "{{ 1 or 0 and 0 }}", "1"},
		{"precedence tilde over plus", "{{ 'a' ~ 'b' + 'c' }}", "abc"},
		{"dict equality", "{{ {'a': 1} == {'a': 1} }} {{ [1, [2]] == [1, [2]] }}", "True True"},
		{"if on var", "{% if var('flag') %}on{% endif %}", "on"},
		{"multiline expression", "{{ [\n 1,\n 2\n] }}", "[1, 2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := renderString(tt.src, newHooks())
			if err != nil {
				t.Fatalf("render %q: %v", tt.src, err)
			}
			if got != tt.want {
				t.Fatalf("render %q = %q, want %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestRenderConfigArgs(t *testing.T) {
	h := newHooks()
	_, err := renderString("{{ config(materialized='table', unique_key=['a', 'b']) }}\n{{ config({'tags': 'x'}) }}", h)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		key       string
		line, col int
	}{{"materialized", 1, 11}, {"unique_key", 1, 33}, {"tags", 2, 11}}
	if len(h.configs) != len(want) {
		t.Fatalf("config args = %+v, want %d", h.configs, len(want))
	}
	for i, w := range want {
		c := h.configs[i]
		if c.key != w.key || c.at.line != w.line || c.at.col != w.col {
			t.Errorf("config arg %d = %s at %d:%d, want %s at %d:%d", i, c.key, c.at.line, c.at.col, w.key, w.line, w.col)
		}
	}
	if uk, ok := h.configs[1].val.([]any); !ok || len(uk) != 2 || uk[0] != "a" {
		t.Errorf("unique_key value = %#v, want [a b]", h.configs[1].val)
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name, src string
		line, col int
		kind      error
		msg       string
	}{
		{"unknown function", "SELECT\n  {{ dbt_utils() }}", 2, 6, ErrUndefined, "unknown function dbt_utils()"},
		{"unknown function in dead branch", "{% if false %}{{ nope() }}{% endif %}", 1, 18, ErrUndefined, "unknown function nope()"},
		{"unknown tag", "a\n{% frobnicate %}", 2, 4, ErrUnsupported, "unknown tag {% frobnicate %}"},
		{"for", "{% for x in [1] %}{{ x }}{% endfor %}", 1, 4, ErrUnsupported, "{% for %} is not supported"},
		{"macro", "{% macro m() %}{% endmacro %}", 1, 4, ErrUnsupported, "{% macro %} is not supported"},
		{"filter", "{{ 'a' | upper }}", 1, 8, ErrUnsupported, "filters"},
		{"filter after call", "{{ ref('x')|lower }}", 1, 12, ErrUnsupported, "filters"},
		{"this", "{{ this }}", 1, 4, ErrUnsupported, "{{ this }} is not supported"},
		{"target attribute", "{{ target.schema }}", 1, 11, ErrUnsupported, "target.schema is not supported"},
		{"bare target", "{{ target }}", 1, 4, ErrUnsupported, "target can only be used as target.name"},
		{"attribute", "{% set x = 1 %}{{ x.y }}", 1, 20, ErrUnsupported, "attribute access"},
		{"method", "{{ 'a'.upper() }}", 1, 7, ErrUnsupported, "attribute access"},
		{"subscript", "{{ [1][0] }}", 1, 7, ErrUnsupported, "subscripts"},
		{"multiply", "{{ 2 * 3 }}", 1, 6, ErrUnsupported, "operator * is not supported"},
		{"conditional expression", "{{ 1 if true else 2 }}", 1, 6, ErrUnsupported, "conditional expressions"},
		{"test", "{{ x is defined }}", 1, 6, ErrUnsupported, "tests"},
		{"tuple", "{{ (1, 2) }}", 1, 6, ErrUnsupported, "tuples"},
		{"unclosed output", "a\n{{ ref('x')\n", 2, 1, ErrSyntax, "unclosed {{ (missing }})"},
		{"unclosed block", "{% if true\nx", 1, 1, ErrSyntax, "unclosed {% (missing %})"},
		{"unclosed comment", "a {# never", 1, 3, ErrSyntax, "unclosed comment"},
		{"unclosed if", "x\n{% if true %}a", 2, 4, ErrSyntax, "unclosed {% if %} (missing {% endif %})"},
		{"unclosed if after else", "{% if true %}a{% else %}b", 1, 4, ErrSyntax, "unclosed {% if %}"},
		{"endif without if", "{% endif %}", 1, 4, ErrSyntax, "{% endif %} without {% if %}"},
		{"elif after else", "{% if 1 %}{% else %}{% elif 2 %}{% endif %}", 1, 24, ErrSyntax, "{% elif %} without {% if %}"},
		{"unterminated string", "{{ 'abc }}", 1, 4, ErrSyntax, "unterminated string"},
		{"bad character", "{{ 1 @ 2 }}", 1, 6, ErrSyntax, "unexpected character"},
		{"unbalanced bracket", "{{ ) }}", 1, 4, ErrSyntax, `unexpected ")"`},
		{"empty output", "{{ }}", 1, 4, ErrSyntax, "unexpected"},
		{"missing var", "a\n\n   {{ var('start_date') }}", 3, 7, ErrUndefined, `var("start_date") is not set`},
		{"missing env", "{{ env_var('NOPE') }}", 1, 4, ErrUndefined, `env_var("NOPE")`},
		{"undefined name", "{{ x }}", 1, 4, ErrUndefined, "undefined name x"},
		{"function as value", "{{ ref }}", 1, 4, ErrInvalid, "ref is a function"},
		{"ref arity", "{{ ref() }}", 1, 4, ErrInvalid, "ref() takes 1 or 2 arguments, not 0"},
		{"source arity", "{{ source('a') }}", 1, 4, ErrInvalid, "source() takes 2 arguments, not 1"},
		{"ref kwarg", "{{ ref('a', v=2) }}", 1, 13, ErrUnsupported, "takes no keyword argument v"},
		{"ref non-string", "{{ ref(1) }}", 1, 8, ErrInvalid, "must be a string"},
		{"config positional", "{{ config('table') }}", 1, 11, ErrInvalid, "config() takes a dict"},
		{"is_incremental args", "{{ is_incremental(1) }}", 1, 4, ErrInvalid, "takes no arguments"},
		{"set reserved", "{% set ref = 1 %}", 1, 8, ErrInvalid, "reserved"},
		{"block set", "{% set x %}a{% endset %}", 1, 4, ErrUnsupported, "block set"},
		{"add types", "{{ 1 + 'a' }}", 1, 6, ErrInvalid, "cannot add int and str"},
		{"subtract strings", "{{ 'a' - 'b' }}", 1, 8, ErrInvalid, "cannot subtract"},
		{"order types", "{{ 1 < 'a' }}", 1, 8, ErrInvalid, "< is not supported between int and str"},
		{"in int", "{{ 1 in 2 }}", 1, 9, ErrInvalid, "'in' needs"},
		{"overflow", "{{ 9223372036854775807 + 1 }}", 1, 24, ErrInvalid, "integer overflow"},
		{"int too large", "{{ 99999999999999999999 }}", 1, 4, ErrInvalid, "too large"},
		{"list dict key", "{{ {[1]: 2} }}", 1, 5, ErrInvalid, "cannot be a dict key"},
		{"positional after keyword", "{{ config(a=1, 2) }}", 1, 16, ErrSyntax, "positional argument after keyword"},
		{"deep nesting", strings.Repeat("{{ ", 1) + strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300) + " }}", 1, 0, ErrInvalid, "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderString(tt.src, newHooks())
			var pe *posError
			if !errors.As(err, &pe) {
				t.Fatalf("render %q: error %v, want a positioned error", tt.src, err)
			}
			if pe.line != tt.line || (tt.col != 0 && pe.col != tt.col) {
				t.Errorf("render %q: error at %d:%d, want %d:%d (%v)", tt.src, pe.line, pe.col, tt.line, tt.col, err)
			}
			if !errors.Is(err, tt.kind) || !strings.Contains(pe.msg, tt.msg) {
				t.Errorf("render %q: error %q (%v), want %v containing %q", tt.src, pe.msg, pe.kind, tt.kind, tt.msg)
			}
		})
	}
}

func TestRenderBudget(t *testing.T) {
	src := "{% set x = 'ab' %}" + strings.Repeat("{% set x = x ~ x %}", 40) + "{{ x }}"
	_, err := renderString(src, newHooks())
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("exponential template: error %v, want ErrInvalid (bounded work)", err)
	}
	src = "{% set x = [1] %}" + strings.Repeat("{% set x = [x, x] %}", 40) + "{{ x == x }}"
	if _, err := renderString(src, newHooks()); !errors.Is(err, ErrInvalid) {
		t.Fatalf("exponential compare: error %v, want ErrInvalid (bounded work)", err)
	}
}
