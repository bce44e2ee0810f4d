package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"gocloud.dev/blob"
	_ "gocloud.dev/blob/azureblob" // azblob:// URLs
	_ "gocloud.dev/blob/fileblob"  // file:// URLs
	_ "gocloud.dev/blob/gcsblob"   // gs:// URLs
	_ "gocloud.dev/blob/s3blob"    // s3:// URLs
	"gocloud.dev/gcerrors"
)

// ErrNotFound is wrapped by the errors of reads of a missing object.
var ErrNotFound = errors.New("object not found")

// Schemes are the URL schemes Open accepts.
var Schemes = []string{"file", "s3", "gs", "azblob"}

// Store is an opened bucket (optionally under a key prefix).
type Store struct {
	bucket *blob.Bucket
	url    string // as given, normalised (file paths made absolute)
	scheme string
	base   string // object URL prefix: "file:///dir/", "s3://bucket/prefix/"
	isFile bool
}

// Object describes one stored object.
type Object struct {
	Key     string
	Size    int64
	ModTime time.Time
}

// Open opens the bucket named by rawURL:
//
//   - file:///abs/dir — a directory, created when missing (a plain path is accepted too);
//     no metadata sidecar files are written and temporary files live next to their target
//     (so renames never cross file systems);
//   - s3://bucket?region=us-east-1&endpoint=http://127.0.0.1:9000&use_path_style=true — gocloud.dev
//     s3blob: objects of 16 MiB and more go up as multipart uploads in 8 MiB parts; credentials come from the environment;
//   - gs://bucket — gcsblob, application default credentials (anonymous=true for public buckets);
//   - azblob://container — azureblob, AZURE_STORAGE_ACCOUNT and friends from the environment.
//
// A "prefix" query parameter (gocloud's) puts every key under that prefix.
func Open(ctx context.Context, rawURL string) (*Store, error) {
	if rawURL == "" {
		return nil, errors.New("open lake: empty URL")
	}
	if !strings.Contains(rawURL, "://") {
		abs, err := filepath.Abs(rawURL)
		if err != nil {
			return nil, fmt.Errorf("open lake %q: %w", rawURL, err)
		}
		rawURL = "file://" + filepath.ToSlash(abs)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open lake %q: %w", rawURL, err)
	}
	s := &Store{url: rawURL, scheme: u.Scheme}
	q := u.Query()
	prefix := q.Get("prefix")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		return nil, fmt.Errorf("open lake %q: prefix %q must end with '/'", rawURL, prefix)
	}
	openURL := rawURL
	switch u.Scheme {
	case "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("open lake %q: file URLs take an absolute path (file:///dir)", rawURL)
		}
		dir := filepath.FromSlash(u.Path)
		if !filepath.IsAbs(dir) {
			return nil, fmt.Errorf("open lake %q: file URLs take an absolute path (file:///dir)", rawURL)
		}
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("open lake %q: create directory: %w", rawURL, err)
		}
		if !q.Has("metadata") {
			q.Set("metadata", "skip")
		}
		if !q.Has("no_tmp_dir") {
			q.Set("no_tmp_dir", "true")
		}
		ou := *u
		ou.RawQuery = q.Encode()
		openURL = ou.String()
		s.isFile = true
		s.base = "file://" + filepath.ToSlash(filepath.Clean(dir)) + "/" + prefix
	case "s3", "gs", "azblob":
		if u.Host == "" {
			return nil, fmt.Errorf("open lake %q: missing bucket name", rawURL)
		}
		if u.Path != "" && u.Path != "/" {
			return nil, fmt.Errorf("open lake %q: put a key prefix in the prefix= parameter, not the path", rawURL)
		}
		s.base = u.Scheme + "://" + u.Host + "/" + prefix
	default:
		return nil, fmt.Errorf("open lake %q: unsupported scheme %q (supported: %s)", rawURL, u.Scheme, strings.Join(Schemes, ", "))
	}
	b, err := blob.OpenBucket(ctx, openURL)
	if err != nil {
		return nil, fmt.Errorf("open lake %q: %w", rawURL, err)
	}
	s.bucket = b
	return s, nil
}

// URL returns the URL the store was opened with (a plain path turned into a file URL).
func (s *Store) URL() string { return s.url }

// Scheme returns the URL scheme: "file", "s3", "gs" or "azblob".
func (s *Store) Scheme() string { return s.scheme }

// ObjectURL returns the absolute location of key as other tools name it:
// file:///dir/key, s3://bucket/prefix/key, gs://bucket/key, azblob://container/key.
func (s *Store) ObjectURL(key string) string { return s.base + key }

// KeyOf is ObjectURL's inverse: the key of an absolute location inside this store.
func (s *Store) KeyOf(location string) (string, bool) {
	if !strings.HasPrefix(location, s.base) {
		if s.isFile && strings.HasPrefix(location, "file:/") && !strings.HasPrefix(location, "file://") {
			// file:/dir/key, the single-slash form some writers produce.
			return s.KeyOf("file://" + strings.TrimPrefix(location, "file:"))
		}
		return "", false
	}
	key := strings.TrimPrefix(location, s.base)
	return key, key != ""
}

// Bucket exposes the underlying gocloud bucket (for tools that take one).
func (s *Store) Bucket() *blob.Bucket { return s.bucket }

// NewWriter starts writing key. The object becomes visible only when Close returns nil; if ctx
// is cancelled before Close, Close fails and no object (nor partial upload) remains.
func (s *Store) NewWriter(ctx context.Context, key string) (io.WriteCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	w, err := s.bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: contentType(key)})
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", s.ObjectURL(key), err)
	}
	return &writer{w: w, name: s.ObjectURL(key)}, nil
}

type writer struct {
	w    *blob.Writer
	name string
}

func (w *writer) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		return n, fmt.Errorf("write %s: %w", w.name, err)
	}
	return n, nil
}

func (w *writer) Close() error {
	if err := w.w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", w.name, err)
	}
	return nil
}

func contentType(key string) string {
	switch {
	case strings.HasSuffix(key, ".parquet"):
		return "application/vnd.apache.parquet"
	case strings.HasSuffix(key, ".json"):
		return "application/json"
	case strings.HasSuffix(key, ".avro"):
		return "application/avro"
	}
	return "application/octet-stream"
}

// Open reads key from its start.
func (s *Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, s.wrap("read", key, err)
	}
	return r, nil
}

// OpenFile returns random access to key and its size, for readers that seek (Parquet footers).
// Each ReadAt is one ranged read; ctx bounds all of them.
func (s *Store) OpenFile(ctx context.Context, key string) (io.ReaderAt, int64, error) {
	obj, err := s.Stat(ctx, key)
	if err != nil {
		return nil, 0, err
	}
	return &readerAt{ctx: ctx, s: s, key: key, size: obj.Size}, obj.Size, nil
}

type readerAt struct {
	ctx  context.Context
	s    *Store
	key  string
	size int64
}

func (r *readerAt) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if off+n > r.size {
		n = r.size - off
	}
	rr, err := r.s.bucket.NewRangeReader(r.ctx, r.key, off, n, nil)
	if err != nil {
		return 0, r.s.wrap("read", r.key, err)
	}
	defer rr.Close()
	got, err := io.ReadFull(rr, p[:n])
	if err != nil {
		return got, r.s.wrap("read", r.key, err)
	}
	if got < len(p) {
		return got, io.EOF
	}
	return got, nil
}

// Stat describes key.
func (s *Store) Stat(ctx context.Context, key string) (Object, error) {
	if err := checkKey(key); err != nil {
		return Object{}, err
	}
	a, err := s.bucket.Attributes(ctx, key)
	if err != nil {
		return Object{}, s.wrap("stat", key, err)
	}
	return Object{Key: key, Size: a.Size, ModTime: a.ModTime}, nil
}

// Exists reports whether key is stored.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	_, err := s.Stat(ctx, key)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Copy copies src to dst inside the bucket (server-side where the backend can), replacing dst.
func (s *Store) Copy(ctx context.Context, dst, src string) error {
	if err := errors.Join(checkKey(dst), checkKey(src)); err != nil {
		return err
	}
	if err := s.bucket.Copy(ctx, dst, src, nil); err != nil {
		return s.wrap("copy "+s.ObjectURL(src)+" to", dst, err)
	}
	return nil
}

// Delete removes key; deleting a missing key is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	err := s.bucket.Delete(ctx, key)
	if err != nil && gcerrors.Code(err) != gcerrors.NotFound {
		return s.wrap("delete", key, err)
	}
	return nil
}

// tmpName matches fileblob's in-flight temporary files ("<key>.<hex nanos>.tmp").
var tmpName = regexp.MustCompile(`\.[0-9a-f]+\.tmp$`)

// List returns every object whose key starts with prefix, recursively, in key order.
func (s *Store) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	it := s.bucket.List(&blob.ListOptions{Prefix: prefix})
	for {
		o, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", s.ObjectURL(prefix), err)
		}
		if o.IsDir || (s.isFile && tmpName.MatchString(o.Key)) {
			continue
		}
		out = append(out, Object{Key: o.Key, Size: o.Size, ModTime: o.ModTime})
	}
}

// Close releases the bucket.
func (s *Store) Close() error {
	if err := s.bucket.Close(); err != nil {
		return fmt.Errorf("close lake %s: %w", s.url, err)
	}
	return nil
}

func (s *Store) wrap(op, key string, err error) error {
	if gcerrors.Code(err) == gcerrors.NotFound {
		return fmt.Errorf("%s %s: %w: %w", op, s.ObjectURL(key), ErrNotFound, err)
	}
	return fmt.Errorf("%s %s: %w", op, s.ObjectURL(key), err)
}

func checkKey(key string) error {
	if key == "" || strings.HasPrefix(key, "/") || strings.HasSuffix(key, "/") {
		return fmt.Errorf("invalid object key %q", key)
	}
	for _, seg := range strings.Split(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("invalid object key %q", key)
		}
	}
	return nil
}
