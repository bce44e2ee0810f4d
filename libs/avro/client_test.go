package avro_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/libs/avro"
)

const dealV1 = `{"type":"record","name":"Deal","namespace":"riacho.test","fields":[
 {"name":"id","type":"long"},{"name":"title","type":"string"}]}`

// dealV2 adds a field with a default: BACKWARD compatible.
const dealV2 = `{"type":"record","name":"Deal","namespace":"riacho.test","fields":[
 {"name":"id","type":"long"},{"name":"title","type":"string"},{"name":"stage","type":"string","default":"open"}]}`

// dealBad adds a field without a default: not BACKWARD compatible.
const dealBad = `{"type":"record","name":"Deal","namespace":"riacho.test","fields":[
 {"name":"id","type":"long"},{"name":"title","type":"string"},{"name":"owner","type":"string"}]}`

func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestClientRegisterAndFetch(t *testing.T) {
	s := newStandIn(t)
	c := newClient(t, s.srv.URL)

	id, err := c.Register(ctx(t), "raw.ploomes.deals-value", dealV1)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.Register(ctx(t), "raw.ploomes.deals-value", dealV1)
	if err != nil || again != id {
		t.Fatalf("second Register = %d, %v; want %d", again, err, id)
	}
	if n := s.count("POST /subjects/raw.ploomes.deals-value/versions"); n != 1 {
		t.Fatalf("Register sent %d requests, want 1 (cached)", n)
	}
	other, err := c.Register(ctx(t), "staging.deals-value", dealV1)
	if err != nil || other != id {
		t.Fatalf("same schema under another subject got id %d (%v), want %d", other, err, id)
	}

	// A fresh client fetches by id once, then from its cache.
	c2 := newClient(t, s.srv.URL)
	for range 3 {
		sc, err := c2.SchemaByID(ctx(t), id)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(sc, `"name":"Deal"`) {
			t.Fatalf("schema by id = %s", sc)
		}
	}
	if n := s.count("GET /schemas/ids/1"); n != 1 {
		t.Fatalf("SchemaByID sent %d requests, want 1", n)
	}

	v2, err := c.Register(ctx(t), "raw.ploomes.deals-value", dealV2)
	if err != nil {
		t.Fatal(err)
	}
	latest, err := c.Latest(ctx(t), "raw.ploomes.deals-value")
	if err != nil {
		t.Fatal(err)
	}
	if latest.ID != v2 || latest.Version != 2 || latest.Subject != "raw.ploomes.deals-value" || !strings.Contains(latest.Schema, "stage") {
		t.Fatalf("latest = %+v", latest)
	}
	first, err := c.Version(ctx(t), "raw.ploomes.deals-value", 1)
	if err != nil || first.ID != id || first.Version != 1 {
		t.Fatalf("version 1 = %+v, %v", first, err)
	}
	subjects, err := c.Subjects(ctx(t))
	if err != nil || strings.Join(subjects, ",") != "raw.ploomes.deals-value,staging.deals-value" {
		t.Fatalf("subjects = %v, %v", subjects, err)
	}
}

func TestClientErrors(t *testing.T) {
	s := newStandIn(t)
	c := newClient(t, s.srv.URL)
	if _, err := c.Register(ctx(t), "deals-value", dealV1); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		call func() error
		want error
		code int
	}{
		{"unknown id", func() error { _, err := c.SchemaByID(ctx(t), 999); return err }, avro.ErrSchemaNotFound, 40403},
		{"unknown subject", func() error { _, err := c.Latest(ctx(t), "nope-value"); return err }, avro.ErrSubjectNotFound, 40401},
		{"unknown version", func() error { _, err := c.Version(ctx(t), "deals-value", 7); return err }, avro.ErrVersionNotFound, 40402},
		{"incompatible", func() error { _, err := c.Register(ctx(t), "deals-value", dealBad); return err }, avro.ErrIncompatible, 409},
		{"invalid schema", func() error { _, err := c.Register(ctx(t), "deals-value", `{"type":"recrd"}`); return err }, avro.ErrInvalidSchema, 42201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var re *avro.RegistryError
			if !errors.As(err, &re) || re.Code != tt.code || re.Message == "" {
				t.Fatalf("RegistryError = %+v, want code %d with a message", re, tt.code)
			}
			for _, other := range []error{avro.ErrSchemaNotFound, avro.ErrSubjectNotFound, avro.ErrVersionNotFound, avro.ErrIncompatible, avro.ErrInvalidSchema} {
				if !errors.Is(other, tt.want) && errors.Is(err, other) {
					t.Errorf("error also matches %v", other)
				}
			}
		})
	}
}

func TestClientCompatibility(t *testing.T) {
	s := newStandIn(t)
	c := newClient(t, s.srv.URL)
	if _, err := c.Register(ctx(t), "deals-value", dealV1); err != nil {
		t.Fatal(err)
	}
	ok, msgs, err := c.CheckCompatibility(ctx(t), "deals-value", dealV2, "")
	if err != nil || !ok || len(msgs) != 0 {
		t.Fatalf("v2: ok=%t msgs=%v err=%v", ok, msgs, err)
	}
	ok, msgs, err = c.CheckCompatibility(ctx(t), "deals-value", dealBad, "1")
	if err != nil || ok || len(msgs) == 0 || !strings.Contains(msgs[0], "owner") {
		t.Fatalf("bad: ok=%t msgs=%v err=%v", ok, msgs, err)
	}
	if _, _, err := c.CheckCompatibility(ctx(t), "nope-value", dealV1, ""); !errors.Is(err, avro.ErrSubjectNotFound) {
		t.Fatalf("unknown subject: %v", err)
	}

	if lvl, err := c.Compatibility(ctx(t), ""); err != nil || lvl != "BACKWARD" {
		t.Fatalf("global level = %q, %v", lvl, err)
	}
	if lvl, err := c.Compatibility(ctx(t), "deals-value"); err != nil || lvl != "BACKWARD" {
		t.Fatalf("subject level falls back to global: %q, %v", lvl, err)
	}
	if err := c.SetCompatibility(ctx(t), "deals-value", "NONE"); err != nil {
		t.Fatal(err)
	}
	if lvl, err := c.Compatibility(ctx(t), "deals-value"); err != nil || lvl != "NONE" {
		t.Fatalf("subject level = %q, %v", lvl, err)
	}
	if _, err := c.Register(ctx(t), "deals-value", dealBad); err != nil {
		t.Fatalf("with NONE, the incompatible schema registers: %v", err)
	}
}

func TestClientBasicAuth(t *testing.T) {
	s := newStandIn(t)
	s.user, s.pass = "svc", "s3cret"
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := newClient(t, s.srv.URL, func(c *avro.RegistryConfig) { c.Username, c.PasswordFile = "svc", pwFile })
	if _, err := good.Register(ctx(t), "x-value", dealV1); err != nil {
		t.Fatalf("with the right password: %v", err)
	}
	bad := newClient(t, s.srv.URL, func(c *avro.RegistryConfig) { c.Username, c.Password = "svc", "WRONG-pw" })
	_, err := bad.Subjects(ctx(t))
	var re *avro.RegistryError
	if !errors.As(err, &re) || re.Status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %v", err)
	}
	if strings.Contains(err.Error(), "WRONG-pw") {
		t.Fatalf("error leaks the password: %v", err)
	}
}

func TestClientRetries(t *testing.T) {
	s := newStandIn(t)
	c := newClient(t, s.srv.URL)
	if _, err := c.Register(ctx(t), "x-value", dealV1); err != nil {
		t.Fatal(err)
	}

	// GETs retry through a couple of 503s.
	s.failNext.Store(2)
	if _, err := c.Latest(ctx(t), "x-value"); err != nil {
		t.Fatalf("GET after two 503s: %v", err)
	}
	// ...but give up after a bounded number of tries.
	s.failNext.Store(100)
	before := s.requests.Load()
	start := time.Now()
	_, err := c.Latest(ctx(t), "x-value")
	var re *avro.RegistryError
	if !errors.As(err, &re) || re.Status != 503 {
		t.Fatalf("persistent 503: %v", err)
	}
	if n := s.requests.Load() - before; n != 4 {
		t.Fatalf("persistent 503 tried %d times, want 4", n)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("retries took %s", took)
	}
	// Register is not retried.
	s.failNext.Store(1)
	before = s.requests.Load()
	if _, err := c.Register(ctx(t), "x-value", dealV2); err == nil {
		t.Fatal("POST through a 503 succeeded")
	}
	if n := s.requests.Load() - before; n != 1 {
		t.Fatalf("POST sent %d times, want 1", n)
	}
	s.failNext.Store(0)

	// A non-JSON error body still becomes a RegistryError.
	s.mu.Lock()
	s.extra = func(w http.ResponseWriter) { w.WriteHeader(502); _, _ = w.Write([]byte("<html>bad gateway</html>")) }
	s.mu.Unlock()
	_, err = c.Subjects(ctx(t))
	if !errors.As(err, &re) || re.Status != 502 || re.Code != 0 || !strings.Contains(re.Message, "bad gateway") {
		t.Fatalf("non-JSON error: %v", err)
	}
}

func TestClientConnectionErrorsAndTimeout(t *testing.T) {
	s := newStandIn(t)
	url := s.srv.URL
	s.srv.Close() // nothing listens any more
	c := newClient(t, url)
	start := time.Now()
	if _, err := c.Subjects(ctx(t)); err == nil {
		t.Fatal("no error from a closed server")
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("connection errors took %s", took)
	}

	slow := newStandIn(t)
	release := make(chan struct{})
	slow.mu.Lock()
	slow.extra = func(http.ResponseWriter) { <-release }
	slow.mu.Unlock()
	defer close(release)
	c = newClient(t, slow.srv.URL, func(c *avro.RegistryConfig) { c.Timeout = 200 * time.Millisecond })
	start = time.Now()
	if _, err := c.Subjects(ctx(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("slow registry: %v", err)
	}
	if took := time.Since(start); took > time.Second {
		t.Fatalf("timeout of 200ms took %s", took)
	}
}

func TestClientPathPrefixAndEscaping(t *testing.T) {
	s := newStandIn(t)
	mux := http.NewServeMux()
	mux.Handle("/registry/", http.StripPrefix("/registry", http.HandlerFunc(s.serve)))
	s.srv.Config.Handler = mux
	c := newClient(t, s.srv.URL+"/registry/")
	if _, err := c.Register(ctx(t), "odd/subject name", dealV1); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Latest(ctx(t), "odd/subject name"); err != nil || got.Subject != "odd/subject name" {
		t.Fatalf("latest = %+v, %v", got, err)
	}
}
