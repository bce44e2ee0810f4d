package mask

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want Policy
		err  string // substring; "" = no error
	}{
		{"hash", "hash", Policy{Kind: KindHash}, ""},
		{"redact", "redact", Policy{Kind: KindRedact}, ""},
		{"keep_last dict int", map[string]any{"policy": "keep_last", "n": 4}, Policy{Kind: KindKeepLast, N: 4}, ""},
		{"keep_last dict int64", map[string]any{"policy": "keep_last", "n": int64(2)}, Policy{Kind: KindKeepLast, N: 2}, ""},
		{"keep_last dict float", map[string]any{"policy": "keep_last", "n": 3.0}, Policy{Kind: KindKeepLast, N: 3}, ""},
		{"keep_last zero", map[string]any{"policy": "keep_last", "n": 0}, Policy{Kind: KindKeepLast}, ""},
		{"hash dict", map[string]any{"policy": "hash"}, Policy{Kind: KindHash}, ""},
		{"keep_last bare", "keep_last", Policy{}, "keep_last needs n"},
		{"unknown string", "sha1", Policy{}, `unknown policy "sha1"`},
		{"unknown dict policy", map[string]any{"policy": "blur"}, Policy{}, `unknown policy "blur"`},
		{"unknown key", map[string]any{"policy": "keep_last", "n": 4, "m": 1}, Policy{}, `unknown key "m"`},
		{"missing n", map[string]any{"policy": "keep_last"}, Policy{}, "keep_last needs n"},
		{"negative n", map[string]any{"policy": "keep_last", "n": -1}, Policy{}, "whole number >= 0"},
		{"fractional n", map[string]any{"policy": "keep_last", "n": 1.5}, Policy{}, "whole number >= 0"},
		{"string n", map[string]any{"policy": "keep_last", "n": "4"}, Policy{}, "whole number >= 0"},
		{"n on hash", map[string]any{"policy": "hash", "n": 4}, Policy{}, "n applies only to keep_last"},
		{"policy not string", map[string]any{"policy": 1}, Policy{}, "policy must be a string"},
		{"nil", nil, Policy{}, "empty policy"},
		{"number", 3, Policy{}, "int is not a policy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePolicy(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrPolicy) {
					t.Fatalf("ParsePolicy(%v) error = %v, want ErrPolicy containing %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParsePolicy(%v) = %+v, %v, want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestPolicyString(t *testing.T) {
	for p, want := range map[Policy]string{
		{Kind: KindHash}:           "hash",
		{Kind: KindRedact}:         "redact",
		{Kind: KindKeepLast, N: 4}: "keep_last(4)",
	} {
		if got := p.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", p, got, want)
		}
	}
}

func hmacHex(key, value string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))[:HashLen]
}

func TestApply(t *testing.T) {
	m := NewMasker([]byte("secret"))
	hash := Policy{Kind: KindHash}
	keep4 := Policy{Kind: KindKeepLast, N: 4}
	ts := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		p    Policy
		in   any
		want any
	}{
		{"hash string", hash, "ana@example.com", hmacHex("secret", "ana@example.com")},
		{"hash empty string", hash, "", hmacHex("secret", "")},
		{"hash int formats first", hash, int64(42), hmacHex("secret", "42")},
		{"hash bytes", hash, []byte("x"), hmacHex("secret", "x")},
		{"hash time", hash, ts, hmacHex("secret", "2024-05-01T12:00:00Z")},
		{"hash nil", hash, nil, nil},
		{"redact", Policy{Kind: KindRedact}, "ana", Redacted},
		{"redact number", Policy{Kind: KindRedact}, 3.5, Redacted},
		{"redact nil", Policy{Kind: KindRedact}, nil, nil},
		{"keep_last", keep4, "11987654321", "*******4321"},
		{"keep_last runes", keep4, "ação-çãoé", "*****çãoé"},
		{"keep_last short", keep4, "123", "123"},
		{"keep_last exact", keep4, "1234", "1234"},
		{"keep_last zero", Policy{Kind: KindKeepLast}, "abc", "***"},
		{"keep_last number", Policy{Kind: KindKeepLast, N: 1}, int64(1234), "***4"},
		{"keep_last bool", Policy{Kind: KindKeepLast, N: 1}, true, "***e"},
		{"keep_last nil", keep4, nil, nil},
		{"unknown kind redacts", Policy{Kind: "nope"}, "secret", Redacted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Apply(tt.p, tt.in); got != tt.want {
				t.Fatalf("Apply(%v, %v) = %v, want %v", tt.p, tt.in, got, tt.want)
			}
		})
	}
}

func TestHashDependsOnKey(t *testing.T) {
	p := Policy{Kind: KindHash}
	a := NewMasker([]byte("k1")).Apply(p, "v")
	b := NewMasker([]byte("k2")).Apply(p, "v")
	if a == b {
		t.Fatalf("hash of the same value under two keys is equal: %v", a)
	}
	if s := a.(string); len(s) != HashLen {
		t.Fatalf("hash length = %d, want %d", len(s), HashLen)
	}
}

func TestNewMaskerCopiesKey(t *testing.T) {
	key := []byte("k1")
	m := NewMasker(key)
	before := m.Apply(Policy{Kind: KindHash}, "v")
	key[0] = 'x'
	if after := m.Apply(Policy{Kind: KindHash}, "v"); after != before {
		t.Fatalf("changing the caller's key slice changed the hash: %v then %v", before, after)
	}
}

func TestApplyConcurrent(t *testing.T) {
	m := NewMasker([]byte("secret"))
	want := hmacHex("secret", "value")
	var wg sync.WaitGroup
	errs := make(chan any, 8)
	for range 8 {
		wg.Go(func() {
			for range 200 {
				if got := m.Apply(Policy{Kind: KindHash}, "value"); got != want {
					errs <- got
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for got := range errs {
		t.Fatalf("concurrent hash = %v, want %v", got, want)
	}
}

func FuzzKeepLast(f *testing.F) {
	f.Add("11987654321", 4)
	f.Add("ação", 1)
	f.Add("\xff\xfe", 1)
	m := NewMasker(nil)
	f.Fuzz(func(t *testing.T, s string, n int) {
		n %= 64
		if n < 0 {
			n = -n
		}
		got := m.Apply(Policy{Kind: KindKeepLast, N: n}, s).(string)
		if utf8.RuneCountInString(got) != utf8.RuneCountInString(s) && utf8.ValidString(s) {
			t.Fatalf("keep_last(%d) of %q = %q: rune count changed", n, s, got)
		}
		if !strings.HasSuffix(s, strings.TrimLeft(got, "*")) {
			t.Fatalf("keep_last(%d) of %q = %q: kept text is not a suffix", n, s, got)
		}
	})
}

func BenchmarkApply(b *testing.B) {
	m := NewMasker([]byte("secret"))
	for _, p := range []Policy{{Kind: KindHash}, {Kind: KindKeepLast, N: 4}, {Kind: KindRedact}} {
		b.Run(p.String(), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.Apply(p, "ana.souza@example.com.br")
			}
		})
	}
}
