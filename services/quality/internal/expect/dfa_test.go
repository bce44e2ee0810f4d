package expect

import (
	"regexp"
	"testing"
)

func TestMatcherAgreesWithRegexp(t *testing.T) {
	patterns := []string{
		`^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`, `b+`, `^$`, `$^`, `a$|^$`, ``, `^abc`, `abc$`, `a|^b|c$`, `(?i)won`,
		`^\d{5}-?\d{3}$`, `x*`, `(a|ab)(c|bcd)`, `^(\+55)?\d{10,11}$`, `ção`, `\bword\b`, `(?m)^x`, `[^a]`, `a.c`, `(?s)a.c`,
	}
	inputs := []string{"", "a", "b", "abc", "xabc", "abcx", "ana@example.com", "a@b.c", "bad", "WON", "01310-100", "01310100",
		"+5511987654321", "ação", "a word here", "x\ny", "a\nc", "abcd", "bb", "c"}
	for _, p := range patterns {
		m, err := newMatcher(p)
		if err != nil {
			t.Fatal(err)
		}
		re := regexp.MustCompile(p)
		for _, in := range inputs {
			if got, want := m.MatchString(in), re.MatchString(in); got != want {
				t.Errorf("pattern %q input %q: matcher %v, regexp %v (dfa %v)", p, in, got, want, m.states != nil)
			}
		}
	}
	if m, _ := newMatcher(`^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\.[a-zA-Z]{2,}$`); m.states == nil {
		t.Fatal("the seed's email regex should run on the DFA")
	}
}

func FuzzMatcher(f *testing.F) {
	f.Add(`^[a-z]+@[a-z]+\.[a-z]{2,}$`, "ana@example.com")
	f.Add(`a|^b|c$`, "xbc")
	f.Add(`(?i)^won$`, "WoN")
	f.Add(`^$`, "")
	f.Fuzz(func(t *testing.T, pattern, input string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		m, err := newMatcher(pattern)
		if err != nil {
			t.Fatalf("regexp compiles %q but newMatcher fails: %v", pattern, err)
		}
		if got, want := m.MatchString(input), re.MatchString(input); got != want {
			t.Fatalf("pattern %q input %q: matcher %v, regexp %v", pattern, input, got, want)
		}
	})
}
