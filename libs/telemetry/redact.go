package telemetry

import (
	"log/slog"
	"net/url"
	"strings"
)

// Redacted is the text that replaces a secret in logs.
const Redacted = "[REDACTED]"

// secretKeyParts are the substrings that mark a log attribute key as secret.
var secretKeyParts = []string{
	"password", "passwd", "secret", "token", "authorization",
	"apikey", "api_key", "api-key", "credential", "private_key", "cookie",
}

// Secret is a string that never prints itself: in logs, fmt output and JSON it
// shows as Redacted. Convert it with string(s) where the real value is needed.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue(Redacted) }

// String implements fmt.Stringer.
func (Secret) String() string { return Redacted }

// GoString implements fmt.GoStringer so %#v does not leak the value either.
func (Secret) GoString() string { return Redacted }

// MarshalText implements encoding.TextMarshaler (and so JSON encoding).
func (Secret) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// IsSecretKey reports whether a log attribute or header key names a secret.
func IsSecretKey(key string) bool {
	k := strings.ToLower(key)
	for _, p := range secretKeyParts {
		if strings.Contains(k, p) {
			return true
		}
	}
	return false
}

// RedactAttr is a slog.HandlerOptions.ReplaceAttr function that replaces the
// value of every attribute whose key looks like a secret (IsSecretKey) and
// strips passwords from URL-looking string values.
func RedactAttr(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindGroup {
		return a
	}
	if IsSecretKey(a.Key) {
		return slog.String(a.Key, Redacted)
	}
	if a.Value.Kind() == slog.KindString {
		if s := a.Value.String(); strings.Contains(s, "://") && strings.Contains(s, "@") {
			return slog.String(a.Key, RedactURL(s))
		}
	}
	return a
}

// RedactURL returns u with the password of its user info, if any, replaced by
// "xxxxx" (as url.URL.Redacted does); strings that do not parse as URLs come
// back unchanged.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	if _, has := p.User.Password(); !has {
		return u
	}
	return p.Redacted()
}
