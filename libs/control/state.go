package control

import (
	"maps"
	"slices"
	"sync"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	controlv1 "github.com/riacho/riacho/proto/riacho/control/v1"
)

// Detail keys the Server records in State while a service is paused.
const (
	DetailPausedReason = "paused_reason"
	DetailPausedBy     = "paused_by"
	DetailPausedAt     = "paused_at"
)

// State is the part of a service's status that the service itself keeps up
// to date: lifecycle state, last error, counters and free-form details. It is
// safe for concurrent use.
type State struct {
	mu        sync.Mutex
	now       func() time.Time
	state     controlv1.State
	startedAt time.Time
	lastErr   string
	lastErrAt time.Time
	details   map[string]string
	counters  map[string]*RateCounter
	tracked   map[string]*tracked
	service   string
	version   string
	commands  []string
}

// NewState returns a State in STATE_STARTING whose start time is now.
func NewState() *State {
	return newState(time.Now)
}

// newState returns a State reading time from now.
func newState(now func() time.Time) *State {
	return &State{
		now:       now,
		state:     controlv1.State_STATE_STARTING,
		startedAt: now(),
		details:   map[string]string{},
		counters:  map[string]*RateCounter{},
		tracked:   map[string]*tracked{},
	}
}

// tracked is a counter that follows a running total kept elsewhere.
type tracked struct {
	total   func() uint64
	counter *RateCounter
	last    uint64
	started bool
}

// Track makes the counter name follow total, a running total the service
// already keeps (records curated, rows loaded, ...), so Status reports its
// rate without the service counting twice. The Server samples it every
// second while it serves, and again for each Status; what total held when
// first sampled counts in Total but not in the rate.
func (s *State) Track(name string, total func() uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.counters[name]
	if !ok {
		c = newRateCounter(RateWindow, s.now)
		s.counters[name] = c
	}
	s.tracked[name] = &tracked{total: total, counter: c}
}

// sample brings every tracked counter up to its running total. A total
// that went down (a restarted component) is taken as the new base.
func (s *State) sample() {
	s.mu.Lock()
	ts := slices.Collect(maps.Values(s.tracked))
	s.mu.Unlock()
	for _, t := range ts {
		s.sampleOne(t)
	}
}

// sampleOne reads one running total outside the State's lock (it may take
// other locks) and records the increase since the previous sample.
func (s *State) sampleOne(t *tracked) {
	cur := t.total()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !t.started:
		t.started, t.last = true, cur
		t.counter.addTotal(cur)
	case cur > t.last:
		t.counter.Add(cur - t.last)
		t.last = cur
	case cur < t.last:
		t.last = cur
	}
}

// sampleEvery samples the tracked counters every interval until stop closes.
func (s *State) sampleEvery(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.sample()
		}
	}
}

// Set changes the lifecycle state.
func (s *State) Set(st controlv1.State) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = st
}

// Get returns the lifecycle state.
func (s *State) Get() controlv1.State {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state
}

// SetError records err as the last error, with the current time; a nil err is ignored.
func (s *State) SetError(err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastErr = err.Error()
	s.lastErrAt = s.now()
}

// SetDetail records a service-specific fact shown in Status; an empty value removes the key.
func (s *State) SetDetail(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if value == "" {
		delete(s.details, key)
		return
	}
	s.details[key] = value
}

// Counter returns the counter with the given name, creating it on first use.
func (s *State) Counter(name string) *RateCounter {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.counters[name]
	if !ok {
		c = newRateCounter(RateWindow, s.now)
		s.counters[name] = c
	}
	return c
}

// setIdentity records what the Server knows and the State reports.
func (s *State) setIdentity(service, version string, commands []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.service, s.version, s.commands = service, version, commands
}

// Status builds a StatusResponse from the state: service, version, state,
// start time, rates sorted by name, last error, commands and details. The
// service name, version and commands are those given to New.
func (s *State) Status() *controlv1.StatusResponse {
	s.sample()
	s.mu.Lock()
	resp := &controlv1.StatusResponse{
		Service:   s.service,
		Version:   s.version,
		State:     s.state,
		StartedAt: timestamppb.New(s.startedAt),
		LastError: s.lastErr,
		Commands:  slices.Clone(s.commands),
		Details:   maps.Clone(s.details),
	}
	if !s.lastErrAt.IsZero() {
		resp.LastErrorAt = timestamppb.New(s.lastErrAt)
	}
	counters := maps.Clone(s.counters)
	s.mu.Unlock()

	for _, name := range slices.Sorted(maps.Keys(counters)) {
		c := counters[name]
		resp.Rates = append(resp.Rates, &controlv1.Rate{Name: name, PerSecond: c.Rate(), Total: c.Total()})
	}
	return resp
}
