package project

import (
	"errors"
	"fmt"
	"sort"
)

// Sentinels wrapped by every *Error, for callers that test the kind.
var (
	// ErrSyntax is a malformed template or YAML file.
	ErrSyntax = errors.New("syntax error")
	// ErrUnsupported is a Jinja construct, config key or feature riacho does not run.
	ErrUnsupported = errors.New("unsupported")
	// ErrUndefined is an unknown name: variable, env var, function, ref or source.
	ErrUndefined = errors.New("undefined")
	// ErrUnknownKey is a key that YAML or config() does not accept.
	ErrUnknownKey = errors.New("unknown key")
	// ErrInvalid is a value of the wrong type or out of range.
	ErrInvalid = errors.New("invalid value")
	// ErrDuplicate is a model, source or key defined twice.
	ErrDuplicate = errors.New("duplicate definition")
	// ErrCycle is a cycle of refs between models.
	ErrCycle = errors.New("dependency cycle")
)

// Error is one load error at a place in a project file. Its text is
// "path:line:col: message" (":col" is left out when unknown).
type Error struct {
	// File is the path of the file, the project directory joined with its
	// path inside the project.
	File string
	// Line and Col are 1-based; Col is 0 when only the line is known.
	Line, Col int
	// Msg says what is wrong.
	Msg string
	// Kind is one of the ErrX sentinels.
	Kind error
}

// Error formats the error as path:line[:col]: message.
func (e *Error) Error() string {
	if e.Col > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Unwrap returns the sentinel kind.
func (e *Error) Unwrap() error { return e.Kind }

// pos is a place in a file, 1-based; col 0 means unknown.
type pos struct{ line, col int }

// posError is an error found before the file's name is known (templates).
type posError struct {
	pos
	msg  string
	kind error
}

func (e *posError) Error() string { return fmt.Sprintf("%d:%d: %s", e.line, e.col, e.msg) }
func (e *posError) Unwrap() error { return e.kind }

func errAt(p pos, kind error, format string, args ...any) *posError {
	return &posError{pos: p, msg: fmt.Sprintf(format, args...), kind: kind}
}

// inFile gives a template error its file; other errors get line 1.
func inFile(file string, err error) error {
	var pe *posError
	if errors.As(err, &pe) {
		return &Error{File: file, Line: pe.line, Col: pe.col, Msg: pe.msg, Kind: pe.kind}
	}
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{File: file, Line: 1, Msg: err.Error(), Kind: ErrInvalid}
}

// suggest returns ` (did you mean "x"?)` for the closest candidate, or "".
func suggest(word string, candidates []string) string {
	best, bestD := "", 3
	if len(word) <= 3 {
		bestD = 2
	}
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		if d := editDistance(word, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
