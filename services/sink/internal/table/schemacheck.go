package table

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/iceberg-go"
	"github.com/parquet-go/parquet-go"

	"github.com/riacho/riacho/services/sink/internal/lake"
)

// openParquet opens the footer of the Parquet object key.
func openParquet(ctx context.Context, store *lake.Store, key string) (*parquet.File, error) {
	ra, size, err := store.OpenFile(ctx, key)
	if err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(ra, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("read parquet footer of %s: %w", store.ObjectURL(key), err)
	}
	return f, nil
}

// checkFile reads the footer of the Parquet object key and checks its columns against schema:
// a column with a field id must carry the id the table gives to a column of that name; top-level
// columns without ids must exist in the table (they are resolved through the name mapping).
// It returns the file's row count.
func checkFile(ctx context.Context, store *lake.Store, key string, schema *iceberg.Schema) (int64, error) {
	f, err := openParquet(ctx, store, key)
	if err != nil {
		return 0, err
	}
	if err := checkFields(f.Schema().Fields(), schema, nil); err != nil {
		return 0, fmt.Errorf("%s: %w", store.ObjectURL(key), err)
	}
	return f.NumRows(), nil
}

func checkFields(fields []parquet.Field, schema *iceberg.Schema, path []string) error {
	for _, f := range fields {
		p := append(append([]string(nil), path...), f.Name())
		name := strings.Join(p, ".")
		if id := f.ID(); id != 0 {
			tf, ok := schema.FindFieldByID(id)
			if !ok {
				return fmt.Errorf("%w: column %s has field id %d, which the table does not have (write files with the table's ids, Table.Schema)", ErrSchemaMismatch, name, id)
			}
			if tf.Name != f.Name() {
				return fmt.Errorf("%w: column %s has field id %d, which the table gives to %q (write files with the table's ids, Table.Schema)", ErrSchemaMismatch, name, id, tf.Name)
			}
		} else if len(path) == 0 {
			if _, ok := schema.FindFieldByName(f.Name()); !ok {
				return fmt.Errorf("%w: column %s is not in the table's schema", ErrSchemaMismatch, name)
			}
		}
		if !f.Leaf() {
			if err := checkFields(f.Fields(), schema, p); err != nil {
				return err
			}
		}
	}
	return nil
}
