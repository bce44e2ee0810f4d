package ploomes_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/riacho/riacho/services/cdc/internal/poll"
	"github.com/riacho/riacho/services/cdc/internal/poll/ploomes"
	"github.com/riacho/riacho/services/cdc/internal/poll/polltest"
)

var loc = time.FixedZone("-03:00", -3*3600)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func contact(id int, at time.Time) map[string]any {
	return map[string]any{"Id": id, "Name": fmt.Sprintf("Contato %d", id), "LastUpdateDate": at.Format("2006-01-02T15:04:05.999-07:00")}
}

func newFetcher(t *testing.T, api *polltest.Ploomes, mutate ...func(*poll.PloomesConfig)) (*ploomes.Fetcher, *[]string) {
	t.Helper()
	cfg := poll.PloomesConfig{URL: api.URL(), Entities: []poll.EntityConfig{{Name: "Contacts"}}, RatePerMinute: 60000, PageSize: 3}
	for _, m := range mutate {
		m(&cfg)
	}
	f, err := ploomes.New(cfg, ploomes.Options{UserKey: api.UserKey, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close(context.Background()) })
	var mu sync.Mutex
	reasons := &[]string{}
	f.NotifyRetries(func(r string) { mu.Lock(); *reasons = append(*reasons, r); mu.Unlock() })
	return f, reasons
}

func TestPagingWithTopAndSkip(t *testing.T) {
	api := polltest.NewPloomes(t)
	t0 := time.Date(2026, 4, 30, 10, 0, 0, 0, loc)
	for i := 1; i <= 8; i++ {
		// Pairs share a timestamp, so pages of three split them.
		api.Put("Contacts", contact(i, t0.Add(time.Duration((i-1)/2)*time.Second)))
	}
	f, _ := newFetcher(t, api)
	var got []int64
	pos := poll.Position{}
	for n := 0; n < 10; n++ {
		page, err := f.Fetch(ctx(t), "Contacts", pos, 3)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Rows {
			got = append(got, r.Key[0].(int64))
			if r.TS.Equal(pos.TS) {
				pos.Skip++
			} else {
				pos = poll.Position{TS: r.TS, Skip: 1}
			}
		}
		if !page.More {
			break
		}
	}
	if fmt.Sprint(got) != "[1 2 3 4 5 6 7 8]" {
		t.Fatalf("rows %v, want 1..8 once each", got)
	}
	q, err := url.ParseQuery(api.Queries()[1])
	if err != nil {
		t.Fatal(err)
	}
	// After rows 1-3 the position is row 3's time with one row read there.
	if q.Get("$filter") != "LastUpdateDate ge 2026-04-30T10:00:01-03:00" || q.Get("$skip") != "1" ||
		q.Get("$top") != "3" || q.Get("$orderby") != "LastUpdateDate,Id" {
		t.Fatalf("second query %v", q)
	}
}

func TestUserKeyIsRequired(t *testing.T) {
	api := polltest.NewPloomes(t)
	api.Put("Contacts", contact(1, time.Now()))
	cfg := poll.PloomesConfig{URL: api.URL(), Entities: []poll.EntityConfig{{Name: "Contacts"}}}
	f, err := ploomes.New(cfg, ploomes.Options{UserKey: "wrong"})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close(context.Background())
	_, err = f.Fetch(ctx(t), "Contacts", poll.Position{}, 10)
	if !errors.Is(err, ploomes.ErrUnauthorized) {
		t.Fatalf("err = %v, want ErrUnauthorized", err)
	}
	t.Setenv("TEST_PLOOMES_KEY", "")
	cfg.UserKeyEnv = "TEST_PLOOMES_KEY"
	if _, err := ploomes.New(cfg, ploomes.Options{}); err == nil {
		t.Fatal("New accepted an empty user key")
	}
	t.Setenv("TEST_PLOOMES_KEY", api.UserKey)
	f2, err := ploomes.New(cfg, ploomes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f2.Close(context.Background())
	if _, err := f2.Fetch(ctx(t), "Contacts", poll.Position{}, 10); err != nil {
		t.Fatalf("key from the environment: %v", err)
	}
}

func TestTooManyRequestsIsRetried(t *testing.T) {
	api := polltest.NewPloomes(t)
	api.Put("Contacts", contact(1, time.Now()))
	t.Run("with Retry-After", func(t *testing.T) {
		f, reasons := newFetcher(t, api)
		api.SetRateLimit(0, 0, "0")
		api.FailNext(http.StatusTooManyRequests, http.StatusTooManyRequests, http.StatusServiceUnavailable)
		before := api.Requests()
		page, err := f.Fetch(ctx(t), "Contacts", poll.Position{}, 3)
		if err != nil || len(page.Rows) != 1 {
			t.Fatalf("fetch: %v, %d rows", err, len(page.Rows))
		}
		if n := api.Requests() - before; n != 4 {
			t.Fatalf("%d requests, want 4 (3 refused, 1 answered)", n)
		}
		if fmt.Sprint(*reasons) != "[429 429 5xx]" {
			t.Fatalf("retry reasons %v", *reasons)
		}
	})
	t.Run("without Retry-After", func(t *testing.T) {
		f, _ := newFetcher(t, api)
		api.SetRateLimit(0, 0, "")
		api.FailNext(http.StatusTooManyRequests)
		if _, err := f.Fetch(ctx(t), "Contacts", poll.Position{}, 3); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("gives up after max_retries", func(t *testing.T) {
		f, _ := newFetcher(t, api, func(c *poll.PloomesConfig) { c.MaxRetries = 2 })
		api.SetRateLimit(0, 0, "0")
		api.FailNext(429, 429, 429)
		_, err := f.Fetch(ctx(t), "Contacts", poll.Position{}, 3)
		var herr *ploomes.HTTPError
		if !errors.As(err, &herr) || herr.Status != 429 {
			t.Fatalf("err = %v, want HTTP 429 after the retries", err)
		}
	})
	t.Run("server rate window", func(t *testing.T) {
		// The server allows 2 requests per 200ms; the client retries each
		// refusal after Retry-After and every fetch ends answered.
		api2 := polltest.NewPloomes(t)
		api2.Put("Contacts", contact(1, time.Now()))
		api2.SetRateLimit(2, 200*time.Millisecond, "")
		f, reasons := newFetcher(t, api2, func(c *poll.PloomesConfig) { c.MaxRetries = 50 })
		for i := 0; i < 6; i++ {
			if _, err := f.Fetch(ctx(t), "Contacts", poll.Position{}, 3); err != nil {
				t.Fatal(err)
			}
		}
		if api2.OK() != 6 || len(*reasons) == 0 {
			t.Fatalf("%d answered, %d retries; want 6 answered after some 429s", api2.OK(), len(*reasons))
		}
	})
}

func TestRateBudget(t *testing.T) {
	api := polltest.NewPloomes(t)
	api.Put("Contacts", contact(1, time.Now()))
	f, _ := newFetcher(t, api, func(c *poll.PloomesConfig) { c.RatePerMinute = 600 })
	start := time.Now()
	for i := 0; i < 4; i++ {
		if _, err := f.Fetch(ctx(t), "Contacts", poll.Position{}, 3); err != nil {
			t.Fatal(err)
		}
	}
	// 600/min is one request per 100ms: four requests cannot take less
	// than 300ms (a lower bound; a slow machine only makes it longer).
	if el := time.Since(start); el < 290*time.Millisecond {
		t.Fatalf("4 requests in %v under a 600/min budget", el)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 4, 30, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"3", 3 * time.Second, true},
		{"0", 0, true},
		{"Thu, 30 Apr 2026 12:00:05 GMT", 5 * time.Second, true},
		{"Thu, 30 Apr 2026 11:00:00 GMT", 0, true},
		{"", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
	} {
		got, ok := ploomes.ParseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestQueryFormat(t *testing.T) {
	q := ploomes.Query("LastUpdateDate", []poll.FieldConfig{{Name: "Id"}},
		poll.Position{TS: time.Date(2026, 4, 30, 3, 4, 5, 120_000_000, time.UTC), Skip: 2}, 300, loc)
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	if v.Get("$filter") != "LastUpdateDate ge 2026-04-30T00:04:05.12-03:00" || v.Get("$skip") != "2" || v.Get("$top") != "300" {
		t.Fatalf("query %q", q)
	}
	utc := ploomes.Query("LastUpdateDate", nil, poll.Position{TS: time.Date(2026, 4, 30, 3, 4, 5, 0, time.UTC)}, 1, time.UTC)
	if v, _ := url.ParseQuery(utc); v.Get("$filter") != "LastUpdateDate ge 2026-04-30T03:04:05+00:00" {
		t.Fatalf("UTC offset written as %q, want +00:00", v.Get("$filter"))
	}
}

func FuzzParsePage(f *testing.F) {
	f.Add([]byte(`{"@odata.context":"x","value":[{"Id":1,"LastUpdateDate":"2026-04-30T10:00:00-03:00"}]}`))
	f.Add([]byte(`{"value":[]}`))
	f.Add([]byte(`{"value":[null]}`))
	f.Add([]byte(`{"error":{"message":"x"}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		values, err := ploomes.ParsePage(body)
		if err != nil {
			if err.Error() == "" || values != nil {
				t.Fatalf("bad error result: %v, %v", values, err)
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
