package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// expectPartitions is the DuckDB answer of partitionSums for n records per
// partition numbered 0..n-1.
func expectPartitions(counts map[int32]int64) [][]string {
	var out [][]string
	for p := int32(0); p < int32(len(counts)); p++ {
		n := counts[p]
		out = append(out, []string{fmt.Sprint(p), fmt.Sprint(n), fmt.Sprint(n), fmt.Sprint(n * (n - 1) / 2)})
	}
	return out
}

// partitionSums is the per-partition count, distinct count and sum of seq
// over every committed Parquet file of dir (the lake layout, read with
// Hive partitioning).
const partitionSums = `SELECT p, count(*), count(DISTINCT seq), sum(seq) FROM read_parquet('{lake}/%s/**/*.parquet', hive_partitioning=true, union_by_name=true) GROUP BY p ORDER BY p`

// TestRecordsBecomeFilesAtTheSeedPaths writes records of two days into two
// partitions and reads the lake back with DuckDB (Hive partitioning from
// the paths) and with an Iceberg scan.
func TestRecordsBecomeFilesAtTheSeedPaths(t *testing.T) {
	h := newHarness(t, "")
	const topic = "raw.ploomes.leads"
	h.createTopic(topic, 2)
	enc := h.encoder(topic, leadSchema)
	const n = 500
	for p := int32(0); p < 2; p++ {
		h.produce(leadRecords(t, enc, topic, p, 0, n)...)
	}
	r := h.start(h.engine(Config{RotateRecords: 200}))
	h.waitCommitted(topic, h.endOffsets(topic), 60*time.Second)
	r.stop(t)

	files := h.lakeFiles("raw/")
	pathRe := regexp.MustCompile(`^raw/ploomes/year=2024/month=01/day=(15|16)/leads_202401(15|16)_(\d{3})\.parquet$`)
	for _, f := range files {
		m := pathRe.FindStringSubmatch(f)
		if m == nil || m[1] != m[2] {
			t.Errorf("file %s is not at a seed layout path", f)
		}
	}
	for _, want := range []string{
		"raw/ploomes/year=2024/month=01/day=15/leads_20240115_001.parquet",
		"raw/ploomes/year=2024/month=01/day=16/leads_20240116_001.parquet",
	} {
		if !slices.Contains(files, want) {
			t.Errorf("no %s among %v", want, files)
		}
	}
	// 500 records per partition rotated every 200 → 3 ranges per partition, each with both days.
	if len(files) != 12 {
		t.Errorf("%d files, want 12: %v", len(files), files)
	}
	if staged := h.lakeFiles("_staging/"); len(staged) != 0 {
		t.Errorf("staged files left after the commits: %v", staged)
	}

	lakeDir := h.localLake("raw/")
	got := duck(t, lakeDir, fmt.Sprintf(partitionSums, "raw"))
	if want := expectPartitions(map[int32]int64{0: n, 1: n}); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("duckdb per partition %v, want %v", got, want)
	}
	// The Hive day of every row is its event day.
	if got := duck(t, lakeDir, `SELECT count(*) FROM read_parquet('{lake}/raw/**/*.parquet', hive_partitioning=true)
		WHERE CAST(event_time AS DATE) <> make_date(CAST(year AS INT), CAST(month AS INT), CAST(day AS INT))`); got[0][0] != "0" {
		t.Errorf("%s rows sit in another day's directory", got[0][0])
	}
	row := duck(t, lakeDir, `SELECT name, email, CAST(amount AS VARCHAR), status, tags, attrs['k'], address.city, address.zip, birthday, id, event_time
		FROM read_parquet('{lake}/raw/**/*.parquet', hive_partitioning=true) WHERE p = 1 AND seq = 12`)
	want := []string{"Lead 1/12", "<nil>", "12.25", "OPEN", "[t1 s2]", "12", "Recife", "50000-000",
		"1990-05-17 00:00:00 +0000 UTC", "00000000-0000-4000-8000-000000000012", "2024-01-15 00:00:12.000123 +0000 UTC"}
	if len(row) != 1 || !slices.Equal(row[0], want) {
		t.Errorf("row p=1 seq=12 reads back as %v, want %v", row, want)
	}

	// The Iceberg table holds the same rows and the offsets.
	ctx := context.Background()
	tb, err := h.cat.Table(ctx, "raw_ploomes", "leads", nil)
	if err != nil {
		t.Fatal(err)
	}
	d, err := tb.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d.Records != 2*n || d.Files != int64(len(files)) {
		t.Errorf("table describes %d records in %d files, want %d in %d", d.Records, d.Files, 2*n, len(files))
	}
	rows, err := tb.Scan(ctx, d.CurrentSnapshot)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, r := range rows {
		seen[fmt.Sprint(r["p"], "/", r["seq"])] = true
	}
	if len(rows) != 2*n || len(seen) != 2*n {
		t.Errorf("iceberg scan: %d rows, %d distinct (p, seq), want %d", len(rows), len(seen), 2*n)
	}
}

// TestBadRecordsGoToTheDeadLetterTopic mixes records that cannot be
// decoded into a partition: they land on dlq.sink with the reason and the
// original bytes, and every good record is written, none as a zero row.
func TestBadRecordsGoToTheDeadLetterTopic(t *testing.T) {
	h := newHarness(t, "")
	const topic = "raw.shop.orders"
	h.createTopic(topic, 1)
	enc := h.encoder(topic, leadSchema)
	good := leadRecords(t, enc, topic, 0, 0, 10)
	truncated := append([]byte(nil), good[3].Value[:12]...)
	huge := lead(0, 99)
	huge["amount"] = new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil)) // beyond decimal(12,2)
	hugeWire, err := enc.Encode(huge)
	if err != nil {
		t.Fatal(err)
	}
	bad := []*kgo.Record{
		{Topic: topic, Value: []byte("{\"not\":\"avro\"}")},                              // no magic byte
		{Topic: topic, Value: truncated},                                                 // truncated body
		{Topic: topic, Value: append([]byte{0, 0, 0, 0x7f, 0x7f}, good[0].Value[5:]...)}, // unknown schema id
		{Topic: topic, Value: hugeWire},                                                  // decodes, does not convert
	}
	var recs []*kgo.Record
	for i, g := range good {
		recs = append(recs, g)
		if i < len(bad) {
			recs = append(recs, bad[i])
		}
	}
	recs = append(recs, &kgo.Record{Topic: topic, Key: []byte("gone")}) // a tombstone: skipped, not dead-lettered
	h.produce(recs...)
	r := h.start(h.engine(Config{}))
	h.waitCommitted(topic, h.endOffsets(topic), 60*time.Second)
	r.stop(t)

	got := duck(t, h.localLake("raw/"), fmt.Sprintf(partitionSums, "raw"))
	if want := expectPartitions(map[int32]int64{0: 10}); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("duckdb %v, want %v", got, want)
	}
	if got := duck(t, h.localLake("raw/"), `SELECT count(*) FROM read_parquet('{lake}/raw/**/*.parquet') WHERE name IS NULL OR name = ''`); got[0][0] != "0" {
		t.Errorf("%s zero-valued rows written", got[0][0])
	}
	dl := h.kc.Consume(t, DefaultDLQTopic, len(bad), 30*time.Second)
	if len(dl) != len(bad) {
		t.Fatalf("%d dead letters, want %d", len(dl), len(bad))
	}
	reasons := []string{"wire format", "malformed", "not in the registry", "amount"}
	for i, rec := range dl {
		var d DeadLetter
		if err := json.Unmarshal(rec.Value, &d); err != nil {
			t.Fatalf("dead letter %d: %v: %s", i, err, rec.Value)
		}
		if d.Topic != topic || d.Partition != 0 || d.Offset != int64(2*i+1) || string(d.Value) != string(bad[i].Value) || d.Reason == "" {
			t.Errorf("dead letter %d: %+v", i, d)
		}
		if !strings.Contains(strings.ToLower(d.Reason), reasons[i]) {
			t.Errorf("dead letter %d reason %q does not mention %q", i, d.Reason, reasons[i])
		}
	}
}
