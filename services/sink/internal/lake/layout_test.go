package lake

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestDefaultLayoutMatchesSeed(t *testing.T) {
	l, err := NewLayout("")
	if err != nil {
		t.Fatal(err)
	}
	if l.Template() != DefaultTemplate {
		t.Fatalf("template %q", l.Template())
	}
	cases := []struct {
		zone, source, entity string
		day                  time.Time
		seq                  int
		want                 string
	}{
		{"raw", "ploomes", "leads", day(2024, 1, 15), 1, "raw/ploomes/year=2024/month=01/day=15/leads_20240115_001.parquet"},
		{"raw", "sap_b1", "invoices", day(2024, 1, 15), 1, "raw/sap_b1/year=2024/month=01/day=15/invoices_20240115_001.parquet"},
		{"raw", "whatsapp", "messages", day(2024, 1, 15), 1, "raw/whatsapp/year=2024/month=01/day=15/messages_20240115_001.parquet"},
		{"curated", "erp", "sales_orders", day(2023, 12, 31), 42, "curated/erp/year=2023/month=12/day=31/sales_orders_20231231_042.parquet"},
		{"raw", "erp", "t", day(2024, 2, 29), 999, "raw/erp/year=2024/month=02/day=29/t_20240229_999.parquet"},
		{"raw", "erp", "t", day(2024, 2, 29), 1000, "raw/erp/year=2024/month=02/day=29/t_20240229_1000.parquet"},
		{"raw", "erp", "t", day(2024, 2, 29), 123456, "raw/erp/year=2024/month=02/day=29/t_20240229_123456.parquet"},
	}
	for _, c := range cases {
		got := l.Path(c.zone, c.source, c.entity, c.day, c.seq)
		if got != c.want {
			t.Errorf("Path = %q, want %q", got, c.want)
		}
		info, ok := l.Parse(got)
		if !ok {
			t.Errorf("Parse(%q) failed", got)
			continue
		}
		if info.Zone != c.zone || info.Source != c.source || info.Entity != c.entity || !info.Day.Equal(c.day) || info.Seq != c.seq {
			t.Errorf("Parse(%q) = %+v", got, info)
		}
		// The zero Layout is the default one.
		if z := (Layout{}).Path(c.zone, c.source, c.entity, c.day, c.seq); z != c.want {
			t.Errorf("zero Layout Path = %q", z)
		}
	}
}

func TestPathUsesUTCDay(t *testing.T) {
	sp := time.FixedZone("BRT", -3*3600)
	// 2024-01-15 23:30 in São Paulo is 2024-01-16 in UTC.
	got := (Layout{}).Path("raw", "ploomes", "leads", time.Date(2024, 1, 15, 23, 30, 0, 0, sp), 7)
	if got != "raw/ploomes/year=2024/month=01/day=16/leads_20240116_007.parquet" {
		t.Fatal(got)
	}
}

func TestParseRejectsForeignKeys(t *testing.T) {
	l := Layout{}
	for _, key := range []string{
		"raw/ploomes/year=2024/month=01/day=15/leads_20240116_001.parquet",  // day disagrees
		"raw/ploomes/year=2024/month=02/day=30/leads_20240230_001.parquet",  // no such day
		"raw/ploomes/year=2024/month=01/day=15/leads_20240115_01.parquet",   // seq too short
		"raw/ploomes/year=2024/month=01/day=15/leads_20240115_0001.parquet", // padded beyond 3
		"raw/ploomes/year=2024/month=01/day=15/leads_20240115_001.parquet.1a2b.tmp",
		"_staging/raw.ploomes.leads/0/0-9-20240115.parquet",
		"raw/ploomes/leads_20240115_001.parquet",
	} {
		if info, ok := l.Parse(key); ok {
			t.Errorf("Parse(%q) = %+v, want no match", key, info)
		}
	}
	// An entity name with underscores and digits still parses.
	info, ok := l.Parse("raw/erp/year=2024/month=01/day=15/order_2_lines_20240115_003.parquet")
	if !ok || info.Entity != "order_2_lines" || info.Seq != 3 {
		t.Fatalf("%+v %v", info, ok)
	}
}

func TestCustomTemplate(t *testing.T) {
	l, err := NewLayout("{zone}/{source}/{entity}/dt={yyyymmdd}/part-{seq}.parquet")
	if err != nil {
		t.Fatal(err)
	}
	p := l.Path("raw", "erp", "orders", day(2025, 7, 4), 12)
	if p != "raw/erp/orders/dt=20250704/part-012.parquet" {
		t.Fatal(p)
	}
	info, ok := l.Parse(p)
	if !ok || info.Entity != "orders" || info.Seq != 12 || !info.Day.Equal(day(2025, 7, 4)) {
		t.Fatalf("%+v %v", info, ok)
	}
}

func TestTemplateValidation(t *testing.T) {
	cases := map[string]string{
		"{zone}/{source}/{entity}_{yyyymmdd}_{sequence}.parquet": "unknown placeholder {sequence}",
		"{zone}/{source}/{entity}_{yyyymmdd}_{seq.parquet":       "unbalanced '{'",
		"{zone}/{source}/{entity}_{yyyymmdd}_seq}.parquet":       "unbalanced '}'",
		"{zone}/{source}/{entity}_{yyyymmdd}.parquet":            "missing placeholder {seq}",
		"{zone}/{entity}_{yyyymmdd}_{seq}.parquet":               "missing placeholder {source}",
		"{zone}/{source}/{entity}_{yyyy}{mm}_{seq}.parquet":      "need a separator",
		"{zone}/{source}/{entity}_{yyyy}-{mm}_{seq}.parquet":     "missing the day",
		"/{zone}/{source}/{entity}_{yyyymmdd}_{seq}.parquet":     "relative to the bucket",
		"{zone}/../{source}/{entity}_{yyyymmdd}_{seq}.parquet":   "'..' path segment",
		"_staging/{zone}/{source}/{entity}_{yyyymmdd}_{seq}":     "reserved",
	}
	for tmpl, want := range cases {
		_, err := NewLayout(tmpl)
		if err == nil {
			t.Errorf("NewLayout(%q) accepted", tmpl)
			continue
		}
		if !errors.Is(err, ErrBadTemplate) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tmpl) {
			t.Errorf("NewLayout(%q) error %q, want it to mention %q and the template", tmpl, err, want)
		}
	}
}

func TestStagingKey(t *testing.T) {
	k := StagingKey("raw.ploomes.leads", 3, 100, 199, time.Date(2024, 1, 15, 13, 0, 0, 0, time.UTC))
	if k != "_staging/raw.ploomes.leads/3/100-199-20240115.parquet" {
		t.Fatal(k)
	}
	if !strings.HasPrefix(k, StagingPrefix("raw.ploomes.leads", 3)) {
		t.Fatal("prefix")
	}
	n, err := ParseStagingKey(k)
	if err != nil {
		t.Fatal(err)
	}
	if n.Topic != "raw.ploomes.leads" || n.Partition != 3 || n.First != 100 || n.Last != 199 || !n.Day.Equal(day(2024, 1, 15)) {
		t.Fatalf("%+v", n)
	}
	if _, err := ParseStagingKey("raw/ploomes/x.parquet"); err == nil {
		t.Fatal("accepted a layout key")
	}
	if _, ok := (Layout{}).Parse(k); ok {
		t.Fatal("a staging key parses as a layout key")
	}
}

func FuzzLayoutParse(f *testing.F) {
	f.Add("raw/ploomes/year=2024/month=01/day=15/leads_20240115_001.parquet")
	f.Add("raw/x/year=0000/month=00/day=00/a_00000000_000.parquet")
	f.Fuzz(func(t *testing.T, key string) {
		l := Layout{}
		info, ok := l.Parse(key)
		if !ok {
			return
		}
		// Whatever parses renders back to the same key.
		if got := l.Path(info.Zone, info.Source, info.Entity, info.Day, info.Seq); got != key {
			t.Fatalf("Parse(%q) = %+v renders %q", key, info, got)
		}
	})
}
