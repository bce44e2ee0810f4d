// Package app is riacho's sink service: it consumes the raw (and curated)
// topics into Parquet files on object storage, one Iceberg table per entity,
// exactly once (the offsets of every file live in the table's snapshots),
// and offers the tables' snapshots, description, compaction and expiry over
// gRPC Control.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/riacho/riacho/libs/avro"
	"github.com/riacho/riacho/libs/control"
	"github.com/riacho/riacho/libs/lineage"
	"github.com/riacho/riacho/libs/telemetry"
	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
	"github.com/riacho/riacho/services/sink/internal/engine"
	"github.com/riacho/riacho/services/sink/internal/lake"
	"github.com/riacho/riacho/services/sink/internal/table"
)

// Deps are the service's injected dependencies.
type Deps struct {
	Logger   *slog.Logger
	Registry *prometheus.Registry
	Version  string
}

// Service is a running sink: the engine, Control and the ops endpoints.
type Service struct {
	cfg        Config
	deps       Deps
	log        *slog.Logger
	lakeURL    string
	catalogURI string

	store   *lake.Store
	catalog *table.Catalog
	rc      *avro.Client
	eng     *engine.Engine
	lineage *lineage.Emitter

	state   *control.State
	control *control.Server
	ctlLis  net.Listener
	opsLis  net.Listener
	ops     *http.Server

	stopping atomic.Bool
}

// New checks the configuration, opens the lake and the catalog, builds the
// engine and binds the listeners; Run starts consuming.
func New(ctx context.Context, cfg Config, deps Deps) (svc *Service, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid sink configuration: %w", err)
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Registry == nil {
		deps.Registry = prometheus.NewRegistry()
	}
	s := &Service{cfg: cfg, deps: deps, log: deps.Logger, state: control.NewState()}
	s.lakeURL, s.catalogURI, _ = cfg.ResolveLake()
	var closers []func()
	defer func() {
		if err != nil {
			for i := len(closers) - 1; i >= 0; i-- {
				closers[i]()
			}
		}
	}()
	if s.store, err = lake.Open(ctx, s.lakeURL); err != nil {
		return nil, fmt.Errorf("open the lake RIACHO_SINK_LAKE_URL %s: %w", telemetry.RedactURL(s.lakeURL), err)
	}
	closers = append(closers, func() { _ = s.store.Close() })
	if s.catalog, err = table.OpenCatalog(ctx, s.catalogURI, s.store.URL(), s.store); err != nil {
		return nil, fmt.Errorf("open the catalog RIACHO_SINK_CATALOG_URI %s: %w", telemetry.RedactURL(s.catalogURI), err)
	}
	closers = append(closers, func() { _ = s.catalog.Close() })
	layout, err := lake.NewLayout(cfg.Layout)
	if err != nil {
		return nil, fmt.Errorf("RIACHO_SINK_LAYOUT: %w", err)
	}
	if s.rc, err = avro.NewClient(cfg.Registry, nil); err != nil {
		return nil, fmt.Errorf("schema registry client: %w", err)
	}
	closers = append(closers, s.rc.Close)
	if s.lineage, err = newLineage(cfg, deps); err != nil {
		return nil, err
	}
	closers = append(closers, s.closeLineage)
	records, bytes := s.state.Counter("records_written"), s.state.Counter("parquet_bytes_written")
	s.eng, err = engine.New(cfg.EngineConfig(), engine.Deps{
		Kafka: cfg.Kafka, Registry: s.rc, Store: s.store, Catalog: s.catalog, Layout: layout,
		Logger: deps.Logger, Registerer: deps.Registry, ShutdownTimeout: cfg.ShutdownTimeout,
		OnCommitBegin: commitRuns(s.lineage, cfg.Kafka.Brokers, s.lakeURL),
		OnCommit: func(_ string, n, b int64) {
			records.Add(uint64(max(n, 0))) //nolint:gosec // not negative
			bytes.Add(uint64(max(b, 0)))   //nolint:gosec // not negative
		},
	})
	if err != nil {
		return nil, err
	}
	s.control, err = control.New(cfg.Control, "sink", deps.Version, s.state, control.Hooks{
		Pause:    s.pause,
		Resume:   s.resume,
		Status:   s.status,
		Commands: s.commands(),
	}, deps.Logger)
	if err != nil {
		return nil, fmt.Errorf("control server: %w", err)
	}
	if s.ctlLis, err = net.Listen("tcp", cfg.Control.Addr); err != nil {
		return nil, fmt.Errorf("listen on RIACHO_CONTROL_ADDR %s: %w", cfg.Control.Addr, err)
	}
	closers = append(closers, func() { _ = s.ctlLis.Close() })
	if s.opsLis, err = net.Listen("tcp", cfg.OpsAddr); err != nil {
		return nil, fmt.Errorf("listen on RIACHO_SINK_OPS_ADDR %s: %w", cfg.OpsAddr, err)
	}
	s.ops = &http.Server{
		Handler:           telemetry.NewOpsMux(deps.Registry, s.readiness),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(deps.Logger.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// ControlAddr is the bound gRPC Control address.
func (s *Service) ControlAddr() string { return s.ctlLis.Addr().String() }

// OpsAddr is the bound address of /metrics, /healthz and /readyz.
func (s *Service) OpsAddr() string { return s.opsLis.Addr().String() }

// LakeURL is the lake the sink writes (file:// made absolute).
func (s *Service) LakeURL() string { return s.lakeURL }

// Catalog is the Iceberg catalog of the lake's tables.
func (s *Service) Catalog() *table.Catalog { return s.catalog }

// Status is the engine's progress.
func (s *Service) Status() engine.Status { return s.eng.Status() }

// Run consumes until ctx ends, then commits the open files, stops Control
// and the ops endpoints and closes the catalog and the lake.
func (s *Service) Run(ctx context.Context) error {
	defer func() {
		s.closeLineage()
		_ = s.catalog.Close()
		_ = s.store.Close()
		s.rc.Close()
	}()
	s.state.Set(controlv1.State_STATE_STARTING)
	g, gctx := errgroup.WithContext(ctx)
	engineDone := make(chan struct{})
	g.Go(func() error { return s.control.Serve(s.ctlLis) })
	g.Go(func() error {
		if err := s.ops.Serve(s.opsLis); !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve ops http: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		defer close(engineDone)
		s.state.Set(controlv1.State_STATE_RUNNING)
		err := s.eng.Run(gctx)
		if err != nil {
			s.state.SetError(err)
			return fmt.Errorf("sink engine: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-gctx.Done()
		s.stopping.Store(true)
		s.state.Set(controlv1.State_STATE_STOPPING)
		<-engineDone // open files are committed while Control still answers
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		s.control.Shutdown(sctx)
		return s.ops.Shutdown(sctx)
	})
	err := g.Wait()
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil
	}
	return err
}

func (s *Service) readiness() error {
	switch {
	case s.stopping.Load():
		return errors.New("shutting down")
	case !s.eng.Ready():
		return errors.New("not consuming yet")
	}
	return nil
}

func (s *Service) pause(_ context.Context, reason string) error {
	s.eng.Pause()
	s.log.Warn("sink paused: no more records are read (open files are still committed on time)", "reason", reason)
	return nil
}

func (s *Service) resume(context.Context) error {
	s.eng.Resume()
	s.log.Info("sink resumed")
	return nil
}

func (s *Service) status(_ context.Context, resp *controlv1.StatusResponse) {
	st := s.eng.Status()
	if resp.Details == nil {
		resp.Details = map[string]string{}
	}
	d := resp.Details
	d["ops_addr"] = s.OpsAddr()
	d["lake"] = telemetry.RedactURL(s.lakeURL)
	d["catalog"] = telemetry.RedactURL(s.catalogURI)
	d["topics"] = st.Topics
	d["group"] = st.Group
	d["dlq_topic"] = st.DLQTopic
	d["paused"] = strconv.FormatBool(st.Paused)
	d["records_written"] = strconv.FormatInt(st.Records, 10)
	d["parquet_bytes_written"] = strconv.FormatInt(st.Bytes, 10)
	d["files_committed"] = strconv.FormatInt(st.Files, 10)
	d["commits"] = strconv.FormatInt(st.Commits, 10)
	d["dead_letters"] = strconv.FormatInt(st.DeadLetters, 10)
	for _, p := range st.Partitions {
		if lag := p.Lag(); lag >= 0 {
			resp.Lag = append(resp.Lag, &controlv1.Lag{Group: st.Group, Topic: p.Topic, Partition: p.Partition, Records: lag})
		}
		prefix := fmt.Sprintf("partition.%s.%d.", p.Topic, p.Partition)
		d[prefix+"table"] = p.Table
		d[prefix+"committed"] = strconv.FormatInt(p.Committed, 10)
		d[prefix+"open_files"] = strconv.Itoa(p.OpenFiles)
		d[prefix+"pending_records"] = strconv.FormatInt(p.PendingRecords, 10)
		if !p.LastCommit.IsZero() {
			d[prefix+"last_commit"] = p.LastCommit.UTC().Format(time.RFC3339)
		}
		if p.LastError != "" {
			d[prefix+"last_error"] = p.LastError
		}
		if len(p.RefusedSchemas) > 0 {
			ids := make([]string, len(p.RefusedSchemas))
			for i, id := range p.RefusedSchemas {
				ids[i] = strconv.FormatUint(uint64(id), 10)
			}
			d[prefix+"refused_schemas"] = strings.Join(ids, ",")
		}
	}
}
