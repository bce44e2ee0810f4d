package avroparquet

import (
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/encoding"
)

// orderedGroup is a Parquet group node whose fields keep the order they were
// given in. (parquet.Group is a map and lists its fields alphabetically.)
type orderedGroup struct {
	fields []parquet.Field
}

func newOrderedGroup(names []string, nodes []parquet.Node) *orderedGroup {
	g := &orderedGroup{fields: make([]parquet.Field, len(names))}
	for i := range names {
		g.fields[i] = &orderedField{Node: nodes[i], name: names[i]}
	}
	return g
}

var groupType = parquet.Group{}.Type()

func (g *orderedGroup) ID() int                     { return 0 }
func (g *orderedGroup) String() string              { return nodeString(g) }
func (g *orderedGroup) Type() parquet.Type          { return groupType }
func (g *orderedGroup) Optional() bool              { return false }
func (g *orderedGroup) Repeated() bool              { return false }
func (g *orderedGroup) Required() bool              { return true }
func (g *orderedGroup) Leaf() bool                  { return false }
func (g *orderedGroup) Fields() []parquet.Field     { return g.fields }
func (g *orderedGroup) Encoding() encoding.Encoding { return nil }
func (g *orderedGroup) Compression() compress.Codec { return nil }
func (g *orderedGroup) GoType() reflect.Type        { return goStructOf(g.fields) }

func nodeString(n parquet.Node) string {
	var b strings.Builder
	_ = parquet.PrintSchema(&b, "", n)
	return b.String()
}

// goStructOf mirrors parquet-go's Go type of a group: a struct with one field per
// Parquet field, tagged with the Parquet name.
func goStructOf(fields []parquet.Field) reflect.Type {
	sf := make([]reflect.StructField, len(fields))
	used := make(map[string]bool, len(fields))
	for i, f := range fields {
		name := exportedName(f.Name())
		for used[name] {
			name += "_"
		}
		used[name] = true
		sf[i] = reflect.StructField{
			Name: name,
			Type: f.GoType(),
			Tag:  reflect.StructTag(`parquet:` + strconv.Quote(f.Name())),
		}
	}
	return reflect.StructOf(sf)
}

func exportedName(name string) string {
	var b strings.Builder
	for i, r := range name {
		ok := r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r)
		if !ok {
			r = '_'
		}
		if i == 0 {
			if !unicode.IsLetter(r) {
				b.WriteByte('X')
			} else {
				r = unicode.ToUpper(r)
			}
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "X"
	}
	return b.String()
}

// orderedField names a node inside an orderedGroup.
type orderedField struct {
	parquet.Node
	name string
}

func (f *orderedField) Name() string { return f.name }

// Value returns the Go value of the field inside base (a struct, a pointer to
// one, or a map keyed by field name), as parquet-go's own group fields do.
func (f *orderedField) Value(base reflect.Value) reflect.Value {
	if base.Kind() == reflect.Interface {
		if base.IsNil() {
			return reflect.ValueOf(nil)
		}
		if base = base.Elem(); base.Kind() == reflect.Pointer && base.IsNil() {
			return reflect.ValueOf(nil)
		}
	}
	switch base.Kind() {
	case reflect.Struct:
		return structFieldByName(base, f.name)
	case reflect.Pointer:
		if base.IsNil() {
			base.Set(reflect.New(base.Type().Elem()))
		}
		return structFieldByName(base.Elem(), f.name)
	case reflect.Map:
		return base.MapIndex(reflect.ValueOf(&f.name).Elem())
	default:
		return reflect.Value{}
	}
}

func structFieldByName(base reflect.Value, name string) reflect.Value {
	t := base.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if tag := sf.Tag.Get("parquet"); tag != "" {
			if n, _, _ := strings.Cut(tag, ","); n == name {
				return base.Field(i)
			}
		}
		if sf.Name == name {
			return base.Field(i)
		}
	}
	return reflect.Value{}
}
