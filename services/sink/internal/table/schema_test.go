package table_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/apache/iceberg-go"

	"github.com/riacho/riacho/services/sink/internal/table"
)

func fmtRow(r map[string]any) string {
	keys := make([]string, 0, len(r))
	for k := range r {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%v;", k, r[k])
	}
	return b.String()
}

func TestSchemaEvolution(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tb := e.table(t, schemaV1())
	v1, _ := tb.Schema(ctx)
	f1 := stage(t, e, schemaV1(), v1, 0, 0, rowsFor(0, 5, false), day1)
	s1, err := tb.Commit(ctx, request([]table.StagedFile{f1}, 0, 0, 5))
	if err != nil {
		t.Fatal(err)
	}

	// The writer's schema gains an optional field: the table evolves (union by name).
	tb2 := e.table(t, schemaV2())
	v2, err := tb2.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	email, ok := v2.FindFieldByName("email")
	if !ok || email.Required || v2.ID == v1.ID {
		t.Fatalf("schema not evolved: %s", v2)
	}
	for _, n := range []string{"id", "name"} {
		a, _ := v1.FindFieldByName(n)
		b, _ := v2.FindFieldByName(n)
		if a.ID != b.ID {
			t.Fatalf("field %s changed id %d → %d", n, a.ID, b.ID)
		}
	}
	// Asking again with the same or an older schema changes nothing.
	e.table(t, schemaV2())
	e.table(t, schemaV1())
	if v, _ := tb.Schema(ctx); v.ID != v2.ID {
		t.Fatalf("schema changed again: %s", v)
	}

	// A file with the table's ids, and one without ids (resolved by name mapping).
	f2 := stage(t, e, schemaV2(), v2, 0, 5, rowsFor(5, 5, true), day1)
	if _, err := tb.Commit(ctx, request([]table.StagedFile{f2}, 0, 5, 10)); err != nil {
		t.Fatal(err)
	}
	f3 := stage(t, e, schemaV2(), nil, 0, 10, rowsFor(10, 5, true), day1)
	if _, err := tb.Commit(ctx, request([]table.StagedFile{f3}, 0, 10, 15)); err != nil {
		t.Fatal(err)
	}

	// More files of both kinds, for compaction below.
	f4 := stage(t, e, schemaV2(), v2, 0, 15, rowsFor(15, 5, true), day1)
	if _, err := tb.Commit(ctx, request([]table.StagedFile{f4}, 0, 15, 20)); err != nil {
		t.Fatal(err)
	}
	f5 := stage(t, e, schemaV2(), nil, 0, 20, rowsFor(20, 5, true), day1)
	if _, err := tb.Commit(ctx, request([]table.StagedFile{f5}, 0, 20, 25)); err != nil {
		t.Fatal(err)
	}

	// A file numbered by its own writer schema, where the ids disagree with the table's
	// (email=2, name=3), is refused instead of being read with swapped columns.
	swapped := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "email", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 3, Name: "name", Type: iceberg.PrimitiveTypes.String},
	)
	if n, _ := v2.FindFieldByName("name"); n.ID == 3 {
		t.Fatal("test premise: the table must not give id 3 to name")
	}
	bad := stage(t, e, schemaV2(), swapped, 0, 25, rowsFor(25, 5, true), day1)
	_, err = tb.Commit(ctx, request([]table.StagedFile{bad}, 0, 25, 30))
	if !errors.Is(err, table.ErrSchemaMismatch) {
		t.Fatalf("mismatched ids: %v", err)
	}
	// So is a file with a column the table lacks.
	extra := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "phone", Type: iceberg.PrimitiveTypes.String},
	)
	bad2 := stage(t, e, extra, nil, 0, 25, []row{{"id": int64(25), "phone": "x"}}, day1)
	if _, err := tb.Commit(ctx, request([]table.StagedFile{bad2}, 0, 25, 26)); !errors.Is(err, table.ErrSchemaMismatch) {
		t.Fatalf("unknown column: %v", err)
	}

	// Both generations read through Iceberg: old rows have a null email.
	rows, err := tb.Scan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(t, rows); !slices.Equal(got, seqIDs(0, 25)) {
		t.Fatalf("ids %v", got)
	}
	for _, r := range rows {
		id := r["id"].(int64)
		want := any(nil)
		if id >= 5 {
			want = fmt.Sprintf("l%d@example.com", id)
		}
		if r["email"] != want {
			t.Fatalf("row %d email %v, want %v", id, r["email"], want)
		}
		wantName := any(fmt.Sprintf("lead %d", id))
		if id%7 == 3 {
			wantName = nil
		}
		if r["name"] != wantName {
			t.Fatalf("row %d name %v, want %v", id, r["name"], wantName)
		}
	}
	// The first snapshot still reads the first file.
	old, err := tb.Scan(ctx, s1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(t, old); !slices.Equal(got, seqIDs(0, 5)) {
		t.Fatalf("snapshot 1 ids %v", got)
	}
	// Compaction merges files of one Parquet schema only (f2+f4 with the table's ids, f3+f5
	// without ids; f1 alone) and keeps the rows intact.
	if _, err := tb.Compact(ctx, day1, 1<<30); err != nil {
		t.Fatal(err)
	}
	if d, _ := tb.Describe(ctx); d.Files != 3 || d.Records != 25 {
		t.Fatalf("after compaction: %d files, %d records", d.Files, d.Records)
	}
	after, err := tb.Scan(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !sameRows(rows, after) {
		t.Fatal("compaction across schema generations changed rows")
	}
}

func TestSchemaIncompatible(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tb := e.table(t, schemaV1())
	before, err := tb.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// name: string → long is no promotion Iceberg allows.
	changed := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.Int64},
	)
	_, err = e.cat.Table(ctx, "raw_ploomes", "leads", changed)
	if !errors.Is(err, table.ErrSchemaIncompatible) {
		t.Fatalf("type change: %v, want ErrSchemaIncompatible", err)
	}
	if !strings.Contains(err.Error(), "name") || errors.Is(err, table.ErrSchemaMismatch) {
		t.Fatalf("reason does not name the field, or is a file mismatch: %v", err)
	}
	// A struct where the table has a primitive is refused the same way.
	nested := iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: &iceberg.StructType{FieldList: []iceberg.NestedField{
			{ID: 3, Name: "first", Type: iceberg.PrimitiveTypes.String},
		}}},
	)
	if _, err := e.cat.Table(ctx, "raw_ploomes", "leads", nested); !errors.Is(err, table.ErrSchemaIncompatible) {
		t.Fatalf("primitive to struct: %v, want ErrSchemaIncompatible", err)
	}
	if after, _ := tb.Schema(ctx); after.ID != before.ID || !after.Equals(before) {
		t.Fatalf("a refused schema changed the table: %s", after)
	}

	// Failures that are not the schema's do not carry it: a cancelled context...
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := e.cat.Table(cctx, "raw_ploomes", "leads", schemaV2()); err == nil || errors.Is(err, table.ErrSchemaIncompatible) {
		t.Fatalf("cancelled context: %v", err)
	}
	// ...and a closed catalog.
	closed := newEnv(t)
	closed.table(t, schemaV1())
	if err := closed.cat.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := closed.cat.Table(ctx, "raw_ploomes", "leads", schemaV2()); err == nil || errors.Is(err, table.ErrSchemaIncompatible) {
		t.Fatalf("closed catalog: %v", err)
	}

	// A compatible change still evolves the table.
	if _, err := e.cat.Table(ctx, "raw_ploomes", "leads", schemaV2()); err != nil {
		t.Fatalf("compatible change after a refused one: %v", err)
	}
}
