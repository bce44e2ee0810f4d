package engine

import (
	"slices"
	"sort"
	"time"
)

// PartitionStatus is one partition's progress.
type PartitionStatus struct {
	Topic     string
	Partition int32
	Table     string
	// Committed is the next offset the table holds for the partition (-1 unknown).
	Committed int64
	// Next is the offset after the last record read (-1 none yet).
	Next int64
	// HighWatermark is the partition's end offset at the last fetch.
	HighWatermark int64
	// OpenFiles and PendingRecords describe the range not committed yet.
	OpenFiles      int
	PendingRecords int64
	LastCommit     time.Time
	LastSnapshot   int64
	LastError      string
	// RefusedSchemas are the writer schema ids whose records this partition
	// sends to the dead-letter topic because the table cannot take them.
	RefusedSchemas []uint32
}

// Lag is the records not yet in a committed file (-1 unknown).
func (s PartitionStatus) Lag() int64 {
	if s.Committed < 0 || s.HighWatermark <= 0 {
		return -1
	}
	return max(s.HighWatermark-s.Committed, 0)
}

// Status is the engine's progress for Control.
type Status struct {
	Ready, Paused                               bool
	Topics, Group, DLQTopic, Lake               string
	Records, Bytes, Files, Commits, DeadLetters int64
	Partitions                                  []PartitionStatus
}

// Status returns the engine's counters since start and every partition it writes.
func (e *Engine) Status() Status {
	st := Status{
		Ready: e.ready.Load(), Paused: e.paused.Load(),
		Topics: e.cfg.Topics, Group: e.cfg.Group, DLQTopic: e.cfg.DLQTopic, Lake: e.store.URL(),
		Records: e.records.Load(), Bytes: e.bytes.Load(), Files: e.files.Load(),
		Commits: e.commits.Load(), DeadLetters: e.deadLetters.Load(),
	}
	e.mu.Lock()
	parts := make([]*partition, 0, len(e.parts))
	for _, p := range e.parts {
		parts = append(parts, p)
	}
	e.mu.Unlock()
	for _, p := range parts {
		p.mu.Lock()
		ps := p.st
		ps.RefusedSchemas = slices.Clone(ps.RefusedSchemas)
		st.Partitions = append(st.Partitions, ps)
		p.mu.Unlock()
	}
	sort.Slice(st.Partitions, func(i, j int) bool {
		a, b := st.Partitions[i], st.Partitions[j]
		if a.Topic != b.Topic {
			return a.Topic < b.Topic
		}
		return a.Partition < b.Partition
	})
	return st
}
