package chaos

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	itable "github.com/apache/iceberg-go/table"
	"github.com/uptrace/bun/driver/sqliteshim"
)

// offsetPrefix starts the snapshot summary keys in which the sink records
// the next Kafka offset per partition: riacho.offset.<topic>.<partition>.
const offsetPrefix = "riacho.offset."

// lakeReader reads the sink's Iceberg tables through the SQL catalog the
// sink keeps in the lake (<lake>/_catalog/catalog.db), as any Iceberg
// reader would: only the files of a table's current snapshot count, never
// a file a killed writer left behind.
type lakeReader struct {
	db  *sql.DB
	cat *sqlcat.Catalog
}

func openLake(t *testing.T, lake string) *lakeReader {
	t.Helper()
	path := filepath.Join(lake, "_catalog", "catalog.db")
	db, err := sql.Open(sqliteshim.ShimName, "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatalf("open the lake's catalog %s: %v", path, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	cat, err := sqlcat.NewCatalog("riacho", db, sqlcat.SQLite, iceberg.Properties{"warehouse": "file://" + filepath.ToSlash(lake) + "/"})
	if err != nil {
		t.Fatalf("open the lake's catalog %s: %v", path, err)
	}
	return &lakeReader{db: db, cat: cat}
}

// ident is the Iceberg table of a topic: raw.whatsapp.messages →
// raw_whatsapp.messages, raw.erp.demo.faturas → raw_erp.demo_faturas.
func ident(topic string) itable.Identifier {
	parts := strings.SplitN(topic, ".", 3)
	return itable.Identifier{parts[0] + "_" + parts[1], strings.ReplaceAll(parts[2], ".", "_")}
}

// table loads topic's table; nil (no error) when the sink has not made it yet.
func (l *lakeReader) table(ctx context.Context, topic string) (*itable.Table, error) {
	tbl, err := l.cat.LoadTable(ctx, ident(topic))
	if errors.Is(err, catalog.ErrNoSuchTable) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load table %s: %w", strings.Join(ident(topic), "."), err)
	}
	return tbl, nil
}

// offsets returns the next offset per partition of topic that the current
// snapshot of its table records.
func (l *lakeReader) offsets(ctx context.Context, topic string) (map[int32]int64, error) {
	out := map[int32]int64{}
	tbl, err := l.table(ctx, topic)
	if err != nil || tbl == nil || tbl.CurrentSnapshot() == nil || tbl.CurrentSnapshot().Summary == nil {
		return out, err
	}
	prefix := offsetPrefix + topic + "."
	for k, v := range tbl.CurrentSnapshot().Summary.Properties {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		p, err1 := strconv.ParseInt(rest, 10, 32)
		off, err2 := strconv.ParseInt(v, 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("table %s summary %s=%s: %w", strings.Join(ident(topic), "."), k, v, err)
		}
		out[int32(p)] = off
	}
	return out, nil
}

// ids scans column of topic's table as of its current snapshot and counts
// the rows per value.
func (l *lakeReader) ids(ctx context.Context, topic, column string) (map[string]int, error) {
	out := map[string]int{}
	tbl, err := l.table(ctx, topic)
	if err != nil || tbl == nil || tbl.CurrentSnapshot() == nil {
		return out, err
	}
	name := strings.Join(ident(topic), ".")
	_, batches, err := tbl.Scan(itable.WithSelectedFields(column)).ToArrowRecords(ctx)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", name, err)
	}
	for rec, err := range batches {
		if err != nil {
			return nil, fmt.Errorf("scan %s: %w", name, err)
		}
		err = countStrings(rec.Column(0), out)
		rec.Release()
		if err != nil {
			return nil, fmt.Errorf("scan %s column %s: %w", name, column, err)
		}
	}
	return out, nil
}

// countStrings adds the values of a string column to counts.
func countStrings(arr arrow.Array, counts map[string]int) error {
	col, ok := arr.(interface {
		arrow.Array
		Value(int) string
	})
	if !ok {
		return fmt.Errorf("type %s, want a string", arr.DataType())
	}
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			return errors.New("a row with a null value")
		}
		counts[col.Value(i)]++
	}
	return nil
}
