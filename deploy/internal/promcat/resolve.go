package promcat

import (
	"errors"
	"fmt"
	"go/ast"
	"go/token"
	"slices"
	"strconv"
	"strings"

	"github.com/prometheus/otlptranslator"
)

const (
	promPath = "github.com/prometheus/client_golang/prometheus"
	otelPath = "go.opentelemetry.io/otel/metric"
	// maxDepth bounds how many helper functions a name may pass through.
	maxDepth = 4
)

// optsKinds maps the client_golang option literals to the family they make.
var optsKinds = map[string]Kind{
	"CounterOpts": Counter, "GaugeOpts": Gauge, "HistogramOpts": Histogram,
	"SummaryOpts": Summary, "Opts": Untyped,
}

// otelKinds maps the OpenTelemetry instrument constructors to their
// Prometheus family and their OTLP metric type.
var otelKinds = map[string]struct {
	kind Kind
	typ  otlptranslator.MetricType
}{
	"Int64Counter":                   {Counter, otlptranslator.MetricTypeMonotonicCounter},
	"Float64Counter":                 {Counter, otlptranslator.MetricTypeMonotonicCounter},
	"Int64ObservableCounter":         {Counter, otlptranslator.MetricTypeMonotonicCounter},
	"Float64ObservableCounter":       {Counter, otlptranslator.MetricTypeMonotonicCounter},
	"Int64UpDownCounter":             {Gauge, otlptranslator.MetricTypeNonMonotonicCounter},
	"Float64UpDownCounter":           {Gauge, otlptranslator.MetricTypeNonMonotonicCounter},
	"Int64ObservableUpDownCounter":   {Gauge, otlptranslator.MetricTypeNonMonotonicCounter},
	"Float64ObservableUpDownCounter": {Gauge, otlptranslator.MetricTypeNonMonotonicCounter},
	"Int64Gauge":                     {Gauge, otlptranslator.MetricTypeGauge},
	"Float64Gauge":                   {Gauge, otlptranslator.MetricTypeGauge},
	"Int64ObservableGauge":           {Gauge, otlptranslator.MetricTypeGauge},
	"Float64ObservableGauge":         {Gauge, otlptranslator.MetricTypeGauge},
	"Int64Histogram":                 {Histogram, otlptranslator.MetricTypeHistogram},
	"Float64Histogram":               {Histogram, otlptranslator.MetricTypeHistogram},
}

// site is one metric definition found in the sources.
type site struct {
	where string
	kind  Kind
	// name parts joined with "_" (client_golang's BuildFQName); one part
	// for NewDesc and OpenTelemetry instruments.
	parts []ast.Expr
	unit  ast.Expr // OpenTelemetry unit, or nil
	otel  bool
	otyp  otlptranslator.MetricType
	scope []ast.Node // enclosing functions, innermost first
}

// call is one call expression with its enclosing functions.
type call struct {
	expr  *ast.CallExpr
	scope []ast.Node
}

// pkg indexes one package's constants, helper functions and calls.
type pkg struct {
	consts map[string][]string
	funcs  map[ast.Node]string // FuncDecl or FuncLit → its name
	calls  []call
	sites  []site
}

func newPkg() *pkg {
	return &pkg{consts: map[string][]string{}, funcs: map[ast.Node]string{}}
}

// index walks f, recording constants, named functions, calls and sites.
func (p *pkg) index(f parsedFile) {
	prom, otel := importName(f.file, promPath, "prometheus"), importName(f.file, otelPath, "metric")
	var stack []ast.Node
	ast.Inspect(f.file, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		scope := enclosing(stack)
		stack = append(stack, n)
		switch n := n.(type) {
		case *ast.FuncDecl:
			p.funcs[n] = n.Name.Name
		case *ast.AssignStmt:
			p.nameFuncLits(n.Lhs, n.Rhs)
		case *ast.ValueSpec:
			p.valueSpec(n)
		case *ast.CallExpr:
			p.calls = append(p.calls, call{expr: n, scope: scope})
			p.callSite(f, n, scope, prom, otel)
		case *ast.CompositeLit:
			p.optsSite(f, n, scope, prom)
		}
		return true
	})
}

// enclosing returns the functions of stack, innermost first.
func enclosing(stack []ast.Node) []ast.Node {
	var out []ast.Node
	for i := len(stack) - 1; i >= 0; i-- {
		switch stack[i].(type) {
		case *ast.FuncDecl, *ast.FuncLit:
			out = append(out, stack[i])
		}
	}
	return out
}

// importName is the local name of the import path in f ("" when f does not
// import it).
func importName(f *ast.File, path, def string) string {
	for _, s := range f.Imports {
		if p, _ := strconv.Unquote(s.Path.Value); p == path {
			if s.Name != nil {
				return s.Name.Name
			}
			return def
		}
	}
	return ""
}

// nameFuncLits records the names of function literals bound to identifiers.
func (p *pkg) nameFuncLits(lhs []ast.Expr, rhs []ast.Expr) {
	if len(lhs) != len(rhs) {
		return
	}
	for i, r := range rhs {
		if fl, ok := r.(*ast.FuncLit); ok {
			if id, ok := lhs[i].(*ast.Ident); ok {
				p.funcs[fl] = id.Name
			}
		}
	}
}

// valueSpec records string constants and named function literals.
func (p *pkg) valueSpec(v *ast.ValueSpec) {
	lhs := make([]ast.Expr, len(v.Names))
	for i, n := range v.Names {
		lhs[i] = n
	}
	p.nameFuncLits(lhs, v.Values)
	if len(v.Names) != len(v.Values) {
		return
	}
	for i, val := range v.Values {
		if bl, ok := val.(*ast.BasicLit); ok && bl.Kind == token.STRING {
			s, _ := strconv.Unquote(bl.Value)
			name := v.Names[i].Name
			if !slices.Contains(p.consts[name], s) {
				p.consts[name] = append(p.consts[name], s)
			}
		}
	}
}

// isPkgCall reports whether c calls pkgName.fn.
func isPkgCall(c *ast.CallExpr, pkgName string) (string, bool) {
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok || pkgName == "" {
		return "", false
	}
	id, ok := sel.X.(*ast.Ident)
	if !ok || id.Name != pkgName {
		return "", false
	}
	return sel.Sel.Name, true
}

// callSite records prometheus.NewDesc calls and OpenTelemetry instruments.
func (p *pkg) callSite(f parsedFile, c *ast.CallExpr, scope []ast.Node, prom, otel string) {
	where := f.fset.Position(c.Pos()).String()
	if fn, ok := isPkgCall(c, prom); ok && fn == "NewDesc" && len(c.Args) > 0 {
		p.sites = append(p.sites, site{where: where, kind: Untyped, parts: c.Args[:1], scope: scope})
		return
	}
	sel, ok := c.Fun.(*ast.SelectorExpr)
	if !ok || otel == "" || len(c.Args) == 0 {
		return
	}
	k, ok := otelKinds[sel.Sel.Name]
	if !ok {
		return
	}
	s := site{where: where, kind: k.kind, parts: c.Args[:1], otel: true, otyp: k.typ, scope: scope}
	for _, a := range c.Args[1:] {
		if ac, ok := a.(*ast.CallExpr); ok {
			if fn, ok := isPkgCall(ac, otel); ok && fn == "WithUnit" && len(ac.Args) == 1 {
				s.unit = ac.Args[0]
			}
		}
	}
	p.sites = append(p.sites, s)
}

// optsSite records prometheus.*Opts literals.
func (p *pkg) optsSite(f parsedFile, cl *ast.CompositeLit, scope []ast.Node, prom string) {
	sel, ok := cl.Type.(*ast.SelectorExpr)
	if !ok || prom == "" {
		return
	}
	if id, ok := sel.X.(*ast.Ident); !ok || id.Name != prom {
		return
	}
	kind, ok := optsKinds[sel.Sel.Name]
	if !ok {
		return
	}
	fields := map[string]ast.Expr{}
	for _, e := range cl.Elts {
		if kv, ok := e.(*ast.KeyValueExpr); ok {
			if k, ok := kv.Key.(*ast.Ident); ok {
				fields[k.Name] = kv.Value
			}
		}
	}
	var parts []ast.Expr
	for _, k := range []string{"Namespace", "Subsystem", "Name"} {
		if e, ok := fields[k]; ok {
			parts = append(parts, e)
		}
	}
	if _, ok := fields["Name"]; !ok {
		parts = nil
	}
	p.sites = append(p.sites, site{where: f.fset.Position(cl.Pos()).String(), kind: kind, parts: parts, scope: scope})
}

// resolve turns a site into its metric families, one per resolved name.
func (p *pkg) resolve(s site) ([]Metric, error) {
	if len(s.parts) == 0 {
		return nil, errors.New("metric options without a Name")
	}
	names := []string{""}
	for _, part := range s.parts {
		vals, err := p.eval(part, s.scope, 0)
		if err != nil {
			return nil, err
		}
		names = joinAll(names, vals)
	}
	unit := []string{""}
	if s.unit != nil {
		u, err := p.eval(s.unit, s.scope, 0)
		if err != nil {
			return nil, fmt.Errorf("unit: %w", err)
		}
		unit = u
	}
	var out []Metric
	for _, n := range names {
		if n == "" {
			return nil, errors.New("metric name resolves to the empty string")
		}
		if !s.otel {
			out = append(out, Metric{Name: n, Kind: s.kind, Where: s.where})
			continue
		}
		for _, u := range unit {
			name, err := OTelName(n, u, s.otyp)
			if err != nil {
				return nil, err
			}
			out = append(out, Metric{Name: name, Kind: s.kind, Where: s.where})
		}
	}
	return out, nil
}

// joinAll joins every prefix with every value using "_", skipping empty
// values as prometheus.BuildFQName does.
func joinAll(prefixes, vals []string) []string {
	var out []string
	for _, pre := range prefixes {
		for _, v := range vals {
			switch {
			case v == "":
				out = append(out, pre)
			case pre == "":
				out = append(out, v)
			default:
				out = append(out, pre+"_"+v)
			}
		}
	}
	return out
}

// eval returns the string values e can take: literals, constants,
// concatenations, and parameters of the enclosing helper functions resolved
// at each of their call sites.
func (p *pkg) eval(e ast.Expr, scope []ast.Node, depth int) ([]string, error) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return nil, fmt.Errorf("%s is not a string", e.Value)
		}
		s, err := strconv.Unquote(e.Value)
		return []string{s}, err
	case *ast.ParenExpr:
		return p.eval(e.X, scope, depth)
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return nil, fmt.Errorf("unsupported operator %s in a metric name", e.Op)
		}
		l, err := p.eval(e.X, scope, depth)
		if err != nil {
			return nil, err
		}
		r, err := p.eval(e.Y, scope, depth)
		if err != nil {
			return nil, err
		}
		var out []string
		for _, a := range l {
			for _, b := range r {
				out = append(out, a+b)
			}
		}
		return out, nil
	case *ast.Ident:
		return p.ident(e, scope, depth)
	}
	return nil, fmt.Errorf("cannot resolve metric name expression %T", e)
}

// ident resolves a parameter of an enclosing function or a constant.
func (p *pkg) ident(id *ast.Ident, scope []ast.Node, depth int) ([]string, error) {
	for _, fn := range scope {
		if i, ok := paramIndex(fn, id.Name); ok {
			return p.param(fn, i, id.Name, depth)
		}
	}
	switch vals := p.consts[id.Name]; len(vals) {
	case 0:
		return nil, fmt.Errorf("cannot resolve %s to a string constant", id.Name)
	case 1:
		return vals, nil
	default:
		return nil, fmt.Errorf("%s has several values in this package (%s)", id.Name, strings.Join(vals, ", "))
	}
}

// param resolves parameter i of fn from the arguments of its call sites.
func (p *pkg) param(fn ast.Node, i int, name string, depth int) ([]string, error) {
	fname := p.funcs[fn]
	if fname == "" {
		return nil, fmt.Errorf("parameter %s belongs to an unnamed function", name)
	}
	if depth >= maxDepth {
		return nil, fmt.Errorf("parameter %s passes through more than %d functions", name, maxDepth)
	}
	var out []string
	found := false
	for _, c := range p.calls {
		if calledName(c.expr) != fname || i >= len(c.expr.Args) {
			continue
		}
		found = true
		vals, err := p.eval(c.expr.Args[i], c.scope, depth+1)
		if err != nil {
			return nil, fmt.Errorf("argument %s of %s: %w", name, fname, err)
		}
		out = append(out, vals...)
	}
	if !found {
		return nil, fmt.Errorf("no call of %s gives its parameter %s", fname, name)
	}
	return out, nil
}

// calledName is the function or method name c calls.
func calledName(c *ast.CallExpr) string {
	switch f := c.Fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		return f.Sel.Name
	}
	return ""
}

// paramIndex finds the position of the parameter called name in fn.
func paramIndex(fn ast.Node, name string) (int, bool) {
	var ft *ast.FuncType
	switch fn := fn.(type) {
	case *ast.FuncDecl:
		ft = fn.Type
	case *ast.FuncLit:
		ft = fn.Type
	}
	if ft == nil || ft.Params == nil {
		return 0, false
	}
	i := 0
	for _, f := range ft.Params.List {
		for _, n := range f.Names {
			if n.Name == name {
				return i, true
			}
			i++
		}
		if len(f.Names) == 0 {
			i++
		}
	}
	return 0, false
}

// OTelName is the Prometheus family name libs/telemetry's exporter gives an
// OpenTelemetry instrument (go.opentelemetry.io/otel/exporters/prometheus
// with its default UnderscoreEscapingWithSuffixes translation: dots become
// underscores, the unit becomes a suffix, monotonic counters get _total).
func OTelName(name, unit string, typ otlptranslator.MetricType) (string, error) {
	namer := otlptranslator.NewMetricNamer("", otlptranslator.UnderscoreEscapingWithSuffixes)
	out, err := namer.Build(otlptranslator.Metric{Name: name, Unit: unit, Type: typ})
	if err != nil {
		return "", fmt.Errorf("translate OpenTelemetry metric %s: %w", name, err)
	}
	return out, nil
}
