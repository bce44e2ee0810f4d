package table

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	itable "github.com/apache/iceberg-go/table"
)

// Scan returns the rows of the table as of snapshot snapshotID (0 = the current snapshot) as Go
// maps column → value, read with iceberg-go's scanner (for tests and the Control verb "read"; it
// holds every row in memory). Values: nil for null, bool, int32, int64, float32, float64, string,
// []byte, *big.Rat (decimal), time.Time (date: UTC midnight; timestamp: UTC), time.Duration (time of
// day), string (uuid), []any (list), map[string]any (struct; map with string keys), []any of
// {"key","value"} maps (map with other keys).
func (t *Table) Scan(ctx context.Context, snapshotID int64) ([]map[string]any, error) {
	tbl, err := t.load(ctx)
	if err != nil {
		return nil, err
	}
	var opts []itable.ScanOption
	if snapshotID != 0 {
		if tbl.SnapshotByID(snapshotID) == nil {
			return nil, fmt.Errorf("scan %s: snapshot %d: %w", t.name, snapshotID, ErrNoSnapshot)
		}
		opts = append(opts, itable.WithSnapshotID(snapshotID))
	} else if tbl.CurrentSnapshot() == nil {
		return nil, nil
	}
	_, batches, err := tbl.Scan(opts...).ToArrowRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", t.name, err)
	}
	var rows []map[string]any
	for rec, err := range batches {
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", t.name, err)
		}
		sc := rec.Schema()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make(map[string]any, rec.NumCols())
			for j, col := range rec.Columns() {
				row[sc.Field(j).Name] = arrowValue(col, i)
			}
			rows = append(rows, row)
		}
		rec.Release()
	}
	return rows, nil
}

// arrowValue converts element i of arr to the Go forms Scan documents.
func arrowValue(arr arrow.Array, i int) any {
	if arr.IsNull(i) {
		return nil
	}
	switch a := arr.(type) {
	case *array.Boolean:
		return a.Value(i)
	case *array.Int8:
		return int32(a.Value(i))
	case *array.Int16:
		return int32(a.Value(i))
	case *array.Int32:
		return a.Value(i)
	case *array.Int64:
		return a.Value(i)
	case *array.Uint32:
		return int64(a.Value(i))
	case *array.Float32:
		return a.Value(i)
	case *array.Float64:
		return a.Value(i)
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.StringView:
		return a.Value(i)
	case *array.Binary:
		return append([]byte(nil), a.Value(i)...)
	case *array.LargeBinary:
		return append([]byte(nil), a.Value(i)...)
	case *array.BinaryView:
		return append([]byte(nil), a.Value(i)...)
	case *array.FixedSizeBinary:
		return append([]byte(nil), a.Value(i)...)
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return new(big.Rat).SetFrac(a.Value(i).BigInt(), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
	case *array.Date32:
		return a.Value(i).ToTime().UTC()
	case *array.Time64:
		unit := a.DataType().(*arrow.Time64Type).Unit
		return time.Duration(int64(a.Value(i)) * int64(unit.Multiplier()))
	case *array.Time32:
		unit := a.DataType().(*arrow.Time32Type).Unit
		return time.Duration(int64(a.Value(i)) * int64(unit.Multiplier()))
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC()
	case *extensions.UUIDArray:
		return a.Value(i).String()
	case *array.Map:
		return mapValue(a, i)
	case array.ListLike:
		start, end := a.ValueOffsets(i)
		values := a.ListValues()
		out := make([]any, 0, end-start)
		for k := start; k < end; k++ {
			out = append(out, arrowValue(values, int(k)))
		}
		return out
	case *array.Struct:
		st := a.DataType().(*arrow.StructType)
		out := make(map[string]any, a.NumField())
		for f := 0; f < a.NumField(); f++ {
			out[st.Field(f).Name] = arrowValue(a.Field(f), i)
		}
		return out
	case array.ExtensionArray:
		return arrowValue(a.Storage(), i)
	}
	return arr.GetOneForMarshal(i)
}

func mapValue(a *array.Map, i int) any {
	start, end := a.ValueOffsets(i)
	keys, items := a.Keys(), a.Items()
	if _, ok := keys.(*array.String); ok {
		out := make(map[string]any, end-start)
		for k := start; k < end; k++ {
			out[keys.(*array.String).Value(int(k))] = arrowValue(items, int(k))
		}
		return out
	}
	out := make([]any, 0, end-start)
	for k := start; k < end; k++ {
		out = append(out, map[string]any{"key": arrowValue(keys, int(k)), "value": arrowValue(items, int(k))})
	}
	return out
}
