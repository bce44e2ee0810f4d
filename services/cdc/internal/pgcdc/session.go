package pgcdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/riacho/riacho/services/cdc/internal/pgtypes"
)

// outputParams are the session settings both the replication connection
// (whose walsender formats pgoutput's text values) and the query
// connections (snapshots) use, so a value has the same text either way and
// the pgtypes decoders read it.
var outputParams = map[string]string{
	"DateStyle":          "ISO, YMD",
	"IntervalStyle":      "postgres",
	"TimeZone":           "UTC",
	"extra_float_digits": "3",
	"bytea_output":       "hex",
}

// drainTimeout bounds how long a stopping session waits for Kafka to
// acknowledge what it produced before it reports its last position.
const drainTimeout = 15 * time.Second

// maxBatch is the most records produced in one call.
const maxBatch = 512

// session is one connection to the database: setup, snapshot, stream.
// Run starts a new session after a connection failure.
type session struct {
	c   *Capture
	cfg Config
	log *slog.Logger

	pool    *pgxpool.Pool
	repl    *pgconn.PgConn
	catalog *pgtypes.Catalog
	db      string
	acks    *ackTracker

	// pctx is the context of produced records; cancelled only after the
	// drain, so a stopping session still delivers what it produced.
	pctx    context.Context
	pcancel context.CancelFunc

	tmu    sync.Mutex
	tables map[string]discovered // captured tables by id

	// Stream goroutine state.
	rels      map[uint32]*relation
	inStream  bool
	streamXid uint32
	streamed  map[uint32]*streamedTxn
	inTxn     bool
	unit      *txnAck // unit the batch belongs to
	txnXid    uint32
	txnCommit int64 // ms
	batch     []*kgo.Record
	delivered uint64 // transactions delivered so far
	recent    *xidRing

	// Incremental snapshot chunks waiting for their watermarks.
	chunkMu sync.Mutex
	chunks  map[string]*chunk
}

func (c *Capture) newSession() *session {
	pctx, pcancel := context.WithCancel(context.Background())
	return &session{
		c: c, cfg: c.cfg, log: c.log, pctx: pctx, pcancel: pcancel,
		tables: map[string]discovered{}, rels: map[uint32]*relation{}, streamed: map[uint32]*streamedTxn{},
		recent: newXidRing(8192), chunks: map[string]*chunk{},
	}
}

// session runs one connection's life: setup, slot, snapshot, stream, and
// the drain at its end.
func (c *Capture) session(ctx context.Context) (err error) {
	s := c.newSession()
	defer s.close()
	if err := s.connect(ctx); err != nil {
		return err
	}
	tables, err := s.discover(ctx)
	if err != nil {
		return err
	}
	s.setTables(tables)
	if err := s.ensurePublication(ctx, tables); err != nil {
		return err
	}
	start, err := s.prepareSlot(ctx, tables)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := s.startReplication(ctx, start); err != nil {
		return err
	}
	c.tracker.Store(s.acks)
	defer c.tracker.Store(nil)

	bctx, bcancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.background(bctx) }()
	go func() { defer wg.Done(); s.snapshotter(bctx) }()

	c.setState(StateStreaming, "")
	c.log.Info("streaming", "from", start, "publication", c.cfg.Publication, "tables", len(tables))
	err = s.stream(ctx)
	bcancel()
	wg.Wait()
	s.drain()
	return err
}

func (s *session) setTables(tables []discovered) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	for _, t := range tables {
		s.tables[t.id()] = t
		s.c.table(t.schema, t.name)
	}
}

func (s *session) lookup(id string) (discovered, bool) {
	s.tmu.Lock()
	defer s.tmu.Unlock()
	t, ok := s.tables[id]
	return t, ok
}

func (s *session) connect(ctx context.Context) error {
	pcfg, err := pgxpool.ParseConfig(s.cfg.URL)
	if err != nil {
		return fatal(fmt.Errorf("postgresql url: %s", redact(err)))
	}
	pcfg.MaxConns = 6
	pcfg.MinConns = 0
	params := pcfg.ConnConfig.RuntimeParams
	for k, v := range outputParams {
		params[k] = v
	}
	params["application_name"] = "riacho-cdc-" + s.cfg.Source
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	s.pool = pool
	if err := pool.QueryRow(ctx, "SELECT current_database()").Scan(&s.db); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	s.catalog = pgtypes.NewCatalog(pool)

	rcfg, err := pgconn.ParseConfig(s.cfg.URL)
	if err != nil {
		return fatal(fmt.Errorf("postgresql url: %s", redact(err)))
	}
	for k, v := range outputParams {
		rcfg.RuntimeParams[k] = v
	}
	rcfg.RuntimeParams["replication"] = "database"
	rcfg.RuntimeParams["application_name"] = "riacho-cdc-" + s.cfg.Source
	repl, err := pgconn.ConnectConfig(ctx, rcfg)
	if err != nil {
		return fmt.Errorf("open replication connection: %w", err)
	}
	s.repl = repl
	return nil
}

func (s *session) close() {
	s.pcancel()
	if s.repl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = s.repl.Close(ctx)
		cancel()
	}
	if s.pool != nil {
		s.pool.Close()
	}
}

// slotRecord is the state document of the slot ("pg/<source>/slot").
type slotRecord struct {
	Slot            string    `json:"slot"`
	State           string    `json:"state"` // creating, created
	ConsistentPoint string    `json:"consistent_point,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
}

type slotInfo struct {
	plugin, database string
	active           bool
	pid              *int32
	confirmed        *string
}

func (s *session) slotInfo(ctx context.Context) (slotInfo, bool, error) {
	var si slotInfo
	err := s.pool.QueryRow(ctx, `SELECT coalesce(plugin, ''), coalesce(database::text, ''), active, active_pid, confirmed_flush_lsn::text
		FROM pg_catalog.pg_replication_slots WHERE slot_name = $1`, s.cfg.Slot).
		Scan(&si.plugin, &si.database, &si.active, &si.pid, &si.confirmed)
	if errors.Is(err, pgx.ErrNoRows) {
		return si, false, nil
	}
	if err != nil {
		return si, false, fmt.Errorf("look up slot %s: %w", s.cfg.Slot, err)
	}
	return si, true, nil
}

// prepareSlot finds or creates the slot and returns the position to start
// streaming from (0: the slot's confirmed position). A new slot is followed
// by the initial snapshot of the pending tables, read in the snapshot the
// slot exported, so the stream starts exactly where the snapshot ends.
func (s *session) prepareSlot(ctx context.Context, tables []discovered) (pglogrepl.LSN, error) {
	var rec slotRecord
	has, err := s.c.st.Get(s.c.slotKey(), &rec)
	if err != nil {
		return 0, err
	}
	info, exists, err := s.slotInfo(ctx)
	if err != nil {
		return 0, err
	}
	if exists {
		if info.plugin != "pgoutput" || info.database != s.db {
			return 0, fatal(fmt.Errorf("slot %s exists for plugin %q on database %q, not pgoutput on %q",
				s.cfg.Slot, info.plugin, info.database, s.db))
		}
		if info.active {
			pid := int32(0)
			if info.pid != nil {
				pid = *info.pid
			}
			return 0, fmt.Errorf("slot %s is in use by server process %d", s.cfg.Slot, pid)
		}
		if !has {
			s.log.Warn("adopting an existing slot the state does not record", "slot", s.cfg.Slot)
		}
		if s.cfg.Snapshot == SnapshotInitial {
			// Tables without a snapshot record (included since, or a slot
			// the state does not know) get an incremental one.
			if err := s.markPending(ctx, tables, "incremental", false); err != nil {
				return 0, err
			}
		}
		if !has || rec.State != "created" {
			rec = slotRecord{Slot: s.cfg.Slot, State: "created", CreatedAt: time.Now().UTC()}
			if info.confirmed != nil {
				rec.ConsistentPoint = *info.confirmed
			}
			if err := s.c.st.Put(ctx, s.c.slotKey(), rec); err != nil {
				return 0, err
			}
		}
		var start pglogrepl.LSN
		if info.confirmed != nil {
			if start, err = pglogrepl.ParseLSN(*info.confirmed); err != nil {
				return 0, fmt.Errorf("slot %s confirmed position %q: %w", s.cfg.Slot, *info.confirmed, err)
			}
		}
		s.acks = newAckTracker(start)
		s.c.confirmed.Store(uint64(start))
		return 0, nil
	}

	resnapshot := false
	if has && rec.State == "created" {
		lost := fmt.Errorf("%w: slot %s was created %s (consistent point %s) but the server has no such slot",
			ErrSlotLost, s.cfg.Slot, rec.CreatedAt.Format(time.RFC3339), rec.ConsistentPoint)
		if s.cfg.OnSlotLoss != SlotLossResnapshot {
			return 0, fatal(lost)
		}
		s.log.Warn("replication slot lost; creating it again and snapshotting every table again (on_slot_loss: resnapshot)",
			"err", lost)
		resnapshot = true
	}
	snapshot := s.cfg.Snapshot == SnapshotInitial || resnapshot
	if snapshot {
		if err := s.markPending(ctx, tables, "initial", true); err != nil {
			return 0, err
		}
	}
	rec = slotRecord{Slot: s.cfg.Slot, State: "creating", CreatedAt: time.Now().UTC()}
	if err := s.c.st.Put(ctx, s.c.slotKey(), rec); err != nil {
		return 0, err
	}
	action := "NOEXPORT_SNAPSHOT"
	if snapshot {
		action = "EXPORT_SNAPSHOT"
	}
	res, err := pglogrepl.CreateReplicationSlot(ctx, s.repl, s.cfg.Slot, "pgoutput",
		pglogrepl.CreateReplicationSlotOptions{Mode: pglogrepl.LogicalReplication, SnapshotAction: action})
	if err != nil {
		return 0, fmt.Errorf("create slot %s: %w", s.cfg.Slot, err)
	}
	start, err := pglogrepl.ParseLSN(res.ConsistentPoint)
	if err != nil {
		return 0, fmt.Errorf("slot %s consistent point %q: %w", s.cfg.Slot, res.ConsistentPoint, err)
	}
	rec.State, rec.ConsistentPoint = "created", res.ConsistentPoint
	if err := s.c.st.Put(ctx, s.c.slotKey(), rec); err != nil {
		return 0, err
	}
	s.log.Info("replication slot created", "consistent_point", res.ConsistentPoint)
	s.acks = newAckTracker(start)
	s.c.confirmed.Store(uint64(start))
	if snapshot {
		s.c.setState(StateSnapshotting, "")
		if err := s.initialSnapshot(ctx, tables, res.SnapshotName, start); err != nil {
			return 0, err
		}
	}
	return start, nil
}

// startReplication starts pgoutput protocol 2 with streaming of large
// in-progress transactions and logical decoding messages.
func (s *session) startReplication(ctx context.Context, start pglogrepl.LSN) error {
	err := pglogrepl.StartReplication(ctx, s.repl, s.cfg.Slot, start, pglogrepl.StartReplicationOptions{
		Mode: pglogrepl.LogicalReplication,
		PluginArgs: []string{
			"proto_version '2'",
			"publication_names " + quoteLiteral(s.cfg.Publication),
			"messages 'true'",
			"streaming 'on'",
		},
	})
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42704" { // undefined_object
			return fatal(fmt.Errorf("%w: start replication on slot %s: %s", ErrSlotLost, s.cfg.Slot, pe.Message))
		}
		return fmt.Errorf("start replication on slot %s: %w", s.cfg.Slot, err)
	}
	return nil
}

func quoteLiteral(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}

// drain waits (bounded) for Kafka to acknowledge what the session produced,
// then reports the final confirmed position.
func (s *session) drain() {
	if s.acks == nil {
		return
	}
	if s.inTxn {
		// A transaction cut short is read again from the slot: what was
		// produced of it stays unconfirmed.
		s.flush()
		s.acks.close(s.unit, 0)
		s.inTxn = false
	}
	s.failChunks()
	if _, _, _, err := s.acks.state(); err != nil {
		return // a produce failed: nothing more will be confirmed
	}
	if ch, empty := s.acks.wait(); !empty {
		select {
		case <-ch:
		case <-time.After(drainTimeout):
			s.log.Warn("records still unacknowledged at stop; they will be read again from the slot")
		}
	}
	if s.repl != nil && !s.repl.IsClosed() {
		_ = s.sendStatus(false)
	}
}
