package warehouse

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ErrInvalidSchema marks every error about the content of a warehouse.yml.
var ErrInvalidSchema = errors.New("invalid warehouse schema")

// identRe is a portable unquoted SQL identifier.
var identRe = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

var numericRe = regexp.MustCompile(`^numeric\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$`)

// Grains a rollup may be kept at.
var rollupGrains = []string{"day", "week", "month", "quarter", "year", "all_time"}

// SCD 2 bookkeeping columns, reserved on type 2 dimensions.
const (
	colValidFrom = "valid_from"
	colValidTo   = "valid_to"
	colIsCurrent = "is_current"
)

// LoadSchema reads and parses a warehouse.yml.
func LoadSchema(path string) (*Schema, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read warehouse schema: %w", err)
	}
	return ParseSchema(path, data)
}

// ParseSchema parses the content of a warehouse.yml; file names it in
// errors, which read "file:line:col: table X: field: cause", are all
// reported (joined) and wrap ErrInvalidSchema. Unknown keys are errors.
//
//	version: 1
//	tables:
//	  - name: fct_subscriptions            # [a-z_][a-z0-9_]*
//	    kind: fact                         # fact | dimension
//	    topic: curated.fct_subscriptions   # default curated.<name>
//	    key: [subscription_id]             # facts: optional (absent = append-only); dimensions: required
//	    event_time: updated_at             # date or timestamp column: the table's freshness
//	    columns:
//	      - {name: monthly_value, type: "numeric(18,2)"}
//	      - {name: customer_id, type: text, field: customerId}  # field: Avro field, default name
//	    joins:
//	      - {dimension: dim_customers, column: customer_id, as_of: date_month}
//	  - name: dim_customers
//	    kind: dimension
//	    scd: 2                             # 1 (default) or 2
//	    key: [customer_id]
//	    columns: [...]
//	rollups:
//	  - {name: rollup_mrr_month_segment, metric: mrr, grain: month, dimensions: [customer_segment]}
//
// Types: text, integer, bigint, double, boolean, date, timestamp, numeric(p,s).
func ParseSchema(file string, data []byte) (*Schema, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: parse yaml: %w: %w", file, err, ErrInvalidSchema)
	}
	p := &schemaParser{file: file}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty warehouse schema (want version: 1 and tables): %w", file, ErrInvalidSchema)
	}
	s := p.schema(doc.Content[0])
	if err := errors.Join(p.errs...); err != nil {
		return nil, err
	}
	return s, nil
}

type schemaParser struct {
	file string
	errs []error
	// joinPos keeps each table's join nodes until every table is known.
	joinPos map[*Table][]*yaml.Node
}

// errorf records an error at node n; where is "table X" or "" and field the YAML key.
func (p *schemaParser) errorf(n *yaml.Node, where, field, format string, args ...any) {
	var b strings.Builder
	b.WriteString(p.file)
	if n != nil {
		fmt.Fprintf(&b, ":%d:%d", n.Line, n.Column)
	}
	b.WriteString(": ")
	if where != "" {
		b.WriteString(where + ": ")
	}
	if field != "" {
		b.WriteString(field + ": ")
	}
	fmt.Fprintf(&b, format, args...)
	p.errs = append(p.errs, fmt.Errorf("%s: %w", b.String(), ErrInvalidSchema))
}

// fields returns a mapping's values by key, reporting unknown and duplicate keys.
func (p *schemaParser) fields(n *yaml.Node, where string, known ...string) (map[string]*yaml.Node, bool) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, where, "", "want a mapping, got %s", kindName(n))
		return nil, false
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !contains(known, k.Value) {
			p.errorf(k, where, k.Value, "unknown key%s (known: %s)", suggest(k.Value, known), strings.Join(known, ", "))
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.errorf(k, where, k.Value, "duplicate key")
			continue
		}
		out[k.Value] = v
	}
	return out, true
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

func (p *schemaParser) str(n *yaml.Node, where, field string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, where, field, "want a string, got %s", kindName(n))
		return "", false
	}
	return n.Value, true
}

func (p *schemaParser) ident(n *yaml.Node, where, field string) (string, bool) {
	s, ok := p.str(n, where, field)
	if !ok {
		return "", false
	}
	if !identRe.MatchString(s) || len(s) > 63 {
		p.errorf(n, where, field, "%q is not a SQL identifier ([a-z_][a-z0-9_]*, at most 63 characters)", s)
		return "", false
	}
	return s, true
}

func (p *schemaParser) strList(n *yaml.Node, where, field string) ([]string, []*yaml.Node) {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, where, field, "want a list, got %s", kindName(n))
		return nil, nil
	}
	var out []string
	var nodes []*yaml.Node
	for _, c := range n.Content {
		if s, ok := p.str(c, where, field); ok {
			out = append(out, s)
			nodes = append(nodes, c)
		}
	}
	return out, nodes
}

func (p *schemaParser) schema(root *yaml.Node) *Schema {
	s := &Schema{}
	f, ok := p.fields(root, "", "version", "tables", "rollups")
	if !ok {
		return s
	}
	switch v := f["version"]; {
	case v == nil:
		p.errorf(root, "", "version", "missing (want version: 1)")
	case v.Value != "1" || v.Kind != yaml.ScalarNode:
		p.errorf(v, "", "version", "unsupported version %s (want 1)", kindName(v))
	}
	tables := map[string]*yaml.Node{}
	topics := map[string]string{}
	if tn := f["tables"]; tn == nil {
		p.errorf(root, "", "tables", "missing: declare at least one table")
	} else if tn.Kind != yaml.SequenceNode || len(tn.Content) == 0 {
		p.errorf(tn, "", "tables", "want a non-empty list, got %s", kindName(tn))
	} else {
		for _, n := range tn.Content {
			t := p.table(n)
			if t == nil {
				continue
			}
			if _, dup := tables[t.Name]; dup {
				p.errorf(n, "table "+t.Name, "name", "duplicate table (also at line %d)", tables[t.Name].Line)
				continue
			}
			if other, dup := topics[t.Topic]; dup {
				p.errorf(n, "table "+t.Name, "topic", "topic %s already feeds table %s", t.Topic, other)
			}
			tables[t.Name], topics[t.Topic] = n, t.Name
			s.Tables = append(s.Tables, t)
		}
	}
	for _, t := range s.Tables {
		p.checkJoins(s, t)
	}
	if rn := f["rollups"]; rn != nil {
		p.rollups(s, rn)
	}
	return s
}

func (p *schemaParser) table(n *yaml.Node) *Table {
	f, ok := p.fields(n, "table", "name", "kind", "topic", "key", "event_time", "scd", "columns", "joins")
	if !ok {
		return nil
	}
	t := &Table{File: p.file, Line: n.Line}
	where := "table"
	if nn := f["name"]; nn == nil {
		p.errorf(n, where, "name", "missing")
	} else if name, ok := p.ident(nn, where, "name"); ok {
		t.Name = name
		where = "table " + name
		if strings.HasPrefix(name, "riacho_") {
			p.errorf(nn, where, "name", "the riacho_ prefix is reserved for the loader's own tables")
		}
	}
	if kn := f["kind"]; kn == nil {
		p.errorf(n, where, "kind", "missing (want fact or dimension)")
	} else if k, ok := p.str(kn, where, "kind"); ok {
		switch Kind(k) {
		case Fact, Dimension:
			t.Kind = Kind(k)
		default:
			p.errorf(kn, where, "kind", "%q is not fact or dimension%s", k, suggest(k, []string{"fact", "dimension"}))
		}
	}
	t.Topic = "curated." + t.Name
	if tn := f["topic"]; tn != nil {
		if s, ok := p.str(tn, where, "topic"); ok {
			if s == "" || strings.ContainsAny(s, " \t/\\") || len(s) > 249 {
				p.errorf(tn, where, "topic", "%q is not a Kafka topic name", s)
			}
			t.Topic = s
		}
	}
	if sn := f["scd"]; sn != nil {
		switch {
		case t.Kind == Fact:
			p.errorf(sn, where, "scd", "only dimensions have a slowly changing dimension type")
		case sn.Value == "1" || sn.Value == "2":
			t.SCD, _ = strconv.Atoi(sn.Value)
		default:
			p.errorf(sn, where, "scd", "want 1 or 2, got %s", kindName(sn))
		}
	} else if t.Kind == Dimension {
		t.SCD = 1
	}
	t.Columns = p.columns(f["columns"], n, where, t)
	if kn := f["key"]; kn != nil {
		keys, nodes := p.strList(kn, where, "key")
		if len(keys) == 0 && kn.Kind == yaml.SequenceNode {
			p.errorf(kn, where, "key", "empty key: omit it for an append-only fact")
		}
		for i, k := range keys {
			if contains(keys[:i], k) {
				p.errorf(nodes[i], where, "key", "column %s listed twice", k)
			} else if p.columnRef(nodes[i], where, "key", t, k) {
				t.Key = append(t.Key, k)
			}
		}
	} else if t.Kind == Dimension {
		p.errorf(n, where, "key", "missing: a dimension needs a unique key")
	}
	if en := f["event_time"]; en != nil {
		if s, ok := p.str(en, where, "event_time"); ok && p.columnRef(en, where, "event_time", t, s) {
			if b := t.Column(s).Type.Base; b != "date" && b != "timestamp" {
				p.errorf(en, where, "event_time", "column %s is %s; want a date or timestamp column", s, b)
			} else {
				t.EventTime = s
			}
		}
	}
	if jn := f["joins"]; jn != nil {
		if t.Kind == Dimension {
			p.errorf(jn, where, "joins", "only facts join dimensions")
		} else {
			t.Joins = p.joins(jn, where, t)
		}
	}
	return t
}

func (p *schemaParser) columnRef(n *yaml.Node, where, field string, t *Table, name string) bool {
	if t.Column(name) != nil {
		return true
	}
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	p.errorf(n, where, field, "no column %q%s", name, suggest(name, names))
	return false
}

func (p *schemaParser) columns(cn, parent *yaml.Node, where string, t *Table) []Column {
	if cn == nil {
		p.errorf(parent, where, "columns", "missing")
		return nil
	}
	if cn.Kind != yaml.SequenceNode || len(cn.Content) == 0 {
		p.errorf(cn, where, "columns", "want a non-empty list, got %s", kindName(cn))
		return nil
	}
	var out []Column
	for _, n := range cn.Content {
		f, ok := p.fields(n, where, "name", "type", "field")
		if !ok {
			continue
		}
		var c Column
		if nn := f["name"]; nn == nil {
			p.errorf(n, where, "columns", "column without name")
			continue
		} else if c.Name, ok = p.ident(nn, where, "columns"); !ok {
			continue
		}
		cw := where + ": column " + c.Name
		if tn := f["type"]; tn == nil {
			p.errorf(n, cw, "type", "missing")
			continue
		} else if s, ok := p.str(tn, cw, "type"); ok {
			typ, err := ParseType(s)
			if err != nil {
				p.errorf(tn, cw, "type", "%v", err)
				continue
			}
			c.Type = typ
		}
		c.Field = c.Name
		if fn := f["field"]; fn != nil {
			if s, ok := p.str(fn, cw, "field"); ok {
				if s == "" {
					p.errorf(fn, cw, "field", "empty Avro field name")
				}
				c.Field = s
			}
		}
		if t.SCD == 2 && (c.Name == colValidFrom || c.Name == colValidTo || c.Name == colIsCurrent) {
			p.errorf(n, cw, "name", "%s is reserved on a type 2 dimension (the loader keeps valid_from, valid_to, is_current)", c.Name)
			continue
		}
		if t.Column(c.Name) != nil || containsCol(out, c.Name) {
			p.errorf(n, cw, "name", "duplicate column")
			continue
		}
		out = append(out, c)
	}
	return out
}

func containsCol(cs []Column, name string) bool {
	for _, c := range cs {
		if c.Name == name {
			return true
		}
	}
	return false
}

// ParseType parses a column type: text, integer, bigint, double, boolean,
// date, timestamp or numeric(p,s) with 1 <= p <= 38 and 0 <= s <= p.
func ParseType(s string) (Type, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "text", "integer", "bigint", "double", "boolean", "date", "timestamp":
		return Type{Base: s}, nil
	}
	if m := numericRe.FindStringSubmatch(s); m != nil {
		p, errP := strconv.Atoi(m[1])
		sc, errS := strconv.Atoi(m[2])
		if errP != nil || errS != nil || p < 1 || p > 38 || sc > p {
			return Type{}, fmt.Errorf("%q: want numeric(p,s) with 1 <= p <= 38 and 0 <= s <= p", s)
		}
		return Type{Base: "numeric", Precision: p, Scale: sc}, nil
	}
	known := []string{"text", "integer", "bigint", "double", "boolean", "date", "timestamp", "numeric(p,s)"}
	return Type{}, fmt.Errorf("unknown type %q%s (known: %s)", s, suggest(s, known), strings.Join(known, ", "))
}

func (p *schemaParser) joins(jn *yaml.Node, where string, t *Table) []Join {
	if jn.Kind != yaml.SequenceNode {
		p.errorf(jn, where, "joins", "want a list, got %s", kindName(jn))
		return nil
	}
	var out []Join
	for _, n := range jn.Content {
		f, ok := p.fields(n, where+": joins", "dimension", "column", "as_of")
		if !ok {
			continue
		}
		j := Join{}
		for _, k := range []string{"dimension", "column"} {
			if f[k] == nil {
				p.errorf(n, where, "joins", "%s is missing", k)
				ok = false
			}
		}
		if !ok {
			continue
		}
		if j.Dimension, ok = p.str(f["dimension"], where, "joins"); !ok {
			continue
		}
		if j.Column, ok = p.str(f["column"], where, "joins"); !ok || !p.columnRef(f["column"], where, "joins", t, j.Column) {
			continue
		}
		if an := f["as_of"]; an != nil {
			if j.AsOf, ok = p.str(an, where, "joins"); !ok || !p.columnRef(an, where, "joins", t, j.AsOf) {
				continue
			}
			if b := t.Column(j.AsOf).Type.Base; b != "date" && b != "timestamp" {
				p.errorf(an, where, "joins", "as_of column %s is %s; want date or timestamp", j.AsOf, b)
				continue
			}
		}
		for _, o := range out {
			if o.Dimension == j.Dimension && o.Column == j.Column {
				p.errorf(n, where, "joins", "dimension %s joined twice on %s", j.Dimension, j.Column)
				ok = false
			}
		}
		if ok {
			out = append(out, j)
			if p.joinPos == nil {
				p.joinPos = map[*Table][]*yaml.Node{}
			}
			p.joinPos[t] = append(p.joinPos[t], n)
		}
	}
	return out
}

// checkJoins checks each join's target once every table is known.
func (p *schemaParser) checkJoins(s *Schema, t *Table) {
	kept := t.Joins[:0]
	for i, j := range t.Joins {
		pos := p.joinPos[t][i]
		where := "table " + t.Name
		d := s.Table(j.Dimension)
		var names []string
		for _, o := range s.Tables {
			if o.Kind == Dimension {
				names = append(names, o.Name)
			}
		}
		switch {
		case d == nil:
			p.errorf(pos, where, "joins", "no table %q%s", j.Dimension, suggest(j.Dimension, names))
			continue
		case d.Kind != Dimension:
			p.errorf(pos, where, "joins", "%s is a %s, not a dimension", d.Name, d.Kind)
			continue
		case len(d.Key) != 1:
			p.errorf(pos, where, "joins", "dimension %s has a %d-column key; a join needs a single-column key", d.Name, len(d.Key))
			continue
		case j.AsOf != "" && d.SCD != 2:
			p.errorf(pos, where, "joins", "as_of is only for type 2 dimensions; %s is type %d", d.Name, d.SCD)
			continue
		}
		if kt, ct := d.Column(d.Key[0]).Type, t.Column(j.Column).Type; kt != ct {
			p.errorf(pos, where, "joins", "column %s is %s but the key %s.%s is %s", j.Column, ct.String(), d.Name, d.Key[0], kt.String())
			continue
		}
		kept = append(kept, j)
	}
	t.Joins = kept
}

func (p *schemaParser) rollups(s *Schema, rn *yaml.Node) {
	if rn.Kind != yaml.SequenceNode {
		p.errorf(rn, "", "rollups", "want a list, got %s", kindName(rn))
		return
	}
	for _, n := range rn.Content {
		f, ok := p.fields(n, "rollup", "name", "metric", "grain", "dimensions")
		if !ok {
			continue
		}
		r := Rollup{File: p.file, Line: n.Line}
		where := "rollup"
		if nn := f["name"]; nn == nil {
			p.errorf(n, where, "name", "missing")
			ok = false
		} else if r.Name, ok = p.ident(nn, where, "name"); ok {
			where = "rollup " + r.Name
			if s.Table(r.Name) != nil {
				p.errorf(nn, where, "name", "a table has this name")
				ok = false
			}
			for _, o := range s.Rollups {
				if o.Name == r.Name {
					p.errorf(nn, where, "name", "duplicate rollup (also at line %d)", o.Line)
					ok = false
				}
			}
		}
		if mn := f["metric"]; mn == nil {
			p.errorf(n, where, "metric", "missing")
			ok = false
		} else if r.Metric, _ = p.str(mn, where, "metric"); r.Metric == "" {
			p.errorf(mn, where, "metric", "empty metric name")
			ok = false
		}
		if gn := f["grain"]; gn == nil {
			p.errorf(n, where, "grain", "missing (one of %s)", strings.Join(rollupGrains, ", "))
			ok = false
		} else if g, gok := p.str(gn, where, "grain"); gok {
			if !contains(rollupGrains, g) {
				p.errorf(gn, where, "grain", "%q is not one of %s%s", g, strings.Join(rollupGrains, ", "), suggest(g, rollupGrains))
				ok = false
			}
			r.Grain = g
		}
		if dn := f["dimensions"]; dn != nil {
			dims, nodes := p.strList(dn, where, "dimensions")
			for i, d := range dims {
				switch {
				case d == "":
					p.errorf(nodes[i], where, "dimensions", "empty dimension name")
					ok = false
				case contains(dims[:i], d):
					p.errorf(nodes[i], where, "dimensions", "%s listed twice", d)
					ok = false
				}
			}
			r.Dimensions = dims
		}
		if ok {
			s.Rollups = append(s.Rollups, r)
		}
	}
}

// String renders the type as written in warehouse.yml.
func (t Type) String() string {
	if t.Base == "numeric" {
		return fmt.Sprintf("numeric(%d,%d)", t.Precision, t.Scale)
	}
	return t.Base
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// suggest returns ` (did you mean "x"?)` for a close candidate, or "".
func suggest(got string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(got, c); d < bestD && d < len(c) {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
