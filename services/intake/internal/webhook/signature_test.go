package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
)

func TestVerifySignature(t *testing.T) {
	secret := []byte("test_app_secret")
	body := []byte(`{"object":"whatsapp_business_account"}`)
	const good = "sha256=62dd87e2fca9df61d2bb074ef802490563f3f47ab32fc81b2267f074ab32ad96"
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		want   error
	}{
		{"SOURCES.md check value", secret, body, good, nil},
		{"uppercase hex", secret, body, "sha256=" + strings.ToUpper(good[7:]), nil},
		{"surrounding spaces", secret, body, " " + good + " ", nil},
		{"missing", secret, body, "", ErrMissingSignature},
		{"blank", secret, body, "   ", ErrMissingSignature},
		{"wrong secret", []byte("other"), body, good, ErrBadSignature},
		{"body changed by one byte", secret, []byte(`{"object":"whatsapp_business_accounT"}`), good, ErrBadSignature},
		{"re-serialised body with a space", secret, []byte(`{"object": "whatsapp_business_account"}`), good, ErrBadSignature},
		{"sha1 header", secret, body, "sha1=62dd87e2fca9df61d2bb074ef802490563f3f47a", ErrBadSignature},
		{"no prefix", secret, body, good[7:], ErrBadSignature},
		{"short hex", secret, body, good[:len(good)-2], ErrBadSignature},
		{"not hex", secret, body, "sha256=" + strings.Repeat("zz", 32), ErrBadSignature},
		{"empty secret fails closed", nil, body, good, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignature(tt.secret, tt.body, tt.header)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("VerifySignature = %v, want %v", err, tt.want)
			}
			// A verifier reuses its HMAC state: every call must answer the same.
			v := NewSignatureVerifier(tt.secret)
			for i := range 3 {
				if err := v.Verify(tt.body, tt.header); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
					t.Fatalf("Verify call %d = %v, want %v", i, err, tt.want)
				}
				// A call with another body in between must not leak into the next one.
				if err := v.Verify([]byte("other body"), tt.header); err == nil {
					t.Fatalf("Verify accepted another body with %q", tt.header)
				}
			}
		})
	}
}

func TestVerifySignatureNonASCIIBody(t *testing.T) {
	// Meta signs the escaped bytes (\u00e9); the decoded UTF-8 form must not verify.
	secret := []byte("s")
	escaped := []byte(`{"name":"Jos\u00e9"}`)
	mac := hmac.New(sha256.New, secret)
	mac.Write(escaped)
	header := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if err := VerifySignature(secret, escaped, header); err != nil {
		t.Fatalf("escaped body: %v", err)
	}
	if err := VerifySignature(secret, []byte(`{"name":"José"}`), header); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("decoded body verified: %v", err)
	}
}

func TestVerifyChallenge(t *testing.T) {
	q := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	tests := []struct {
		name  string
		query url.Values
		token string
		want  string
		err   error
	}{
		{"ok", q("hub.mode", "subscribe", "hub.verify_token", "tok", "hub.challenge", "1158201444"), "tok", "1158201444", nil},
		{"wrong token", q("hub.mode", "subscribe", "hub.verify_token", "nope", "hub.challenge", "1"), "tok", "", ErrBadVerifyToken},
		{"token prefix", q("hub.mode", "subscribe", "hub.verify_token", "to", "hub.challenge", "1"), "tok", "", ErrBadVerifyToken},
		{"wrong mode", q("hub.mode", "unsubscribe", "hub.verify_token", "tok", "hub.challenge", "1"), "tok", "", ErrBadVerifyToken},
		{"no mode", q("hub.verify_token", "tok", "hub.challenge", "1"), "tok", "", ErrBadVerifyToken},
		{"no challenge", q("hub.mode", "subscribe", "hub.verify_token", "tok"), "tok", "", ErrBadVerifyToken},
		{"html challenge", q("hub.mode", "subscribe", "hub.verify_token", "tok", "hub.challenge", "<script>x</script> y"), "tok", "", ErrBadVerifyToken},
		{"huge challenge", q("hub.mode", "subscribe", "hub.verify_token", "tok", "hub.challenge", strings.Repeat("1", 2000)), "tok", "", ErrBadVerifyToken},
		{"unconfigured token fails closed", q("hub.mode", "subscribe", "hub.verify_token", "", "hub.challenge", "1"), "", "", ErrBadVerifyToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyChallenge(tt.query, tt.token)
			if got != tt.want || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("VerifyChallenge = %q, %v; want %q, %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func FuzzVerifySignature(f *testing.F) {
	f.Add([]byte("test_app_secret"), []byte(`{"object":"whatsapp_business_account"}`),
		"sha256=62dd87e2fca9df61d2bb074ef802490563f3f47ab32fc81b2267f074ab32ad96")
	f.Add([]byte("k"), []byte(""), "sha256=")
	f.Add([]byte(""), []byte("x"), "SHA256=00")
	f.Fuzz(func(t *testing.T, secret, body []byte, header string) {
		err := VerifySignature(secret, body, header)
		mac := hmac.New(sha256.New, secret)
		mac.Write(body)
		valid := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		if err == nil && (len(secret) == 0 || !strings.EqualFold(strings.TrimSpace(header), valid)) {
			t.Fatalf("accepted header %q for a body whose signature is %s", header, valid)
		}
		if err != nil && !errors.Is(err, ErrMissingSignature) && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("unexpected error kind: %v", err)
		}
		if len(secret) > 0 {
			if err := VerifySignature(secret, body, valid); err != nil {
				t.Fatalf("the true signature was refused: %v", err)
			}
		}
		v := NewSignatureVerifier(secret)
		for range 2 {
			if verr := v.Verify(body, header); (verr == nil) != (err == nil) {
				t.Fatalf("Verify = %v, VerifySignature = %v", verr, err)
			}
		}
	})
}
