package registry

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// storedVersion is one schema version held in memory.
type storedVersion struct {
	schemaValue
	ident string // identity text of Schema, see identity
}

// idEntry is a schema id, its text and how many versions (live or soft
// deleted) refer to it.
type idEntry struct {
	schema string
	refs   int
}

// state is the in-memory image of the registry topic. Records are applied by
// logical key with last-offset-wins, so a record applied right after its
// produce ack and again when the tailer reads it has one effect.
type state struct {
	mu            sync.RWMutex
	subjects      map[string][]*storedVersion // ascending by version, soft-deleted included
	subjectConfig map[string]string
	globalConfig  string // "" while no global config record exists
	ids           map[int]*idEntry
	byIdent       map[string]int
	maxID         int
	applied       map[string]int64
	position      int64         // next offset the tailer will read
	advanced      chan struct{} // closed and replaced whenever position grows
}

func newState() *state {
	return &state{
		subjects:      map[string][]*storedVersion{},
		subjectConfig: map[string]string{},
		ids:           map[int]*idEntry{},
		byIdent:       map[string]int{},
		applied:       map[string]int64{},
		advanced:      make(chan struct{}),
	}
}

// apply applies one record (a nil value is a tombstone) read at offset.
// It reports an error for records it cannot interpret; they change nothing.
func (st *state) apply(key, value []byte, offset int64) error {
	k, ok, err := decodeKey(key)
	if err != nil || !ok {
		return err
	}
	var sv schemaValue
	var cv configValue
	if value != nil {
		switch k.kind {
		case keyTypeSchema:
			if err := json.Unmarshal(value, &sv); err != nil {
				return fmt.Errorf("decode schema value at offset %d: %w", offset, err)
			}
			if sv.SchemaType != "" && sv.SchemaType != schemaTypeAvro {
				return fmt.Errorf("skip %s schema %s/%d at offset %d: only AVRO is supported",
					sv.SchemaType, k.subject, k.version, offset)
			}
			sv.Subject, sv.Version, sv.SchemaType = k.subject, k.version, ""
		case keyTypeConfig:
			if err := json.Unmarshal(value, &cv); err != nil {
				return fmt.Errorf("decode config value at offset %d: %w", offset, err)
			}
			if !ValidLevel(cv.CompatibilityLevel) {
				return fmt.Errorf("skip config at offset %d: unknown level %q", offset, cv.CompatibilityLevel)
			}
		}
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	kid := k.id()
	if last, seen := st.applied[kid]; seen && offset <= last {
		return nil
	}
	st.applied[kid] = offset
	switch {
	case k.kind == keyTypeSchema && value == nil:
		st.removeVersion(k.subject, k.version)
	case k.kind == keyTypeSchema:
		st.removeVersion(k.subject, k.version)
		st.addVersion(&storedVersion{schemaValue: sv, ident: identity(sv.Schema)})
	case k.global && value == nil:
		st.globalConfig = ""
	case k.global:
		st.globalConfig = cv.CompatibilityLevel
	case value == nil:
		delete(st.subjectConfig, k.subject)
	default:
		st.subjectConfig[k.subject] = cv.CompatibilityLevel
	}
	return nil
}

// find returns the index of version in subject's list and whether it is there.
func (st *state) find(subject string, version int) (int, bool) {
	return slices.BinarySearchFunc(st.subjects[subject], version, func(v *storedVersion, n int) int {
		return cmp.Compare(v.Version, n)
	})
}

// addVersion stores v; the caller holds mu and removed any previous value.
func (st *state) addVersion(v *storedVersion) {
	i, _ := st.find(v.Subject, v.Version)
	st.subjects[v.Subject] = slices.Insert(st.subjects[v.Subject], i, v)
	e := st.ids[v.ID]
	if e == nil {
		e = &idEntry{schema: v.Schema}
		st.ids[v.ID] = e
	}
	e.refs++
	if _, ok := st.byIdent[v.ident]; !ok {
		st.byIdent[v.ident] = v.ID
	}
	st.maxID = max(st.maxID, v.ID)
}

// removeVersion forgets subject/version; the caller holds mu.
func (st *state) removeVersion(subject string, version int) {
	i, ok := st.find(subject, version)
	if !ok {
		return
	}
	list := st.subjects[subject]
	v := list[i]
	if list = slices.Delete(list, i, i+1); len(list) == 0 {
		delete(st.subjects, subject)
	} else {
		st.subjects[subject] = list
	}
	e := st.ids[v.ID]
	if e == nil {
		return
	}
	e.refs--
	if e.refs > 0 {
		return
	}
	delete(st.ids, v.ID)
	if st.byIdent[v.ident] == v.ID {
		delete(st.byIdent, v.ident)
	}
}

// advance records that the tailer has read the record at offset.
func (st *state) advance(offset int64) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if offset+1 <= st.position {
		return
	}
	st.position = offset + 1
	close(st.advanced)
	st.advanced = make(chan struct{})
}

// waitPosition blocks until the tailer has read every offset below target.
func (st *state) waitPosition(ctx context.Context, target int64) error {
	for {
		st.mu.RLock()
		pos, ch := st.position, st.advanced
		st.mu.RUnlock()
		if pos >= target {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("load registry topic: at offset %d of %d: %w", pos, target, ctx.Err())
		case <-ch:
		}
	}
}

// subjectNames returns the subjects with a live version (or any version when
// deleted is true), sorted.
func (st *state) subjectNames(deleted bool) []string {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []string
	for s, vs := range st.subjects {
		if deleted || slices.ContainsFunc(vs, func(v *storedVersion) bool { return !v.Deleted }) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// versions returns subject's versions in ascending order: live ones, or all
// when deleted is true.
func (st *state) versions(subject string, deleted bool) []*storedVersion {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.versionsLocked(subject, deleted)
}

func (st *state) versionsLocked(subject string, deleted bool) []*storedVersion {
	vs := st.subjects[subject]
	if deleted {
		return slices.Clone(vs)
	}
	out := make([]*storedVersion, 0, len(vs))
	for _, v := range vs {
		if !v.Deleted {
			out = append(out, v)
		}
	}
	return out
}

// registration gathers what registering a schema under subject needs in one
// pass: the newest live version with the same identity (nil if none), the live
// versions to check compatibility against (newest first; only the latest
// unless transitive) and the next version number.
func (st *state) registration(subject, ident string, transitive bool) (same *storedVersion, old []oldVersion, next int) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	vs := st.subjects[subject]
	if len(vs) > 0 {
		next = vs[len(vs)-1].Version
	}
	for _, v := range slices.Backward(vs) {
		if v.Deleted {
			continue
		}
		if same == nil && v.ident == ident {
			same = v
		}
		if transitive || len(old) == 0 {
			old = append(old, oldVersion{version: v.Version, text: v.Schema})
		}
	}
	return same, old, next + 1
}

// schemaByID returns the text of schema id.
func (st *state) schemaByID(id int) (string, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	e, ok := st.ids[id]
	if !ok {
		return "", false
	}
	return e.schema, true
}

// usesOfID returns the versions that refer to id, by subject then version.
func (st *state) usesOfID(id int, deleted bool) []*storedVersion {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []*storedVersion
	for _, s := range slices.Sorted(maps.Keys(st.subjects)) {
		for _, v := range st.subjects[s] {
			if v.ID == id && (deleted || !v.Deleted) {
				out = append(out, v)
			}
		}
	}
	return out
}

// idFor returns the id of a schema identity and the next unused id.
func (st *state) idFor(ident string) (id int, found bool, next int) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	id, found = st.byIdent[ident]
	return id, found, st.maxID + 1
}

// level returns the compatibility level in force for subject and whether
// subject has its own level. An empty subject asks for the global level.
func (st *state) level(subject, fallback string) (string, bool) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if l, ok := st.subjectConfig[subject]; ok && subject != "" {
		return l, true
	}
	if st.globalConfig != "" {
		return st.globalConfig, false
	}
	return fallback, false
}

// hasGlobalLevel reports whether a global config record is stored.
func (st *state) hasGlobalLevel() bool {
	st.mu.RLock()
	defer st.mu.RUnlock()
	return st.globalConfig != ""
}
