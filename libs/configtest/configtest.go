// Package configtest holds the checks every riacho configuration test makes: a Validate or
// Load error names each offending environment variable and never carries a secret.
package configtest

import (
	"strings"
	"testing"
)

// RequireNames fails the test unless err is non-nil and its message contains every name.
func RequireNames(t testing.TB, err error, names ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error naming %v, got none", names)
		return
	}
	for _, n := range names {
		if !strings.Contains(err.Error(), n) {
			t.Errorf("error %q does not name %s", err, n)
		}
	}
}

// RequireNoSecret fails the test when err's message contains secret.
func RequireNoSecret(t testing.TB, err error, secret string) {
	t.Helper()
	if err != nil && secret != "" && strings.Contains(err.Error(), secret) {
		t.Errorf("error leaks a secret: %v", err)
	}
}
