package control

import (
	"context"
	"crypto/sha256"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// FuzzAuthenticate feeds arbitrary authorization values to the token check:
// it must never panic, and only "Bearer <the token>" may pass.
func FuzzAuthenticate(f *testing.F) {
	const token = "fuzz-token-0123456789"
	a := &authenticator{creds: []credential{{name: "ops", digest: sha256.Sum256([]byte(token))}}}
	for _, seed := range []string{"", "Bearer " + token, "bearer " + token, "Bearer", "Bearer ", "Basic " + token,
		token, "Bearer  " + token + " ", "Bearer " + token + "x", "Bearer \x00"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("authorization", value))
		name, err := a.authenticate(ctx, "/riacho.control.v1.Control/Status")
		scheme, rest, _ := strings.Cut(strings.TrimSpace(value), " ")
		valid := strings.EqualFold(scheme, "bearer") && strings.TrimSpace(rest) == token
		switch {
		case valid && (err != nil || name != "ops"):
			t.Fatalf("valid value %q rejected: %v", value, err)
		case !valid && err == nil:
			t.Fatalf("invalid value %q accepted as %q", value, name)
		case err != nil && status.Code(err) != codes.Unauthenticated:
			t.Fatalf("value %q: code %v", value, status.Code(err))
		case err != nil && strings.Contains(err.Error(), token):
			t.Fatalf("error leaks the token: %v", err)
		}
	})
}
