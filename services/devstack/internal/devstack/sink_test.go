package devstack

import (
	"bytes"
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStackWritesDemoTrafficToTheLake runs devstack with demo traffic: the
// sink must write the raw topics as Parquet files under <data-dir>/lake/raw/
// in the seed's layout.
func TestStackWritesDemoTrafficToTheLake(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	opts.DemoTraffic = true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := Start(ctx, opts, []string{"RIACHO_SINK_ROTATE_INTERVAL=500ms"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := st.Stop(); err != nil {
			t.Error(err)
		}
	}()
	banner := st.Banner()
	for _, want := range []string{"sink gRPC Control", opts.SinkCtl, filepath.Join(dir, "lake")} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	raw := filepath.Join(dir, "lake", "raw")
	deadline := time.Now().Add(60 * time.Second)
	for {
		files := parquetFiles(t, raw)
		if len(files) > 0 && strings.Contains(strings.Join(files, " "), "whatsapp/year=") {
			for _, f := range files {
				b, err := os.ReadFile(filepath.Join(raw, f))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(b, []byte("PAR1")) || !bytes.HasSuffix(b, []byte("PAR1")) {
					t.Errorf("%s is not a Parquet file", f)
				}
			}
			t.Logf("lake files: %v", files)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Parquet files of raw.whatsapp.* under %s after 60s: %v", raw, files)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// parquetFiles lists the .parquet files under dir, relative to it.
func parquetFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil //nolint:nilerr // the directory appears with the first commit
		}
		if !d.IsDir() && strings.HasSuffix(path, ".parquet") {
			rel, _ := filepath.Rel(dir, path)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
