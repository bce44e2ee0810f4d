package sapb1_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/riacho/riacho/libs/testlog"
	"github.com/riacho/riacho/services/cdc/internal/cdctest"
	"github.com/riacho/riacho/services/cdc/internal/emit"
	"github.com/riacho/riacho/services/cdc/internal/poll"
	"github.com/riacho/riacho/services/cdc/internal/poll/polltest"
	"github.com/riacho/riacho/services/cdc/internal/poll/sapb1"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func invoice(entry int, date, tm string, total string) map[string]any {
	return map[string]any{
		"DocEntry": entry, "DocNum": 1000 + entry, "CardCode": fmt.Sprintf("C%04d", entry%7),
		"DocDate": date, "DocTotal": total, "UpdateDate": date, "UpdateTime": tm,
		"DocumentLines": []any{map[string]any{"LineNum": 0, "ItemCode": "A001", "Quantity": 2}},
	}
}

func config(sl *polltest.SAPB1, entities ...poll.EntityConfig) poll.SAPB1Config {
	if len(entities) == 0 {
		entities = []poll.EntityConfig{{Name: "Invoices", Fields: []poll.FieldConfig{
			{Name: "CardCode"}, {Name: "DocTotal", Type: "decimal(19,2)"}, {Name: "DocDate", Type: "date"},
		}}}
	}
	return poll.SAPB1Config{
		URL: sl.URL(), CompanyDB: sl.CompanyDB, Username: sl.UserName, PasswordEnv: "TEST_SAPB1_PASSWORD",
		Entities: entities, PageSize: 10, Overlap: 10 * time.Minute, TimezoneOffset: "-03:00",
		InsecureSkipVerify: true, Interval: time.Hour,
	}
}

func newFetcher(t *testing.T, sl *polltest.SAPB1, cfg poll.SAPB1Config) *sapb1.Fetcher {
	t.Helper()
	f, err := sapb1.New(cfg, sapb1.Options{Password: sl.Password, Logger: testlog.New(t, slog.LevelWarn)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close(context.Background()) })
	return f
}

// fetchAll reads entity from the start the way the poller does, by position.
func fetchAll(t *testing.T, f *sapb1.Fetcher, entity string, limit int) []poll.Record {
	t.Helper()
	var out []poll.Record
	pos := poll.Position{}
	for i := 0; i < 100; i++ {
		page, err := f.Fetch(ctx(t), entity, pos, limit)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rows {
			if r.Err != nil {
				t.Fatalf("row error: %v", r.Err)
			}
			if r.TS.Equal(pos.TS) {
				pos.Skip++
			} else if r.TS.After(pos.TS) {
				pos = poll.Position{TS: r.TS, Skip: 1, Key: r.Key}
			}
			out = append(out, r)
		}
		if !page.More {
			return out
		}
	}
	t.Fatal("no end after 100 pages")
	return nil
}

func TestLoginCookiesAndPaging(t *testing.T) {
	for _, tc := range []struct {
		name     string
		v2, abs  bool
		serverPg int
	}{
		{name: "v1 relative next link", serverPg: 3},
		{name: "v2 relative next link", v2: true, serverPg: 3},
		{name: "v1 absolute next link", abs: true, serverPg: 4},
		{name: "v2 absolute next link", v2: true, abs: true, serverPg: 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sl := polltest.NewSAPB1(t)
			sl.SetV2(tc.v2)
			sl.SetAbsoluteNextLink(tc.abs)
			sl.SetMaxPageSize(tc.serverPg)
			for i := 1; i <= 23; i++ {
				sl.Put("Invoices", "DocEntry", invoice(i, "2026-05-0"+fmt.Sprint(1+i%3), fmt.Sprintf("1%d:00:00", i%10), "10.50"))
			}
			f := newFetcher(t, sl, config(sl))
			rows := fetchAll(t, f, "Invoices", 10)
			if len(rows) != 23 {
				t.Fatalf("%d rows, want 23", len(rows))
			}
			seen := map[int64]bool{}
			for i, r := range rows {
				seen[r.Key[0].(int64)] = true
				if i > 0 && r.TS.Before(rows[i-1].TS) {
					t.Fatalf("rows out of change-time order at %d", i)
				}
			}
			if len(seen) != 23 {
				t.Fatalf("%d distinct rows, want 23", len(seen))
			}
			if sl.Logins() != 1 {
				t.Fatalf("%d logins, want 1 (the session is reused)", sl.Logins())
			}
			// Every request asks for pages of 10; the server grants at most
			// its cap, and the client follows the next links.
			for _, p := range sl.Prefers() {
				if p != "odata.maxpagesize=10" {
					t.Fatalf("Prefer %q, want odata.maxpagesize=10", p)
				}
			}
			if want := (23 + min(10, tc.serverPg) - 1) / min(10, tc.serverPg); sl.Gets() < want {
				t.Fatalf("%d GETs, want at least %d", sl.Gets(), want)
			}
		})
	}
}

func TestFilterCatchesLaterDaysAtEarlierTimes(t *testing.T) {
	sl := polltest.NewSAPB1(t)
	sl.Put("Invoices", "DocEntry", invoice(1, "2026-05-01", "18:00:00", "1"))
	// Changed on a later day at an earlier clock time: the naive
	// "UpdateDate ge D and UpdateTime ge T" filter misses it.
	sl.Put("Invoices", "DocEntry", invoice(2, "2026-05-02", "08:00:00", "2"))
	sl.Put("Invoices", "DocEntry", invoice(3, "2026-04-30", "23:00:00", "3"))
	f := newFetcher(t, sl, config(sl))
	loc := time.FixedZone("", -3*3600)
	from := poll.Position{TS: time.Date(2026, 5, 1, 17, 0, 0, 0, loc)}
	page, err := f.Fetch(ctx(t), "Invoices", from, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, r := range page.Rows {
		got = append(got, r.Key[0].(int64))
	}
	if fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("rows %v, want [1 2]", got)
	}
	q, _ := url.ParseQuery(sl.Queries()[0])
	if f := q.Get("$filter"); f != "(UpdateDate gt '2026-05-01') or (UpdateDate eq '2026-05-01' and UpdateTime ge '17:00:00')" {
		t.Fatalf("$filter = %q", f)
	}
	if o := q.Get("$orderby"); o != "UpdateDate,UpdateTime,DocEntry" {
		t.Fatalf("$orderby = %q", o)
	}
	if !page.Rows[1].TS.Equal(time.Date(2026, 5, 2, 11, 0, 0, 0, time.UTC)) {
		t.Fatalf("row 2 change time %v, want 2026-05-02 08:00 -03:00", page.Rows[1].TS)
	}
}

func TestSessionExpiryLogsInAgainOnce(t *testing.T) {
	sl := polltest.NewSAPB1(t)
	sl.Put("Invoices", "DocEntry", invoice(1, "2026-05-01", "10:00:00", "1"))
	f := newFetcher(t, sl, config(sl))
	var mu sync.Mutex
	var reasons []string
	f.NotifyRetries(func(r string) { mu.Lock(); reasons = append(reasons, r); mu.Unlock() })
	if _, err := f.Fetch(ctx(t), "Invoices", poll.Position{}, 10); err != nil {
		t.Fatal(err)
	}
	sl.ExpireSessions()
	page, err := f.Fetch(ctx(t), "Invoices", poll.Position{}, 10)
	if err != nil {
		t.Fatalf("fetch after session expiry: %v", err)
	}
	if len(page.Rows) != 1 || sl.Logins() != 2 {
		t.Fatalf("rows %d, logins %d; want 1 row after the second login", len(page.Rows), sl.Logins())
	}
	mu.Lock()
	if fmt.Sprint(reasons) != "[relogin]" {
		t.Fatalf("retry reasons %v", reasons)
	}
	mu.Unlock()

	// A 401 that persists after the new login is an error, not a loop.
	old := sl.Password
	sl.SetPassword("changed")
	sl.ExpireSessions()
	_, err = f.Fetch(ctx(t), "Invoices", poll.Position{}, 10)
	if !errors.Is(err, sapb1.ErrLogin) {
		t.Fatalf("err = %v, want ErrLogin", err)
	}
	if strings.Contains(err.Error(), old) {
		t.Fatal("the error leaks the password")
	}
}

func TestBadCredentials(t *testing.T) {
	sl := polltest.NewSAPB1(t)
	sl.Put("Invoices", "DocEntry", invoice(1, "2026-05-01", "10:00:00", "1"))
	cfg := config(sl)
	f, err := sapb1.New(cfg, sapb1.Options{Password: "wrong-pass"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close(context.Background())
	_, err = f.Fetch(ctx(t), "Invoices", poll.Position{}, 10)
	var herr *sapb1.HTTPError
	if !errors.Is(err, sapb1.ErrLogin) || !errors.As(err, &herr) || herr.Code != "-304" {
		t.Fatalf("err = %v, want ErrLogin with the Service Layer's code -304", err)
	}
	if strings.Contains(err.Error(), "wrong-pass") {
		t.Fatal("the error leaks the password")
	}
}

func TestTLSVerification(t *testing.T) {
	sl := polltest.NewSAPB1(t)
	sl.Put("Invoices", "DocEntry", invoice(1, "2026-05-01", "10:00:00", "1"))
	cfg := config(sl)
	cfg.InsecureSkipVerify = false
	f := newFetcher(t, sl, cfg)
	_, err := f.Fetch(ctx(t), "Invoices", poll.Position{}, 10)
	var cerr *tls.CertificateVerificationError
	if !errors.As(err, &cerr) {
		t.Fatalf("err = %v, want a certificate verification error (self-signed, verification on by default)", err)
	}
	cfg.InsecureSkipVerify = true
	f = newFetcher(t, sl, cfg)
	if _, err := f.Fetch(ctx(t), "Invoices", poll.Position{}, 10); err != nil {
		t.Fatalf("with insecure_skip_verify: %v", err)
	}
}

func TestForeignNextLinkIsRefused(t *testing.T) {
	sl := polltest.NewSAPB1(t)
	for i := 1; i <= 3; i++ {
		sl.Put("Invoices", "DocEntry", invoice(i, "2026-05-01", "10:00:00", "1"))
	}
	sl.SetMaxPageSize(1)
	sl.SetNextLinkBase("https://attacker.example")
	f := newFetcher(t, sl, config(sl))
	_, err := f.Fetch(ctx(t), "Invoices", poll.Position{}, 10)
	if !errors.Is(err, sapb1.ErrForeignLink) {
		t.Fatalf("err = %v, want ErrForeignLink", err)
	}
}

func TestServerErrorIsReported(t *testing.T) {
	sl := polltest.NewSAPB1(t)
	sl.Put("Invoices", "DocEntry", invoice(1, "2026-05-01", "10:00:00", "1"))
	f := newFetcher(t, sl, config(sl))
	sl.FailNext(http.StatusInternalServerError)
	_, err := f.Fetch(ctx(t), "Invoices", poll.Position{}, 10)
	var herr *sapb1.HTTPError
	if !errors.As(err, &herr) || herr.Status != 500 || herr.Message != "injected failure" {
		t.Fatalf("err = %v, want HTTP 500 with the Service Layer's message", err)
	}
}

func TestEndToEnd(t *testing.T) {
	env := cdctest.New(t)
	sl := polltest.NewSAPB1(t)
	sl.SetMaxPageSize(4)
	for i := 1; i <= 12; i++ {
		// Three rows share each second.
		sl.Put("Invoices", "DocEntry", invoice(i, "2026-05-01", fmt.Sprintf("10:00:0%d", i/3), fmt.Sprintf("%d.25", i)))
	}
	for i, code := range []string{"C0001", "C0002", "C0003"} {
		sl.Put("BusinessPartners", "CardCode", map[string]any{
			"CardCode": code, "CardName": "Cliente " + code, "UpdateDate": "2026-05-01T00:00:00Z", "UpdateTime": fmt.Sprintf("09:0%d:00", i),
		})
	}
	cfg := config(sl, poll.EntityConfig{Name: "Invoices", Fields: []poll.FieldConfig{{Name: "DocTotal", Type: "decimal(19,2)"}}},
		poll.EntityConfig{Name: "BusinessPartners", Fields: []poll.FieldConfig{{Name: "CardName"}}})
	cfg.PageSize = 5
	f := newFetcher(t, sl, cfg)
	opts := cfg.Options()
	opts.RetryMin, opts.RetryMax, opts.Logger = time.Millisecond, 10*time.Millisecond, testlog.New(t, slog.LevelWarn)
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	p, err := poll.New("erp", f, env.Emitter(emit.Options{}), env.State(""), opts)
	if err != nil {
		t.Fatal(err)
	}
	polltest.Start(t, p)
	for _, e := range []string{"Invoices", "BusinessPartners"} {
		polltest.WaitFor(t, p, e, 30*time.Second, "backfill", func(s poll.EntityStatus) bool { return !s.Backfilling })
	}
	inv := env.ReadAll("raw.erp.b1.invoices")
	bps := env.ReadAll("raw.erp.b1.businesspartners")
	if len(inv) != 12 || len(bps) != 3 {
		t.Fatalf("%d invoices and %d partners, want 12 and 3", len(inv), len(bps))
	}
	if k := bps[0].Key["CardCode"]; k != "C0001" {
		t.Fatalf("partner key %v, want CardCode C0001", bps[0].Key)
	}
	a := inv[4].After()
	if a["DocEntry"] != int64(5) || a["DocTotal"].(*big.Rat).Cmp(big.NewRat(525, 100)) != 0 || a["UpdateTime"] != "10:00:01" {
		t.Fatalf("invoice 5 after = %v", a)
	}
	if d, ok := a["UpdateDate"].(time.Time); !ok || !d.Equal(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("UpdateDate = %#v", a["UpdateDate"])
	}
	if src := inv[4].Source(); src["db"] != sl.CompanyDB || src["connector"] != "sapb1" || src["schema"] != "b1" {
		t.Fatalf("source = %v", src)
	}

	// The session expires and two invoices change: one later the same day,
	// one on the next day at an earlier clock time.
	sl.ExpireSessions()
	sl.Put("Invoices", "DocEntry", invoice(2, "2026-05-01", "15:00:00", "99.99"))
	sl.Put("Invoices", "DocEntry", invoice(7, "2026-05-02", "07:00:00", "77.77"))
	polltest.Pass(t, p, "Invoices")
	inv = env.ReadAll("raw.erp.b1.invoices")
	if len(inv) != 14 {
		t.Fatalf("%d invoice records, want 14", len(inv))
	}
	for _, c := range inv[12:] {
		if c.Op() != "u" {
			t.Fatalf("change op %q, want u", c.Op())
		}
	}
	if sl.Logins() < 2 {
		t.Fatal("no login after the session expired")
	}
	if n := retries(t, reg); n < 1 {
		t.Fatalf("http retries {reason=relogin} = %v, want >= 1", n)
	}
	// Idle poll: the overlap re-read emits nothing.
	polltest.Pass(t, p, "Invoices")
	polltest.Pass(t, p, "BusinessPartners")
	if n := len(env.ReadAll("raw.erp.b1.invoices")); n != 14 {
		t.Fatalf("%d invoice records after an idle poll, want 14", n)
	}
}

// retries is the relogin series of the poller's retry counter.
func retries(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "riacho_cdc_poll_http_retries_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["source"] == "erp" && labels["reason"] == "relogin" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}

func FuzzParsePage(f *testing.F) {
	f.Add([]byte(`{"odata.metadata":"x","value":[{"DocEntry":1}],"odata.nextLink":"Invoices?$skip=20"}`))
	f.Add([]byte(`{"@odata.context":"x","value":[],"@odata.nextLink":"https://h/b1s/v2/Invoices?$skip=2"}`))
	f.Add([]byte(`{"value":[1,2]}`))
	f.Add([]byte(`{"value":null}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		values, next, err := sapb1.ParsePage(body)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			if values != nil || next != "" {
				t.Fatal("values with an error")
			}
			return
		}
		for _, v := range values {
			if _, err := poll.DecodeObject(v); err != nil {
				t.Fatalf("page row %s is not an object: %v", v, err)
			}
		}
	})
}

func FuzzParseTimeOfDay(f *testing.F) {
	for _, s := range []string{"14:35:10", "9:05", "1900-01-01T14:35:10Z", "PT14H35M10S", "93005", "25:00:00", "-1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		secs, err := sapb1.ParseTimeOfDay(s)
		if err == nil && (secs < 0 || secs >= 86400) {
			t.Fatalf("%q = %d seconds", s, secs)
		}
	})
}

func TestParseTimeOfDay(t *testing.T) {
	for in, want := range map[string]int{"14:35:10": 52510, "14:35": 52500, "1900-01-01T14:35:10": 52510, "PT14H35M10S": 52510, "93005": 34205, "0": 0} {
		if got, err := sapb1.ParseTimeOfDay(in); err != nil || got != want {
			t.Errorf("ParseTimeOfDay(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []any{"24:00:00", "12:60", "noon", 12.5, nil} {
		if _, err := sapb1.ParseTimeOfDay(bad); err == nil {
			t.Errorf("ParseTimeOfDay(%v) accepted", bad)
		}
	}
}
