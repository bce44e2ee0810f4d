// Package laketest gives tests an S3 server on loopback: an in-process gofakes3 server behind
// an httptest listener on 127.0.0.1, with a bucket made for the test and a count of the
// requests it served (to check that large objects went up in parts).
package laketest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Region is the region the URLs name.
const Region = "us-east-1"

// S3 is a running fake S3 server.
type S3 struct {
	// Endpoint is the server's base URL, http://127.0.0.1:<port>.
	Endpoint string
	// Bucket is the bucket created for the test.
	Bucket string

	backend *s3mem.Backend
	mu      sync.Mutex
	counts  map[string]int
}

// NewS3 starts a server for t (closed at cleanup), creates a bucket with a random name, and sets
// the AWS credential variables the SDK needs (any value is accepted by the server). It uses
// t.Setenv, so tests calling it cannot run in parallel.
func NewS3(t testing.TB) *S3 {
	t.Helper()
	t.Setenv("AWS_ACCESS_KEY_ID", "riacho-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "riacho-test-secret")
	t.Setenv("AWS_REGION", Region)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	s := &S3{Bucket: "lake-" + hex.EncodeToString(b[:]), backend: s3mem.New(), counts: map[string]int{}}
	if err := s.backend.CreateBucket(s.Bucket); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	fake := gofakes3.New(s.backend)
	handler := fake.Server()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.count(r)
		handler.ServeHTTP(w, r)
	}))
	srv.Start()
	t.Cleanup(srv.Close)
	s.Endpoint = srv.URL
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("fake S3 is not on loopback: %s", s.Endpoint)
	}
	return s
}

// URL returns the lake URL of the bucket (path-style addressing, the server's endpoint).
func (s *S3) URL() string {
	q := url.Values{}
	q.Set("endpoint", s.Endpoint)
	q.Set("region", Region)
	q.Set("use_path_style", "true")
	return "s3://" + s.Bucket + "?" + q.Encode()
}

// Operation names counted by Count.
const (
	OpPut            = "PutObject"
	OpCreateUpload   = "CreateMultipartUpload"
	OpUploadPart     = "UploadPart"
	OpCompleteUpload = "CompleteMultipartUpload"
	OpAbortUpload    = "AbortMultipartUpload"
	OpCopy           = "CopyObject"
	OpGet            = "GetObject"
	OpDelete         = "DeleteObject"
)

func (s *S3) count(r *http.Request) {
	q := r.URL.Query()
	var op string
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		op = OpCreateUpload
	case r.Method == http.MethodPut && q.Has("uploadId"):
		op = OpUploadPart
	case r.Method == http.MethodPost && q.Has("uploadId"):
		op = OpCompleteUpload
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		op = OpAbortUpload
	case r.Method == http.MethodPut && r.Header.Get("X-Amz-Copy-Source") != "":
		op = OpCopy
	case r.Method == http.MethodPut:
		op = OpPut
	case r.Method == http.MethodGet:
		op = OpGet
	case r.Method == http.MethodDelete:
		op = OpDelete
	default:
		op = r.Method
	}
	s.mu.Lock()
	s.counts[op]++
	s.mu.Unlock()
}

// Count returns how many requests of operation op the server has served.
func (s *S3) Count(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[op]
}
