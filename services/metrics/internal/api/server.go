// Package api serves riacho.metrics.v1.MetricsService: it compiles metric
// queries to warehouse SQL, runs them with the caller's rights, caches
// answers until the loader advances, audits every query and reports the
// freshness of each model an answer read.
package api

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	metricsv1 "github.com/riacho/riacho/proto/riacho/metrics/v1"
	"github.com/riacho/riacho/services/metrics/internal/access"
	"github.com/riacho/riacho/services/metrics/internal/cache"
	"github.com/riacho/riacho/services/metrics/internal/metricdef"
	"github.com/riacho/riacho/services/metrics/internal/query"
	"github.com/riacho/riacho/services/metrics/internal/store"
	"github.com/riacho/riacho/services/metrics/internal/warehouse"
)

// Options configure a Server.
type Options struct {
	Store    *store.Store
	Compiler *query.Compiler
	Policy   *access.Policy
	// Cache keeps answers until the warehouse generation moves; nil disables caching.
	Cache *cache.Cache
	// Auditor records every query; nil logs nothing.
	Auditor *access.Auditor
	// BatchRows is the number of rows per streamed message (default 500).
	BatchRows int
	// MaxCachedRows is the largest answer kept in the cache (default 10,000 rows).
	MaxCachedRows int
	// QueryTimeout bounds one query (default 60s).
	QueryTimeout time.Duration
	Logger       *slog.Logger
	Registerer   prometheus.Registerer
}

// Server implements metricsv1.MetricsServiceServer.
type Server struct {
	metricsv1.UnimplementedMetricsServiceServer

	opts     Options
	log      *slog.Logger
	compiler atomic.Pointer[query.Compiler]
	// compilerVersion changes with every SetCompiler; it is part of cache keys.
	compilerVersion atomic.Int64

	mu         sync.RWMutex
	generation int64
	freshness  map[string]warehouse.Freshness
	rollups    map[string]int64 // rollup name → generation it was built at

	m *serverMetrics
}

// New builds the server. It reads the warehouse's freshness once; a
// warehouse that is down is not an error here (queries answer Unavailable).
func New(ctx context.Context, opts Options) (*Server, error) {
	if opts.Store == nil || opts.Compiler == nil || opts.Policy == nil {
		return nil, errors.New("metrics api: store, compiler and policy are required")
	}
	if opts.BatchRows <= 0 {
		opts.BatchRows = 500
	}
	if opts.MaxCachedRows <= 0 {
		opts.MaxCachedRows = 10000
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{opts: opts, log: opts.Logger, freshness: map[string]warehouse.Freshness{}, rollups: map[string]int64{}}
	s.compiler.Store(opts.Compiler)
	var err error
	if s.m, err = newServerMetrics(opts.Registerer); err != nil {
		return nil, err
	}
	if err := s.Refresh(ctx); err != nil {
		s.log.Warn("warehouse freshness not read yet", "err", err)
	}
	return s, nil
}

// Register adds the service to a gRPC server.
func (s *Server) Register(g *grpc.Server) { metricsv1.RegisterMetricsServiceServer(g, s) }

// SetCompiler swaps in reloaded metric definitions; cached answers are dropped.
func (s *Server) SetCompiler(c *query.Compiler) {
	s.compiler.Store(c)
	s.compilerVersion.Add(1)
	if s.opts.Cache != nil {
		s.opts.Cache.Invalidate(1<<62 - 1)
	}
}

// Compiler is the compiler in use.
func (s *Server) Compiler() *query.Compiler { return s.compiler.Load() }

// Generation is the warehouse generation answers are computed at.
func (s *Server) Generation() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.generation
}

// Refresh re-reads the warehouse's freshness and generation; when the
// generation moved, cached answers of older generations are dropped.
func (s *Server) Refresh(ctx context.Context) error {
	fr, gen, err := warehouse.ReadFreshness(ctx, s.opts.Store)
	if err != nil {
		return err
	}
	s.mu.Lock()
	moved := gen != s.generation
	s.generation, s.freshness = gen, fr
	s.mu.Unlock()
	if moved {
		s.m.generation.Set(float64(gen))
		if s.opts.Cache != nil {
			s.opts.Cache.Invalidate(gen)
		}
	}
	return nil
}

// MarkRollup records that rollup name was rebuilt at generation gen.
func (s *Server) MarkRollup(name string, gen int64) {
	s.mu.Lock()
	s.rollups[name] = gen
	s.mu.Unlock()
}

// snapshot returns the generation, the freshness map and the rollups fresh at it.
func (s *Server) snapshot() (int64, map[string]warehouse.Freshness, map[string]bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fresh := map[string]bool{}
	for name, g := range s.rollups {
		if g == s.generation {
			fresh[name] = true
		}
	}
	return s.generation, s.freshness, fresh
}

// ListMetrics lists the metrics the caller may query.
func (s *Server) ListMetrics(ctx context.Context, _ *metricsv1.ListMetricsRequest) (*metricsv1.ListMetricsResponse, error) {
	p, err := s.principal(ctx)
	if err != nil {
		return nil, err
	}
	c := s.compiler.Load()
	ms := c.Metrics()
	known := map[string]bool{}
	for _, m := range ms {
		known[m.Name] = true
	}
	_, fr, _ := s.snapshot()
	resp := &metricsv1.ListMetricsResponse{}
	var models []string
	for _, m := range ms {
		if !s.opts.Policy.Visible(p, m.Name) {
			continue
		}
		resp.Metrics = append(resp.Metrics, toMetric(m, metricdef.DependsOn(m, known)))
		models = append(models, s.modelsOf(c, m.Name)...)
	}
	slices.Sort(models)
	resp.Freshness = toFreshness(slices.Compact(models), fr)
	return resp, nil
}

// GetMetric returns one metric's definition.
func (s *Server) GetMetric(ctx context.Context, req *metricsv1.GetMetricRequest) (*metricsv1.GetMetricResponse, error) {
	p, err := s.principal(ctx)
	if err != nil {
		return nil, err
	}
	c := s.compiler.Load()
	known := map[string]bool{}
	var found *metricdef.Metric
	for _, m := range c.Metrics() {
		known[m.Name] = true
		if m.Name == req.GetName() {
			found = &m
		}
	}
	if found == nil || !s.opts.Policy.Visible(p, req.GetName()) {
		// A metric the caller may not see is reported like an unknown one.
		return nil, status.Errorf(codes.NotFound, "unknown metric %q", req.GetName())
	}
	_, fr, _ := s.snapshot()
	return &metricsv1.GetMetricResponse{
		Metric:    toMetric(*found, metricdef.DependsOn(*found, known)),
		Freshness: toFreshness(s.modelsOf(c, found.Name), fr),
	}, nil
}

// modelsOf lists the warehouse tables a metric reads (through derived dependencies).
func (s *Server) modelsOf(c *query.Compiler, name string) []string {
	plan, err := c.Compile(query.Request{Metrics: []string{name}}, s.opts.Store.Dialect, query.CompileOptions{})
	if err != nil {
		return nil
	}
	return plan.Models
}

// Explain returns the SQL a query would run.
func (s *Server) Explain(ctx context.Context, req *metricsv1.QueryRequest) (*metricsv1.ExplainResponse, error) {
	start := time.Now()
	entry := access.Entry{Method: "Explain"}
	resp, err := s.explain(ctx, req, &entry)
	s.finish(ctx, &entry, req, start, err)
	return resp, err
}

func (s *Server) explain(ctx context.Context, req *metricsv1.QueryRequest, entry *access.Entry) (*metricsv1.ExplainResponse, error) {
	_, plan, err := s.prepare(ctx, req, entry)
	if err != nil {
		return nil, err
	}
	resp := &metricsv1.ExplainResponse{
		Sql: plan.SQL, Dialect: string(s.opts.Store.Dialect), Models: plan.Models,
		Rollup: plan.Rollup, Columns: toColumns(plan.Columns),
	}
	for _, a := range plan.Args {
		resp.Args = append(resp.Args, argString(a))
	}
	return resp, nil
}

// prepare authorizes and compiles a query.
func (s *Server) prepare(ctx context.Context, req *metricsv1.QueryRequest, entry *access.Entry) (access.Principal, *query.Plan, error) {
	p, q, err := s.authorize(ctx, req, entry)
	if err != nil {
		return p, nil, err
	}
	plan, err := s.compile(q)
	return p, plan, err
}

// compile plans an authorized request, using the rollups fresh now.
func (s *Server) compile(q query.Request) (*query.Plan, error) {
	_, _, fresh := s.snapshot()
	plan, err := s.compiler.Load().Compile(q, s.opts.Store.Dialect, query.CompileOptions{FreshRollups: fresh})
	if err != nil {
		return nil, compileStatus(err)
	}
	return plan, nil
}

// authorize checks the caller may ask req, and returns it as the compiler's
// request with the caller's row limit applied.
func (s *Server) authorize(ctx context.Context, req *metricsv1.QueryRequest, entry *access.Entry) (access.Principal, query.Request, error) {
	p, err := s.principal(ctx)
	entry.Principal = p
	if err != nil {
		return p, query.Request{}, err
	}
	q := toRequest(req)
	entry.Metrics, entry.Dimensions, entry.Grain = q.Metrics, q.Dimensions, q.Grain
	for _, f := range q.Filters {
		entry.Filters = append(entry.Filters, access.FilterEntry{Field: f.Field, Operator: f.Operator, Values: len(f.Values)})
	}
	if len(q.Metrics) == 0 {
		return p, q, status.Error(codes.InvalidArgument, "no metrics requested")
	}
	fields := make([]string, 0, len(q.Filters))
	for _, f := range q.Filters {
		fields = append(fields, f.Field)
	}
	// Authorize before compiling, so an unknown and a forbidden metric are told apart
	// only for metrics the caller may see.
	if err := s.opts.Policy.Authorize(p, q.Metrics, q.Dimensions, fields); err != nil {
		return p, q, err
	}
	if max := s.opts.Policy.MaxRows(p); max > 0 && (q.Limit <= 0 || q.Limit > max) {
		q.Limit = max
	}
	return p, q, nil
}

// principal is the authenticated caller.
func (s *Server) principal(ctx context.Context) (access.Principal, error) {
	p, ok := access.FromContext(ctx)
	if !ok {
		return p, status.Error(codes.Unauthenticated, "no authenticated caller")
	}
	return p, nil
}

// answer is a cached query answer.
type answer struct {
	columns []*metricsv1.Column
	models  []string
	rollup  string
	rows    []*metricsv1.Row
}

// Query answers metrics, streaming rows in batches.
func (s *Server) Query(req *metricsv1.QueryRequest, stream grpc.ServerStreamingServer[metricsv1.QueryResponse]) error {
	ctx := stream.Context()
	start := time.Now()
	entry := access.Entry{Method: "Query"}
	err := s.query(ctx, req, stream, &entry)
	s.finish(ctx, &entry, req, start, err)
	return err
}

func (s *Server) query(ctx context.Context, req *metricsv1.QueryRequest, stream grpc.ServerStreamingServer[metricsv1.QueryResponse], entry *access.Entry) error {
	_, q, err := s.authorize(ctx, req, entry)
	if err != nil {
		return err
	}
	gen, fr, _ := s.snapshot()
	// The key is the request as authorized (the caller's row limit
	// included) and the definitions in use: a hit needs no compilation.
	key := cacheKey(req, q.Limit, s.opts.Store.Dialect, s.compilerVersion.Load())
	if s.opts.Cache != nil && !req.GetNoCache() {
		if e, ok := s.opts.Cache.Get(key, gen); ok {
			a := e.(*answer)
			entry.Cached, entry.Rows = true, len(a.rows)
			return s.send(stream, a, fr)
		}
	}
	plan, err := s.compile(q)
	if err != nil {
		return err
	}
	qctx, cancel := context.WithTimeout(ctx, s.opts.QueryTimeout)
	defer cancel()
	// Read the freshness (and generation) again before running the query, so
	// an answer never claims older data than it read: a commit landing in
	// between only makes the reported freshness conservative.
	if err := s.Refresh(qctx); err == nil {
		before := gen
		gen, fr, _ = s.snapshot()
		if gen != before && plan.Rollup != "" {
			// The rollup was built at the older generation: plan again.
			if plan, err = s.compile(q); err != nil {
				return err
			}
		}
	}
	a := &answer{columns: toColumns(plan.Columns), models: plan.Models, rollup: plan.Rollup}
	first := &metricsv1.QueryResponse{Columns: a.columns, Freshness: toFreshness(plan.Models, fr), Rollup: plan.Rollup}
	sentHeader := false
	var batch []*metricsv1.Row
	keep := s.opts.Cache != nil
	var size int64
	flush := func() error {
		msg := &metricsv1.QueryResponse{Rows: batch}
		if !sentHeader {
			first.Rows, msg = batch, first
			sentHeader = true
		}
		batch = nil
		return stream.Send(msg)
	}
	err = query.Execute(qctx, s.opts.Store, plan, func(vals []query.Value) error {
		row := &metricsv1.Row{Values: make([]*metricsv1.Value, len(vals))}
		for i, v := range vals {
			typ := ""
			if i < len(plan.Columns) {
				typ = plan.Columns[i].Type
			}
			row.Values[i] = toValue(v, typ)
		}
		entry.Rows++
		batch = append(batch, row)
		if keep {
			a.rows = append(a.rows, row)
			size += int64(proto.Size(row))
			if len(a.rows) > s.opts.MaxCachedRows {
				keep, a.rows = false, nil
			}
		}
		if len(batch) >= s.opts.BatchRows {
			return flush()
		}
		return nil
	})
	if err != nil {
		return execStatus(ctx, err)
	}
	if len(batch) > 0 || !sentHeader {
		if err := flush(); err != nil {
			return err
		}
	}
	if keep {
		s.opts.Cache.Put(key, gen, a, size+1024)
	}
	return nil
}

// send streams a cached answer.
func (s *Server) send(stream grpc.ServerStreamingServer[metricsv1.QueryResponse], a *answer, fr map[string]warehouse.Freshness) error {
	rows := a.rows
	first := true
	for first || len(rows) > 0 {
		n := min(len(rows), s.opts.BatchRows)
		msg := &metricsv1.QueryResponse{Rows: rows[:n], Cached: true}
		if first {
			msg.Columns, msg.Freshness, msg.Rollup = a.columns, toFreshness(a.models, fr), a.rollup
			first = false
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// finish audits the call and counts it.
func (s *Server) finish(ctx context.Context, entry *access.Entry, req *metricsv1.QueryRequest, start time.Time, err error) {
	entry.Duration = time.Since(start)
	entry.Code = status.Code(err)
	if err != nil {
		entry.Error = status.Convert(err).Message()
	}
	if entry.Grain == "" {
		entry.Grain = req.GetGrain()
	}
	if s.opts.Auditor != nil {
		s.opts.Auditor.Audit(ctx, *entry)
	}
	s.m.observe(entry)
}
