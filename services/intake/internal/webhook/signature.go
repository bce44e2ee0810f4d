package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"hash"
	"net/url"
	"strings"
	"sync"
)

// signaturePrefix starts Meta's X-Hub-Signature-256 header value.
const signaturePrefix = "sha256="

// maxChallengeLen bounds the hub.challenge echoed back to Meta.
const maxChallengeLen = 1024

// VerifySignature checks a Meta (WhatsApp, Lead Ads) X-Hub-Signature-256 header value,
// "sha256=<hex>", against HMAC-SHA256(secret, body) over the raw body bytes, in constant time.
// It returns ErrMissingSignature for an empty header and ErrBadSignature (with detail) for a
// malformed header, a mismatch, or an empty secret (fail closed).
func VerifySignature(secret []byte, body []byte, header string) error {
	return verifySignature(secret, body, header, nil)
}

// SignatureVerifier is VerifySignature for one secret, reusing HMAC state across calls on the
// hot path. It is safe for concurrent use.
type SignatureVerifier struct {
	secret []byte
	macs   sync.Pool // of *pooledMAC keyed with secret
}

// pooledMAC is an HMAC state with room for its sum, so that a check allocates nothing.
type pooledMAC struct {
	hash.Hash
	sum [sha256.Size]byte
}

// NewSignatureVerifier returns a verifier of X-Hub-Signature-256 values made with secret.
func NewSignatureVerifier(secret []byte) *SignatureVerifier {
	v := &SignatureVerifier{secret: secret}
	v.macs.New = func() any { return &pooledMAC{Hash: hmac.New(sha256.New, v.secret)} }
	return v
}

// Verify checks header against body exactly as VerifySignature(secret, body, header) does.
func (v *SignatureVerifier) Verify(body []byte, header string) error {
	return verifySignature(v.secret, body, header, &v.macs)
}

// verifySignature implements VerifySignature, taking the HMAC from macs when it is not nil.
func verifySignature(secret []byte, body []byte, header string, macs *sync.Pool) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrMissingSignature
	}
	if len(secret) == 0 {
		return fmt.Errorf("no app secret configured: %w", ErrBadSignature)
	}
	if len(header) < len(signaturePrefix) || !strings.EqualFold(header[:len(signaturePrefix)], signaturePrefix) {
		return fmt.Errorf("signature header does not start with %q: %w", signaturePrefix, ErrBadSignature)
	}
	hexSum := header[len(signaturePrefix):]
	if len(hexSum) != 2*sha256.Size {
		return fmt.Errorf("signature has %d hex digits, want %d: %w", len(hexSum), 2*sha256.Size, ErrBadSignature)
	}
	var got [sha256.Size]byte
	if !decodeHex(got[:], hexSum) {
		return fmt.Errorf("signature is not hex: %w", ErrBadSignature)
	}
	var mac *pooledMAC
	if macs != nil {
		mac = macs.Get().(*pooledMAC)
		defer macs.Put(mac)
		mac.Reset()
	} else {
		mac = &pooledMAC{Hash: hmac.New(sha256.New, secret)}
	}
	mac.Write(body)
	if !hmac.Equal(got[:], mac.Sum(mac.sum[:0])) {
		return fmt.Errorf("signature does not match the body: %w", ErrBadSignature)
	}
	return nil
}

// decodeHex decodes the hex digits of src (either case) into dst, which is half as long, as
// hex.Decode does but without converting src to a byte slice; it reports whether src was hex.
func decodeHex(dst []byte, src string) bool {
	for i := range dst {
		hi, lo := unhex(src[2*i]), unhex(src[2*i+1])
		if hi > 0xf || lo > 0xf {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// unhex returns the value of a hex digit, or 0xff for another byte.
func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// VerifyChallenge answers Meta's GET hub verification: when hub.mode is "subscribe" and
// hub.verify_token equals verifyToken (compared in constant time) it returns hub.challenge, to
// be written back as the plain-text 200 body; otherwise ErrBadVerifyToken (answer 403). An
// empty verifyToken always fails. The challenge must be 1 to 1024 printable ASCII characters
// (Meta sends digits), so nothing else is reflected.
func VerifyChallenge(query url.Values, verifyToken string) (challenge string, err error) {
	if verifyToken == "" {
		return "", fmt.Errorf("no verify token configured: %w", ErrBadVerifyToken)
	}
	if mode := query.Get("hub.mode"); mode != "subscribe" {
		return "", fmt.Errorf("hub.mode is %q, want \"subscribe\": %w", truncate(mode, 40), ErrBadVerifyToken)
	}
	token := query.Get("hub.verify_token")
	if subtle.ConstantTimeCompare([]byte(token), []byte(verifyToken)) != 1 {
		return "", fmt.Errorf("hub.verify_token does not match: %w", ErrBadVerifyToken)
	}
	challenge = query.Get("hub.challenge")
	if challenge == "" || len(challenge) > maxChallengeLen {
		return "", fmt.Errorf("hub.challenge is empty or longer than %d bytes: %w", maxChallengeLen, ErrBadVerifyToken)
	}
	for i := 0; i < len(challenge); i++ {
		if c := challenge[i]; c < 0x21 || c > 0x7e {
			return "", fmt.Errorf("hub.challenge has a non-printable or non-ASCII byte: %w", ErrBadVerifyToken)
		}
	}
	return challenge, nil
}
