package project

// Template nodes.
type (
	textNode   struct{ text string }
	outputNode struct{ x expr }
	setNode    struct {
		name string
		x    expr
	}
	ifNode struct {
		conds  []expr
		bodies [][]any // one per cond
		els    []any
	}
)

// Expressions; each knows where it starts.
type (
	expr    interface{ where() pos }
	litExpr struct {
		at pos
		v  any
	}
	nameExpr struct {
		at   pos
		name string
	}
	targetNameExpr struct{ at pos }
	listExpr       struct {
		at    pos
		items []expr
	}
	dictExpr struct {
		at         pos
		keys, vals []expr
	}
	unaryExpr struct {
		at pos
		op string // "-", "+", "not"
		x  expr
	}
	binExpr struct {
		at   pos
		op   string // "and", "or", "+", "-", "~"
		l, r expr
	}
	// cmpExpr is a chained comparison a < b <= c.
	cmpExpr struct {
		at    pos
		first expr
		ops   []string // == != < > <= >= in "not in"
		rest  []expr
	}
	callExpr struct {
		at     pos
		fn     string
		args   []expr
		kwargs []kwargExpr
	}
	kwargExpr struct {
		at   pos
		name string
		x    expr
	}
)

func (e *litExpr) where() pos        { return e.at }
func (e *nameExpr) where() pos       { return e.at }
func (e *targetNameExpr) where() pos { return e.at }
func (e *listExpr) where() pos       { return e.at }
func (e *dictExpr) where() pos       { return e.at }
func (e *unaryExpr) where() pos      { return e.at }
func (e *binExpr) where() pos        { return e.at }
func (e *cmpExpr) where() pos        { return e.at }
func (e *callExpr) where() pos       { return e.at }

// template is a parsed model file.
type template struct{ nodes []any }

// builtins are the functions a template may call, with their arity.
var builtins = map[string]struct{ min, max int }{
	"source": {2, 2}, "ref": {1, 2}, "var": {1, 2}, "env_var": {1, 2}, "config": {0, 1}, "is_incremental": {0, 0},
}

const builtinList = "source, ref, var, env_var, config, is_incremental"

// jinjaTags are Jinja or dbt tags that exist but riacho does not run.
var jinjaTags = map[string]bool{
	"for": true, "endfor": true, "macro": true, "endmacro": true, "call": true, "endcall": true,
	"filter": true, "endfilter": true, "block": true, "endblock": true, "extends": true, "include": true,
	"import": true, "from": true, "raw": true, "endraw": true, "with": true, "endwith": true, "do": true,
	"autoescape": true, "endautoescape": true, "break": true, "continue": true, "endset": true,
	"materialization": true, "endmaterialization": true, "test": true, "endtest": true, "docs": true,
	"enddocs": true, "snapshot": true, "endsnapshot": true, "call_statement": true, "trans": true,
}

const maxDepth = 200
