package table

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	sqlcat "github.com/apache/iceberg-go/catalog/sql"
	_ "github.com/apache/iceberg-go/io/gocloud/gcs" // gs:// table locations
	_ "github.com/apache/iceberg-go/io/gocloud/s3"  // s3:// table locations
	itable "github.com/apache/iceberg-go/table"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/riacho/riacho/services/sink/internal/lake"
)

// catalogName is the catalog_name column of the SQL catalog's rows.
const catalogName = "riacho"

// metadataDir is where table metadata lives in the bucket: <metadataDir>/<namespace>/<name>/.
const metadataDir = "_iceberg"

// Table properties riacho sets.
const (
	propLayout = "riacho.layout" // the lake.Layout template the data files follow
	propZone   = "riacho.zone"
	propSource = "riacho.source"
	propEntity = "riacho.entity"
)

// Option configures OpenCatalog.
type Option func(*Catalog)

// WithLogger sets the logger for warnings (e.g. staged files that could not be deleted).
func WithLogger(l *slog.Logger) Option {
	return func(c *Catalog) {
		if l != nil {
			c.log = l
		}
	}
}

// Catalog is an Iceberg SQL catalog whose tables live in one lake bucket.
type Catalog struct {
	cat      *sqlcat.Catalog
	db       *sql.DB
	postgres bool
	lockDir  string // SQLite: directory of the per-table lock files
	store    *lake.Store
	base     string             // table data base location, lake.Store.ObjectURL("")
	props    iceberg.Properties // catalog and FileIO properties
	log      *slog.Logger

	mu    sync.Mutex
	locks map[string]*sync.Mutex
	seqs  map[string]*seqState
}

// OpenCatalog opens the SQL catalog at catalogURI: "sqlite:///abs/path/catalog.db" (the embedded
// default; "" means <lake dir>/_catalog/catalog.db for a file:// lake) or a postgres:// URL.
// warehouse is the lake URL ("" = store.URL()); it must name the bucket store has open, which
// Iceberg reaches with its own FileIO: file:// and s3:// (endpoint, region and path-style addressing
// taken from the URL, credentials from the environment) and gs://. azblob:// lakes cannot hold tables:
// iceberg-go's Azure FileIO reads abfs:// and wasb:// locations only.
func OpenCatalog(ctx context.Context, catalogURI, warehouse string, store *lake.Store, opts ...Option) (*Catalog, error) {
	if store == nil {
		return nil, errors.New("open catalog: nil lake store")
	}
	if warehouse != "" && normaliseLakeURL(warehouse) != store.URL() {
		return nil, fmt.Errorf("open catalog: warehouse %q is not the lake %q", warehouse, store.URL())
	}
	props, err := fileIOProps(store)
	if err != nil {
		return nil, fmt.Errorf("open catalog: %w", err)
	}
	c := &Catalog{
		store: store,
		base:  store.ObjectURL(""),
		props: props,
		log:   slog.New(slog.DiscardHandler),
		locks: map[string]*sync.Mutex{},
		seqs:  map[string]*seqState{},
	}
	for _, o := range opts {
		o(c)
	}
	c.props["warehouse"] = c.base

	var dialect sqlcat.SupportedDialect
	switch {
	case catalogURI == "" || strings.HasPrefix(catalogURI, "sqlite:"):
		path, err := sqlitePath(catalogURI, store)
		if err != nil {
			return nil, fmt.Errorf("open catalog: %w", err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("open catalog %s: %w", path, err)
		}
		// WAL and a busy timeout let several connections share the file; IMMEDIATE
		// transactions take the write lock up front instead of failing on upgrade.
		dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
		if c.db, err = sql.Open(sqliteshim.ShimName, dsn); err != nil {
			return nil, fmt.Errorf("open catalog %s: %w", path, err)
		}
		dialect = sqlcat.SQLite
		c.lockDir = path + ".locks"
	case strings.HasPrefix(catalogURI, "postgres://") || strings.HasPrefix(catalogURI, "postgresql://"):
		if c.db, err = sql.Open("pgx", catalogURI); err != nil {
			return nil, fmt.Errorf("open catalog: %w", err)
		}
		c.postgres = true
		dialect = sqlcat.Postgres
	default:
		return nil, fmt.Errorf("open catalog: unsupported catalog URI %q (want sqlite:///path or postgres://...)", redact(catalogURI))
	}
	if err := c.db.PingContext(ctx); err != nil {
		_ = c.db.Close()
		return nil, fmt.Errorf("open catalog %s: %w", redact(catalogURI), err)
	}
	c.cat, err = sqlcat.NewCatalog(catalogName, c.db, dialect, c.props)
	if err != nil {
		_ = c.db.Close()
		return nil, fmt.Errorf("open catalog %s: %w", redact(catalogURI), err)
	}
	return c, nil
}

// Close releases the catalog's database connections (not the lake store).
func (c *Catalog) Close() error {
	if err := c.db.Close(); err != nil {
		return fmt.Errorf("close catalog: %w", err)
	}
	return nil
}

// Store returns the lake the catalog's tables live in.
func (c *Catalog) Store() *lake.Store { return c.store }

func normaliseLakeURL(u string) string {
	if strings.Contains(u, "://") {
		return u
	}
	abs, err := filepath.Abs(u)
	if err != nil {
		return u
	}
	return "file://" + filepath.ToSlash(abs)
}

func sqlitePath(uri string, store *lake.Store) (string, error) {
	if uri == "" {
		if store.Scheme() != "file" {
			return "", fmt.Errorf("a %s:// lake needs an explicit catalog URI", store.Scheme())
		}
		u, err := url.Parse(store.ObjectURL("_catalog/catalog.db"))
		if err != nil {
			return "", err
		}
		return filepath.FromSlash(u.Path), nil
	}
	p := strings.TrimPrefix(strings.TrimPrefix(uri, "sqlite:"), "//")
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		return "", fmt.Errorf("catalog URI %q names no file", uri)
	}
	return filepath.Abs(filepath.FromSlash(p))
}

// redact drops the password of a database URL for error messages.
func redact(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	return u.Redacted()
}

// fileIOProps gives iceberg-go's FileIO what it needs to reach the store's bucket.
func fileIOProps(store *lake.Store) (iceberg.Properties, error) {
	props := iceberg.Properties{}
	u, err := url.Parse(store.URL())
	if err != nil {
		return nil, err
	}
	q := u.Query()
	switch store.Scheme() {
	case "file", "gs":
	case "s3":
		if v := q.Get("endpoint"); v != "" {
			props["s3.endpoint"] = v
			if ps := q.Get("use_path_style") + q.Get("s3ForcePathStyle"); ps == "false" {
				props["s3.force-virtual-addressing"] = "true"
			}
		}
		if v := q.Get("region"); v != "" {
			props["s3.region"] = v
		}
	default:
		return nil, fmt.Errorf("iceberg tables cannot live in a %s:// lake (iceberg-go reads file://, s3:// and gs:// locations)", store.Scheme())
	}
	return props, nil
}

// Table loads or creates the Iceberg table <namespace>.<name> (namespace = zone_source, e.g.
// "raw_ploomes"; name = entity). When schema has fields the table lacks, the table's schema is
// evolved (union by name: new fields are added as optional, type promotions applied) before
// Table returns. A nil schema only loads an existing table (ErrNoSuchTable when missing).
func (c *Catalog) Table(ctx context.Context, namespace, name string, schema *iceberg.Schema) (*Table, error) {
	if err := checkName(namespace); err != nil {
		return nil, fmt.Errorf("table namespace: %w", err)
	}
	if err := checkName(name); err != nil {
		return nil, fmt.Errorf("table name: %w", err)
	}
	t := &Table{c: c, ident: itable.Identifier{namespace, name}, name: namespace + "." + name}
	tbl, err := c.cat.LoadTable(ctx, t.ident)
	switch {
	case errors.Is(err, catalog.ErrNoSuchTable) && schema == nil:
		return nil, fmt.Errorf("load table %s: %w", t.name, ErrNoSuchTable)
	case errors.Is(err, catalog.ErrNoSuchTable):
		if err := c.create(ctx, t, schema); err != nil {
			return nil, err
		}
		return t, nil
	case err != nil:
		return nil, fmt.Errorf("load table %s: %w", t.name, err)
	}
	if schema != nil {
		if err := t.evolve(ctx, tbl, schema); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (c *Catalog) create(ctx context.Context, t *Table, schema *iceberg.Schema) error {
	ns := itable.Identifier{t.ident[0]}
	if err := c.cat.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
		// Another process may have created it between the check and the insert.
		if ok, cerr := c.cat.CheckNamespaceExists(ctx, ns); cerr != nil || !ok {
			return fmt.Errorf("create namespace %s: %w", ns[0], err)
		}
	}
	props := iceberg.Properties{
		itable.PropertyFormatVersion:               "2",
		itable.CommitNumRetriesKey:                 "0", // a conflict is an error, never a silent rebase
		itable.ManifestMergeEnabledKey:             "true",
		itable.MetadataDeleteAfterCommitEnabledKey: "true",
		itable.MetadataPreviousVersionsMaxKey:      "20",
		"write.parquet.compression-codec":          "snappy",
	}
	loc := c.store.ObjectURL(metadataDir + "/" + t.ident[0] + "/" + t.ident[1])
	_, err := c.cat.CreateTable(ctx, t.ident, schema, catalog.WithLocation(loc), catalog.WithProperties(props))
	if errors.Is(err, catalog.ErrTableAlreadyExists) {
		// Another replica created it first: evolve theirs if needed.
		tbl, err := c.cat.LoadTable(ctx, t.ident)
		if err != nil {
			return fmt.Errorf("load table %s: %w", t.name, err)
		}
		return t.evolve(ctx, tbl, schema)
	}
	if err != nil {
		return fmt.Errorf("create table %s: %w", t.name, err)
	}
	// Record the name mapping of the ids the table assigned, for files without field ids.
	unlock, err := c.lock(ctx, t.name)
	if err != nil {
		return err
	}
	defer unlock()
	tbl, err := c.cat.LoadTable(ctx, t.ident)
	if err != nil {
		return fmt.Errorf("load table %s: %w", t.name, err)
	}
	if tbl.NameMapping() != nil {
		return nil
	}
	mapping, err := json.Marshal(tbl.Schema().NameMapping())
	if err != nil {
		return fmt.Errorf("table %s name mapping: %w", t.name, err)
	}
	txn := tbl.NewTransaction()
	if err := txn.SetProperties(iceberg.Properties{itable.DefaultNameMappingKey: string(mapping)}); err != nil {
		return fmt.Errorf("table %s name mapping: %w", t.name, err)
	}
	if _, err := txn.Commit(ctx); err != nil {
		return fmt.Errorf("table %s name mapping: %w", t.name, err)
	}
	return nil
}

// Tables lists every table as "namespace.name", sorted.
func (c *Catalog) Tables(ctx context.Context) ([]string, error) {
	nss, err := c.cat.ListNamespaces(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	var out []string
	for _, ns := range nss {
		for id, err := range c.cat.ListTables(ctx, ns) {
			if err != nil {
				return nil, fmt.Errorf("list tables of %s: %w", strings.Join(ns, "."), err)
			}
			out = append(out, strings.Join(id, "."))
		}
	}
	slices.Sort(out)
	return out, nil
}

func checkName(s string) error {
	if s == "" || strings.ContainsAny(s, "/.\\ \t\n") {
		return fmt.Errorf("invalid name %q", s)
	}
	return nil
}

// lock serialises the writers of one table: a mutex in the process and, across processes, an
// exclusive flock on <catalog file>.locks/<table>.lock with SQLite or an advisory transaction lock
// held on its own connection with PostgreSQL, until unlock. Both are released if the process dies.
func (c *Catalog) lock(ctx context.Context, table string) (unlock func(), err error) {
	c.mu.Lock()
	m, ok := c.locks[table]
	if !ok {
		m = &sync.Mutex{}
		c.locks[table] = m
	}
	c.mu.Unlock()
	m.Lock()
	if !c.postgres {
		// Other processes sharing the SQLite file: an exclusive flock per table.
		release, err := fileLock(ctx, filepath.Join(c.lockDir, table+".lock"))
		if err != nil {
			m.Unlock()
			return nil, fmt.Errorf("lock table %s: %w", table, err)
		}
		return func() {
			release()
			m.Unlock()
		}, nil
	}
	// The transaction must outlive a cancelled ctx until unlock (database/sql rolls a
	// transaction back when its context ends, which would drop the lock mid-commit).
	tx, err := c.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		m.Unlock()
		return nil, fmt.Errorf("lock table %s: %w", table, err)
	}
	h := fnv.New64a()
	_, _ = h.Write([]byte("riacho.table/" + catalogName + "/" + table))
	key := int64(h.Sum64()) //nolint:gosec // the hash's bits reinterpreted as PostgreSQL's bigint lock key
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", key); err != nil {
		_ = tx.Rollback()
		m.Unlock()
		return nil, fmt.Errorf("lock table %s: %w", table, err)
	}
	return func() {
		_ = tx.Rollback() // ends the transaction, releasing the lock
		m.Unlock()
	}, nil
}
