package project

import (
	"os"
	"path/filepath"
	"testing"
)

// writeProject lays out files (slash paths to content) in a new directory.
func writeProject(t testing.TB, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func mustLoad(t *testing.T, dir string, opts Options) *Project {
	t.Helper()
	p, err := Load(dir, opts)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p
}
