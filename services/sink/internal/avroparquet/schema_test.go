package avroparquet

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	"github.com/apache/iceberg-go/table"
	"github.com/parquet-go/parquet-go"
)

// parquetIDs maps the Iceberg-style name path of every field of a Parquet
// schema (list.element and key_value.key/value folded as Iceberg names them)
// to its field id.
func parquetIDs(n parquet.Node, prefix string, out map[string]int) {
	for _, f := range n.Fields() {
		name := f.Name()
		path := join(prefix, name)
		switch {
		case prefix != "" && (name == "list" || name == "key_value") && f.Repeated():
			// the repeated middle level has no id; its children are named
			// element / key / value under the list or map itself
			parquetIDs(f, prefix, out)
			continue
		case f.ID() == 0:
			out[path] = 0
		default:
			out[path] = f.ID()
		}
		if !f.Leaf() {
			parquetIDs(f, path, out)
		}
	}
}

func TestSchemaOrderAndIDs(t *testing.T) {
	c := mustNew(t, allTypes)

	// Column order follows the Avro field order.
	var top []string
	for _, f := range c.Schema().Fields() {
		top = append(top, f.Name())
	}
	var want []string
	for _, col := range allColumns {
		want = append(want, col[0])
	}
	diff(t, "top-level fields", top, want)

	// Every Parquet field has the id of the Iceberg field of the same name.
	pids := make(map[string]int)
	parquetIDs(c.Schema(), "", pids)
	byName, err := iceberg.IndexByName(c.IcebergSchema())
	if err != nil {
		t.Fatal(err)
	}
	for path, id := range pids {
		if id == 0 {
			t.Errorf("parquet field %s has no field id", path)
			continue
		}
		if byName[path] != id {
			t.Errorf("parquet field %s has id %d, iceberg field has %d", path, id, byName[path])
		}
	}
	byID, err := iceberg.IndexByID(c.IcebergSchema())
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) != len(byID) {
		t.Errorf("parquet has %d fields, iceberg %d: %v / %v", len(pids), len(byID), pids, byName)
	}

	// Ids are depth-first pre-order from 1: exactly what iceberg-go assigns when
	// a table is created, so creating a table keeps them.
	fresh, err := iceberg.AssignFreshSchemaIDs(c.IcebergSchema(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !fresh.Equals(c.IcebergSchema()) {
		t.Errorf("iceberg-go would renumber the fields:\n ours  %s\n fresh %s", c.IcebergSchema(), fresh)
	}
	ids := []struct {
		name string
		id   int
	}{{"id", 1}, {"b", 2}, {"rec", 22}, {"rec.x", 23}, {"rec.y", 24}, {"arr", 25}, {"arr.element", 26}, {"m", 33}, {"m.key", 34}, {"m.value", 35}}
	for _, x := range ids {
		if byName[x.name] != x.id {
			t.Errorf("field %s has id %d, want %d", x.name, byName[x.name], x.id)
		}
	}

	// Requiredness: Avro non-null fields are required, union-with-null optional.
	for name, required := range map[string]bool{"id": true, "rec": true, "rec.y": false, "opt": false, "uni": false, "uni.string": false} {
		f, ok := c.IcebergSchema().FindFieldByName(name)
		if !ok || f.Required != required {
			t.Errorf("iceberg field %s: found=%v required=%v, want required=%v", name, ok, f.Required, required)
		}
	}
	if _, ok := c.IcebergSchema().FindFieldByName("nothing"); ok {
		t.Error("a null-only field should not be stored")
	}

	// Parquet logical types and repetition.
	for path, want := range map[string]string{
		"dec": "DECIMAL(10,2)", "dec_small": "DECIMAL(5,3)", "dec_fixed": "DECIMAL(38,10)", "dt": "DATE",
		"tm": "TIME(isAdjustedToUTC=false,unit=MICROS)", "tsm": "TIMESTAMP(isAdjustedToUTC=true,unit=MICROS)",
		"lts": "TIMESTAMP(isAdjustedToUTC=false,unit=MICROS)", "uf": "UUID", "e": "STRING", "s": "STRING",
	} {
		col, ok := c.Schema().Lookup(path)
		if !ok {
			t.Fatalf("no column %s", path)
		}
		if got := col.Node.Type().LogicalType().String(); got != want {
			t.Errorf("column %s: logical type %s, want %s", path, got, want)
		}
	}
	if col, _ := c.Schema().Lookup("dec_fixed"); col.Node.Type().Length() != 16 {
		t.Errorf("decimal(38) stored in %d bytes, want 16", col.Node.Type().Length())
	}
	if c.Schema().Name() != "All" {
		t.Errorf("schema name %q", c.Schema().Name())
	}
	if !strings.Contains(c.Schema().String(), "optional group uni") {
		t.Errorf("schema text:\n%s", c.Schema())
	}
}

func TestBaseSchemaKeepsIDs(t *testing.T) {
	v1 := mustNew(t, `{"type":"record","name":"R","fields":[
		{"name":"a","type":"long"},
		{"name":"n","type":{"type":"record","name":"N","fields":[{"name":"x","type":"int"}]}},
		{"name":"z","type":"string"}]}`)
	// v2 adds a field inside n and one at the top, in the middle.
	v2text := `{"type":"record","name":"R","fields":[
		{"name":"a","type":"long"},
		{"name":"added","type":["null","string"],"default":null},
		{"name":"n","type":{"type":"record","name":"N","fields":[{"name":"x","type":"int"},{"name":"w","type":["null",{"type":"array","items":"int"}]}]}},
		{"name":"z","type":"string"}]}`
	plain := mustNew(t, v2text)
	if f, _ := plain.IcebergSchema().FindFieldByName("z"); f.ID == 4 {
		t.Fatal("test premise: without Base, z should be renumbered")
	}
	v2, err := New(v2text, Options{Base: v1.IcebergSchema(), LastColumnID: 10})
	if err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]int{"a": 1, "n": 2, "n.x": 3, "z": 4, "added": 11, "n.w": 12, "n.w.element": 13} {
		if f, ok := v2.IcebergSchema().FindFieldByName(name); !ok || f.ID != id {
			t.Errorf("%s: id %d, want %d", name, f.ID, id)
		}
	}
	pids := make(map[string]int)
	parquetIDs(v2.Schema(), "", pids)
	if pids["z"] != 4 || pids["n.w.element"] != 13 {
		t.Errorf("parquet ids %v", pids)
	}
}

// TestIcebergAcceptsFiles runs iceberg-go's own file import (schema compatibility
// check by field id, then column statistics) on a file of every type.
func TestIcebergAcceptsFiles(t *testing.T) {
	c := mustNew(t, allTypes)
	cases := allTypeCases()
	ins := make([]map[string]any, len(cases))
	for i, tc := range cases {
		ins[i] = tc.in
	}
	path := writeFile(t, c, WriterOptions{}, decode(t, allTypes, ins...))
	df, err := table.FileToDataFile(context.Background(), iceio.LocalFS{}, path, c.IcebergSchema(), *iceberg.UnpartitionedSpec, 0, nil)
	if err != nil {
		t.Fatalf("iceberg-go rejects the file: %v", err)
	}
	if df.Count() != int64(len(cases)) {
		t.Errorf("iceberg-go counts %d records, want %d", df.Count(), len(cases))
	}
	idField, _ := c.IcebergSchema().FindFieldByName("id")
	if lb := df.LowerBoundValues()[idField.ID]; len(lb) != 4 || lb[0] != 1 {
		t.Errorf("lower bound of id = %v, want int32 1", lb)
	}
	// a file whose schema lacks a required field is refused: the check is real
	other := mustNew(t, `{"type":"record","name":"All","namespace":"riacho.test","fields":[{"name":"id","type":"int"}]}`)
	opath := writeFile(t, other, WriterOptions{}, []any{map[string]any{"id": int32(1)}})
	if _, err := table.FileToDataFile(context.Background(), iceio.LocalFS{}, opath, c.IcebergSchema(), *iceberg.UnpartitionedSpec, 0, nil); err == nil {
		t.Error("iceberg-go accepted a file that lacks required fields")
	}
}

// TestParquetGoReadBack reads the file with parquet-go: same schema, same rows,
// several row groups, metadata.
func TestParquetGoReadBack(t *testing.T) {
	c := mustNew(t, allTypes)
	cases := allTypeCases()
	var ins []map[string]any
	for i := 0; i < 10; i++ {
		for _, tc := range cases {
			ins = append(ins, tc.in)
		}
	}
	natives := decode(t, allTypes, ins...)
	var rows []parquet.Row
	for _, n := range natives {
		var err error
		if rows, err = c.AppendRow(rows, n); err != nil {
			t.Fatal(err)
		}
	}
	path := writeFile(t, c, WriterOptions{RowGroupRows: 7, Metadata: map[string]string{"riacho.offsets": "0:100-129"}}, natives)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if !parquet.EqualNodes(pf.Schema(), c.Schema()) {
		t.Errorf("file schema differs:\n%s\nwant\n%s", pf.Schema(), c.Schema())
	}
	if got := len(pf.RowGroups()); got != 5 { // 30 rows by 7
		t.Errorf("%d row groups, want 5", got)
	}
	if v, _ := pf.Lookup("riacho.offsets"); v != "0:100-129" {
		t.Errorf("metadata riacho.offsets = %q", v)
	}
	if v, _ := pf.Lookup(MetadataAvroSchema); v != allTypes {
		t.Errorf("metadata %s not the Avro schema", MetadataAvroSchema)
	}
	var got []parquet.Row
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		buf := make([]parquet.Row, 3)
		for {
			n, err := rr.ReadRows(buf)
			for _, r := range buf[:n] {
				got = append(got, r.Clone())
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		_ = rr.Close()
	}
	if len(got) != len(rows) {
		t.Fatalf("read %d rows, wrote %d", len(got), len(rows))
	}
	for i := range rows {
		if !rows[i].Equal(got[i]) {
			t.Fatalf("row %d differs:\n got  %v\n want %v", i, got[i], rows[i])
		}
	}

	// parquet-go's own reconstruction into maps agrees on a few values.
	m := map[string]any{}
	if err := c.Schema().Reconstruct(&m, rows[0]); err != nil {
		t.Fatal(err)
	}
	if m["s"] != "olá" || m["id"] != int32(1) {
		t.Errorf("reconstructed s=%v id=%v", m["s"], m["id"])
	}
}
