package pgtypes

import "testing"

// benchRow is a typical row: int8, numeric(12,2), text, timestamptz, bool.
var benchRow = []struct {
	m    Mapping
	text []byte
}{
	{builtinMapping(oidInt8, -1, "bigint"), []byte("1234567890")},
	{numericMapping(12<<16|2+4, "numeric(12,2)"), []byte("12345.67")},
	{builtinMapping(25, -1, "text"), []byte("a customer name of some length")},
	{builtinMapping(oidTimestamptz, -1, "timestamp with time zone"), []byte("2024-01-02 03:04:05.123456+00")},
	{builtinMapping(oidBool, -1, "boolean"), []byte("t")},
}

// BenchmarkDecodeRow decodes one typical row per iteration; compare rows/s with the raw
// pgoutput decode rate.
func BenchmarkDecodeRow(b *testing.B) {
	b.ReportAllocs()
	row := make([]any, len(benchRow))
	for b.Loop() {
		for i, c := range benchRow {
			v, err := c.m.Decode(c.text)
			if err != nil {
				b.Fatal(err)
			}
			row[i] = v
		}
	}
}

// BenchmarkDecodeColumn decodes each column of the typical row alone.
func BenchmarkDecodeColumn(b *testing.B) {
	for _, c := range benchRow {
		b.Run(c.m.SourceType, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.m.Decode(c.text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	arr := arrayMapping("integer[]", &entry{m: builtinMapping(oidInt4, -1, "integer"), delim: ','})
	text := []byte("{1,2,3,NULL,5,6,7,8,9,10}")
	b.Run("integer[10]", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := arr.Decode(text); err != nil {
				b.Fatal(err)
			}
		}
	})
}
