// Package store opens the warehouse the metrics service loads into and queries:
// PostgreSQL (production, through a pgx/v5 pool) or an embedded DuckDB file
// (the default of `make demo`). The loader and the query side share one Store,
// so one process holds the DuckDB file.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Dialect names the SQL dialect of a warehouse.
type Dialect string

// The two warehouses riacho speaks.
const (
	Postgres Dialect = "postgres"
	DuckDB   Dialect = "duckdb"
)

// Store is an open warehouse: exactly one of PG and Duck is set.
type Store struct {
	Dialect Dialect
	PG      *pgxpool.Pool
	Duck    *sql.DB
	// DSN is the connection string Open was given, with any password removed.
	DSN string
}

// ErrDSN is wrapped by errors about a connection string riacho cannot use.
var ErrDSN = errors.New("warehouse DSN")

// Open connects to the warehouse named by dsn:
//
//	postgres://user@host:5432/db?sslmode=disable   (also postgresql://)
//	duckdb:///absolute/path/warehouse.duckdb        (a file; created when missing)
//	duckdb::memory:                                 (in memory, for tests)
//
// PostgreSQL sessions run with TimeZone=UTC so date_trunc over timestamptz
// cuts periods in UTC; DuckDB's session time zone is set to UTC likewise.
func Open(ctx context.Context, dsn string) (*Store, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrDSN, err)
		}
		cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
		if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
			cfg.ConnConfig.RuntimeParams["application_name"] = "riacho-metrics"
		}
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("warehouse postgres: %w", err)
		}
		if err := pool.Ping(ctx); err != nil {
			pool.Close()
			return nil, fmt.Errorf("warehouse postgres %s: %w", redact(dsn), err)
		}
		return &Store{Dialect: Postgres, PG: pool, DSN: redact(dsn)}, nil
	case strings.HasPrefix(dsn, "duckdb:"):
		path := strings.TrimPrefix(dsn, "duckdb:")
		switch {
		case path == ":memory:":
			path = ""
		case strings.HasPrefix(path, "//"):
			path = strings.TrimPrefix(path, "//")
		default:
			return nil, fmt.Errorf("%w: %q: want duckdb:///path/file.duckdb or duckdb::memory", ErrDSN, dsn)
		}
		// Session settings are per connection in DuckDB: set them on each.
		connector, err := duckdb.NewConnector(path, func(execer driver.ExecerContext) error {
			_, err := execer.ExecContext(context.Background(), "SET TimeZone = 'UTC'", nil)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("warehouse duckdb %s: %w", dsn, err)
		}
		db := sql.OpenDB(connector)
		if err := db.PingContext(ctx); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("warehouse duckdb %s: %w", dsn, err)
		}
		return &Store{Dialect: DuckDB, Duck: db, DSN: dsn}, nil
	default:
		return nil, fmt.Errorf("%w: %q: want postgres://…, duckdb:///path or duckdb::memory", ErrDSN, redact(dsn))
	}
}

// Ping checks the warehouse answers.
func (s *Store) Ping(ctx context.Context) error {
	if s.PG != nil {
		return s.PG.Ping(ctx)
	}
	return s.Duck.PingContext(ctx)
}

// Close releases the connections.
func (s *Store) Close() {
	if s.PG != nil {
		s.PG.Close()
	}
	if s.Duck != nil {
		_ = s.Duck.Close()
	}
}

// redact drops the password from a URL-shaped DSN.
func redact(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.IndexByte(userinfo, ':'); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":xxxxx" + dsn[at:]
	}
	return dsn
}
