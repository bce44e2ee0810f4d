package lake_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riacho/riacho/services/sink/internal/lake"
	"github.com/riacho/riacho/services/sink/internal/lake/laketest"
)

// backends runs the same contract against every backend tested here: a directory and an S3
// server on loopback.
func backends(t *testing.T, fn func(t *testing.T, s *lake.Store, fake *laketest.S3)) {
	t.Run("file", func(t *testing.T) {
		s, err := lake.Open(context.Background(), "file://"+filepath.Join(t.TempDir(), "lake"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s, nil)
	})
	t.Run("s3", func(t *testing.T) {
		fake := laketest.NewS3(t)
		s, err := lake.Open(context.Background(), fake.URL())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		fn(t, s, fake)
	})
}

func put(t *testing.T, s *lake.Store, key string, data []byte) {
	t.Helper()
	w, err := s.NewWriter(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, s *lake.Store, key string) []byte {
	t.Helper()
	r, err := s.Open(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func keys(objs []lake.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Key)
	}
	return out
}

func TestStoreContract(t *testing.T) {
	backends(t, func(t *testing.T, s *lake.Store, _ *laketest.S3) {
		ctx := context.Background()
		k1 := "raw/ploomes/year=2024/month=01/day=15/leads_20240115_001.parquet"
		k2 := "raw/ploomes/year=2024/month=01/day=15/leads_20240115_002.parquet"
		k3 := "raw/sap_b1/year=2024/month=01/day=15/invoices_20240115_001.parquet"

		// Invisible until Close.
		w, err := s.NewWriter(ctx, k1)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte("PAR1 first")); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.Exists(ctx, k1); err != nil || ok {
			t.Fatalf("object visible before Close: %v %v", ok, err)
		}
		if objs, err := s.List(ctx, "raw/"); err != nil || len(objs) != 0 {
			t.Fatalf("List before Close: %v %v", keys(objs), err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := get(t, s, k1); string(got) != "PAR1 first" {
			t.Fatalf("read %q", got)
		}
		put(t, s, k2, []byte("second!"))
		put(t, s, k3, []byte("third"))

		objs, err := s.List(ctx, "raw/ploomes/")
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(keys(objs), ",") != k1+","+k2 {
			t.Fatalf("List = %v", keys(objs))
		}
		if objs[0].Size != int64(len("PAR1 first")) || objs[1].Size != 7 || objs[0].ModTime.IsZero() {
			t.Fatalf("List sizes %+v", objs)
		}
		all, err := s.List(ctx, "")
		if err != nil || len(all) != 3 {
			t.Fatalf("List all = %v %v", keys(all), err)
		}

		// Random access.
		ra, size, err := s.OpenFile(ctx, k1)
		if err != nil || size != 10 {
			t.Fatalf("OpenFile size %d %v", size, err)
		}
		buf := make([]byte, 5)
		if n, err := ra.ReadAt(buf, 5); n != 5 || err != nil || string(buf) != "first" {
			t.Fatalf("ReadAt = %d %v %q", n, err, buf)
		}
		if n, err := ra.ReadAt(buf, 8); n != 2 || !errors.Is(err, io.EOF) || string(buf[:2]) != "st" {
			t.Fatalf("ReadAt past end = %d %v %q", n, err, buf[:n])
		}

		// Copy replaces the destination.
		if err := s.Copy(ctx, k2, k1); err != nil {
			t.Fatal(err)
		}
		if got := get(t, s, k2); string(got) != "PAR1 first" {
			t.Fatalf("copy read %q", got)
		}
		if got := get(t, s, k1); string(got) != "PAR1 first" {
			t.Fatalf("copy source changed: %q", got)
		}
		// Overwrite through a writer.
		put(t, s, k2, []byte("rewritten"))
		if got := get(t, s, k2); string(got) != "rewritten" {
			t.Fatalf("overwrite read %q", got)
		}

		// Delete, idempotent; missing objects report ErrNotFound.
		if err := s.Delete(ctx, k1); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, k1); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		if _, err := s.Open(ctx, k1); !errors.Is(err, lake.ErrNotFound) {
			t.Fatalf("Open deleted = %v", err)
		}
		if _, _, err := s.OpenFile(ctx, k1); !errors.Is(err, lake.ErrNotFound) {
			t.Fatalf("OpenFile deleted = %v", err)
		}
		if err := s.Copy(ctx, "x/y", k1); !errors.Is(err, lake.ErrNotFound) {
			t.Fatalf("Copy of missing = %v", err)
		}
		if ok, err := s.Exists(ctx, k1); ok || err != nil {
			t.Fatalf("Exists deleted = %v %v", ok, err)
		}

		// Locations.
		loc := s.ObjectURL(k3)
		if key, ok := s.KeyOf(loc); !ok || key != k3 {
			t.Fatalf("KeyOf(%q) = %q %v", loc, key, ok)
		}
		if _, ok := s.KeyOf("gs://elsewhere/" + k3); ok {
			t.Fatal("KeyOf accepted a foreign location")
		}

		// Bad keys are refused.
		for _, bad := range []string{"", "/abs", "a//b", "a/../b", "dir/"} {
			if _, err := s.NewWriter(ctx, bad); err == nil {
				t.Errorf("NewWriter(%q) accepted", bad)
			}
		}
	})
}

func TestCancelledWriterLeavesNoObject(t *testing.T) {
	backends(t, func(t *testing.T, s *lake.Store, fake *laketest.S3) {
		for _, size := range []int{1 << 10, 20 << 20} {
			ctx, cancel := context.WithCancel(context.Background())
			key := "raw/cancelled/" + time.Now().Format("150405.000000") + ".parquet"
			w, err := s.NewWriter(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			data := make([]byte, size)
			_, _ = rand.Read(data)
			_, _ = w.Write(data) // may fail once the upload notices the cancel
			cancel()
			if err := w.Close(); err == nil {
				t.Fatalf("Close after cancel of a %d-byte object succeeded", size)
			}
			if ok, err := s.Exists(context.Background(), key); err != nil || ok {
				t.Fatalf("cancelled %d-byte object exists=%v err=%v", size, ok, err)
			}
			if fake != nil && size > 16<<20 && fake.Count(laketest.OpCompleteUpload) != 0 {
				t.Fatalf("a cancelled multipart upload was completed")
			}
			objs, err := s.List(context.Background(), "raw/cancelled/")
			if err != nil || len(objs) != 0 {
				t.Fatalf("List after cancel = %v %v", keys(objs), err)
			}
		}
	})
}

func TestS3MultipartUpload(t *testing.T) {
	fake := laketest.NewS3(t)
	ctx := context.Background()
	s, err := lake.Open(ctx, fake.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const size = 20<<20 + 12345 // over the 16 MiB threshold: three parts of 8 MiB, the last one short
	data := make([]byte, size)
	if _, err := rand.Read(data); err != nil {
		t.Fatal(err)
	}
	key := "raw/big/year=2024/month=01/day=15/big_20240115_001.parquet"
	w, err := s.NewWriter(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	// Write in odd-sized chunks, as a Parquet writer does.
	for off := 0; off < size; off += 777_777 {
		end := min(off+777_777, size)
		if _, err := w.Write(data[off:end]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if fake.Count(laketest.OpCreateUpload) != 1 || fake.Count(laketest.OpUploadPart) < 3 || fake.Count(laketest.OpCompleteUpload) != 1 {
		t.Fatalf("not a multipart upload: create=%d parts=%d complete=%d put=%d",
			fake.Count(laketest.OpCreateUpload), fake.Count(laketest.OpUploadPart), fake.Count(laketest.OpCompleteUpload), fake.Count(laketest.OpPut))
	}
	got := get(t, s, key)
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("read back %d bytes, different content", len(got))
	}
	// Server-side copy of a large object, and a ranged read across a part boundary.
	if err := s.Copy(ctx, "copy/big.parquet", key); err != nil {
		t.Fatal(err)
	}
	ra, n, err := s.OpenFile(ctx, "copy/big.parquet")
	if err != nil || n != size {
		t.Fatalf("OpenFile copy: %d %v", n, err)
	}
	buf := make([]byte, 1000)
	if _, err := ra.ReadAt(buf, 5<<20-500); err != nil || !bytes.Equal(buf, data[5<<20-500:5<<20+500]) {
		t.Fatalf("ranged read across parts: %v", err)
	}
}

func TestOpenFileURLs(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "a", "b")
	s, err := lake.Open(ctx, "file://"+dir)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		t.Fatalf("directory not created: %v", err)
	}
	put(t, s, "raw/x.parquet", []byte("x"))
	if _, err := os.Stat(filepath.Join(dir, "raw", "x.parquet")); err != nil {
		t.Fatal(err)
	}
	// No metadata sidecars, no temporary files left.
	entries, _ := os.ReadDir(filepath.Join(dir, "raw"))
	if len(entries) != 1 {
		t.Fatalf("files next to the object: %v", entries)
	}
	if got := s.ObjectURL("raw/x.parquet"); got != "file://"+filepath.ToSlash(dir)+"/raw/x.parquet" {
		t.Fatalf("ObjectURL = %q", got)
	}
	_ = s.Close()

	// A plain relative path is a directory.
	wd, _ := os.Getwd()
	t.Chdir(t.TempDir())
	s2, err := lake.Open(ctx, "./data/lake")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s2.URL(), "file:///") || s2.Scheme() != "file" {
		t.Fatalf("URL %q", s2.URL())
	}
	_ = s2.Close()
	t.Chdir(wd)

	// A prefix puts every key under it.
	s3, err := lake.Open(ctx, "file://"+dir+"?prefix=tenant/")
	if err != nil {
		t.Fatal(err)
	}
	put(t, s3, "raw/y.parquet", []byte("y"))
	if _, err := os.Stat(filepath.Join(dir, "tenant", "raw", "y.parquet")); err != nil {
		t.Fatal(err)
	}
	if got := s3.ObjectURL("raw/y.parquet"); !strings.HasSuffix(got, "/tenant/raw/y.parquet") {
		t.Fatalf("ObjectURL with prefix = %q", got)
	}
	_ = s3.Close()

	for _, bad := range []string{"", "ftp://host/x", "file://relative/dir", "s3://", "s3://bucket/path", "file:///tmp/x?prefix=noslash"} {
		if s, err := lake.Open(ctx, bad); err == nil {
			_ = s.Close()
			t.Errorf("Open(%q) accepted", bad)
		}
	}
}

// gs:// and azblob:// are compiled in: their URL openers are registered and build a bucket
// without contacting the service (no network here).
func TestCloudSchemesRegistered(t *testing.T) {
	ctx := context.Background()
	// Without it, gcsblob looks for default credentials and probes the GCE metadata server
	// (a link-local address); with it, it uses placeholder credentials and stays offline.
	t.Setenv("STORAGE_EMULATOR_HOST", "127.0.0.1:1")
	s, err := lake.Open(ctx, "gs://riacho-lake?anonymous=true")
	if err != nil {
		t.Fatalf("gs: %v", err)
	}
	if s.ObjectURL("raw/a.parquet") != "gs://riacho-lake/raw/a.parquet" {
		t.Fatal(s.ObjectURL("raw/a.parquet"))
	}
	_ = s.Close()

	t.Setenv("AZURE_STORAGE_ACCOUNT", "riacholake")
	t.Setenv("AZURE_STORAGE_KEY", "cmlhY2hvLXRlc3Qta2V5LW5vdC1yZWFs")
	s, err = lake.Open(ctx, "azblob://raw-zone")
	if err != nil {
		t.Fatalf("azblob: %v", err)
	}
	if s.Scheme() != "azblob" {
		t.Fatal(s.Scheme())
	}
	_ = s.Close()
}
