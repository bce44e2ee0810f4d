package expect

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// maxDFAStates and maxDFAInsts bound the eagerly built DFA (and the time to
// build it); larger patterns use regexp.
const (
	maxDFAStates = 256
	maxDFAInsts  = 160
)

// matcher answers regexp.MatchString for a pattern. Patterns using only
// ^/$ (not multi-line) as assertions are compiled ahead of time into a DFA
// over ASCII bytes, which is immutable (safe for concurrent use) and does
// not allocate; other patterns, and non-ASCII inputs, use regexp.
type matcher struct {
	re     *regexp.Regexp
	states []dstate // nil when the pattern is not DFA-compatible
	start  int32    // state before the first byte
	prog   *syntax.Prog
}

// dstate is one DFA state: the NFA threads alive, as a set of pcs.
type dstate struct {
	next    [128]int32 // transition per ASCII byte
	matched bool       // a match has been found: the search succeeds
	atEnd   bool       // a match is found if the input ends here
}

// newMatcher compiles expr (Go syntax) and tries to build its DFA.
func newMatcher(expr string) (*matcher, error) {
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, err
	}
	m := &matcher{re: re}
	if m.prog = program(expr); m.prog == nil || len(m.prog.Inst) > maxDFAInsts || !m.build() {
		m.states = nil
	}
	return m, nil
}

// program compiles expr to an NFA program, nil if it cannot.
func program(expr string) *syntax.Prog {
	parsed, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	prog, err := syntax.Compile(parsed.Simplify())
	if err != nil {
		return nil
	}
	return prog
}

// MatchString reports whether s contains a match of the pattern.
func (m *matcher) MatchString(s string) bool {
	if m.states == nil {
		return m.re.MatchString(s)
	}
	st := &m.states[m.start]
	for i := 0; i < len(s); i++ {
		if st.matched {
			return true
		}
		c := s[i]
		if c >= 0x80 {
			return m.re.MatchString(s)
		}
		st = &m.states[st.next[c]]
	}
	return st.matched || st.atEnd
}

// closure adds to set the threads reachable from pc without consuming
// input: rune and match instructions, and $ assertions pending until the
// input ends. It reports false for assertions the DFA cannot handle.
func (m *matcher) closure(pc uint32, atStart, atEnd bool, visited, set map[uint32]bool) bool {
	if visited[pc] {
		return true
	}
	visited[pc] = true
	in := &m.prog.Inst[pc]
	switch in.Op {
	case syntax.InstAlt, syntax.InstAltMatch:
		return m.closure(in.Out, atStart, atEnd, visited, set) && m.closure(in.Arg, atStart, atEnd, visited, set)
	case syntax.InstNop, syntax.InstCapture:
		return m.closure(in.Out, atStart, atEnd, visited, set)
	case syntax.InstEmptyWidth:
		begin, end := uint32(syntax.EmptyBeginText), uint32(syntax.EmptyEndText)
		switch {
		case in.Arg&^(begin|end) != 0:
			return false
		case in.Arg&begin != 0 && !atStart:
			return true // the thread dies
		case in.Arg&end != 0 && !atEnd:
			set[pc] = true
			return true
		}
		return m.closure(in.Out, atStart, atEnd, visited, set)
	case syntax.InstFail:
		return true
	}
	set[pc] = true
	return true
}

// dkey identifies a set of pcs.
func dkey(pcs []uint32) string {
	var b strings.Builder
	for _, pc := range pcs {
		b.WriteString(strconv.FormatUint(uint64(pc), 36))
		b.WriteByte(',')
	}
	return b.String()
}

// build constructs every reachable state; false means "use regexp".
func (m *matcher) build() bool {
	index := map[string]int32{}
	var sets [][]uint32
	// The start state is never shared with later states: only there may a
	// pending $ be followed by a ^ (as in "$^" matching "").
	add := func(set map[uint32]bool, isStart bool) int32 {
		pcs := make([]uint32, 0, len(set))
		for pc := range set {
			pcs = append(pcs, pc)
		}
		slices.Sort(pcs)
		k := dkey(pcs)
		if isStart {
			k = "start:" + k
		}
		if i, ok := index[k]; ok {
			return i
		}
		i := int32(len(sets)) //nolint:gosec // at most maxDFAStates+128 states
		index[k] = i
		sets = append(sets, pcs)
		return i
	}
	start := uint32(m.prog.Start) //nolint:gosec // at most maxDFAInsts instructions
	first := map[uint32]bool{}
	if !m.closure(start, true, false, map[uint32]bool{}, first) {
		return false
	}
	m.start = add(first, true)
	for i := 0; i < len(sets); i++ {
		if len(sets) > maxDFAStates {
			return false
		}
		st := dstate{}
		var ok bool
		if st.matched, st.atEnd, ok = m.accepts(sets[i], int32(i) == m.start); !ok {
			return false
		}
		for c := 0; c < 128; c++ {
			next, visited := map[uint32]bool{}, map[uint32]bool{}
			if !m.closure(start, false, false, visited, next) {
				return false
			}
			for _, pc := range sets[i] {
				in := &m.prog.Inst[pc]
				if in.Op != syntax.InstMatch && in.Op != syntax.InstEmptyWidth && in.MatchRune(rune(c)) {
					if !m.closure(in.Out, false, false, visited, next) {
						return false
					}
				}
			}
			st.next[c] = add(next, false)
		}
		m.states = append(m.states, st)
	}
	return true
}

// accepts reports whether a state has matched, and whether it matches if
// the input ends there (resolving pending $ assertions).
func (m *matcher) accepts(pcs []uint32, atStart bool) (matched, atEnd, ok bool) {
	end, visited := map[uint32]bool{}, map[uint32]bool{}
	for _, pc := range pcs {
		switch m.prog.Inst[pc].Op {
		case syntax.InstMatch:
			matched = true
		case syntax.InstEmptyWidth:
			if !m.closure(m.prog.Inst[pc].Out, atStart, true, visited, end) {
				return false, false, false
			}
		}
	}
	for pc := range end {
		if m.prog.Inst[pc].Op == syntax.InstMatch {
			atEnd = true
		}
	}
	return matched, atEnd || matched, true
}
