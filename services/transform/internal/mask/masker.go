package mask

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Redacted replaces every value under the redact policy.
const Redacted = "[redacted]"

// HashLen is how many hex characters of the HMAC the hash policy keeps.
const HashLen = 32

// Masker applies policies with one secret key. It is safe for concurrent use.
type Masker struct {
	macs sync.Pool // of hash.Hash keyed with the secret
}

// NewMasker returns a Masker whose hash policy is keyed by key (copied).
// An empty key still hashes, but then anyone can recompute the hashes of
// guessable values: production deployments must set a secret.
func NewMasker(key []byte) *Masker {
	k := append([]byte(nil), key...)
	m := &Masker{}
	m.macs.New = func() any { return hmac.New(sha256.New, k) }
	return m
}

// Apply masks v under p. nil stays nil; other values are formatted as text
// first (strings as is, []byte as text, time.Time in RFC 3339, numbers and
// bools with strconv). An unknown policy kind redacts, never leaks.
func (m *Masker) Apply(p Policy, v any) any {
	if v == nil {
		return nil
	}
	switch p.Kind {
	case KindHash:
		return m.hash(text(v))
	case KindKeepLast:
		return keepLast(text(v), p.N)
	}
	return Redacted
}

func (m *Masker) hash(s string) string {
	mac := m.macs.Get().(hash.Hash)
	mac.Reset()
	mac.Write([]byte(s))
	var sum [sha256.Size]byte
	out := mac.Sum(sum[:0])
	m.macs.Put(mac)
	return hex.EncodeToString(out[:HashLen/2])
}

func keepLast(s string, n int) string {
	count := utf8.RuneCountInString(s)
	if n >= count {
		return s
	}
	if n < 0 {
		n = 0
	}
	hide := count - n
	var b strings.Builder
	b.Grow(len(s))
	for i := range s {
		if hide == 0 {
			b.WriteString(s[i:])
			break
		}
		b.WriteByte('*')
		hide--
	}
	return b.String()
}

func text(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case []byte:
		return string(t)
	case time.Time:
		return t.Format(time.RFC3339Nano)
	case bool:
		return strconv.FormatBool(t)
	case int:
		return strconv.Itoa(t)
	case int32:
		return strconv.FormatInt(int64(t), 10)
	case int64:
		return strconv.FormatInt(t, 10)
	case float64:
		return strconv.FormatFloat(t, 'g', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(t), 'g', -1, 32)
	case fmt.Stringer:
		return t.String()
	}
	return fmt.Sprint(v)
}
