package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/pgtest"
	"github.com/riacho/riacho/services/metrics/internal/store"
)

func TestOpenDialects(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "w.duckdb")
	for _, tc := range []struct {
		dsn  string
		want store.Dialect
	}{
		{"duckdb::memory:", store.DuckDB},
		{"duckdb://" + file, store.DuckDB},
		{pgtest.NewDatabase(t), store.Postgres},
	} {
		st, err := store.Open(ctx, tc.dsn)
		if err != nil {
			t.Fatalf("%s: %v", tc.dsn, err)
		}
		if st.Dialect != tc.want {
			t.Errorf("%s: dialect %s", tc.dsn, st.Dialect)
		}
		// Sessions cut periods in UTC on both warehouses.
		var tz string
		if st.PG != nil {
			err = st.PG.QueryRow(ctx, "SHOW TimeZone").Scan(&tz)
		} else {
			err = st.Duck.QueryRowContext(ctx, "SELECT current_setting('TimeZone')").Scan(&tz)
		}
		if err != nil || tz != "UTC" {
			t.Errorf("%s: TimeZone %q (%v)", tc.dsn, tz, err)
		}
		if err := st.Ping(ctx); err != nil {
			t.Errorf("%s: ping: %v", tc.dsn, err)
		}
		st.Close()
	}
}

func TestOpenRefusesWhatItCannotUse(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, dsn := range []string{"mysql://x", "duckdb:relative.duckdb", "", "postgres://%zz"} {
		if _, err := store.Open(ctx, dsn); !errors.Is(err, store.ErrDSN) {
			t.Errorf("%q: %v, want ErrDSN", dsn, err)
		}
	}
	// An unreachable server: the error says so, without the password.
	_, err := store.Open(ctx, "postgres://riacho:s3cret@127.0.0.1:1/warehouse?connect_timeout=2")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("unreachable server: %v (must fail and not show the password)", err)
	}
}
