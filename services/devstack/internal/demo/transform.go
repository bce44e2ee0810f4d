package demo

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed transform
var transformFS embed.FS

// WriteTransformProject writes the demo transform project (a dbt-style
// project whose staging model is the architecture document's
// stg_ploomes_leads.sql, byte for byte) into dir, replacing the files it
// has, and returns dir.
func WriteTransformProject(dir string) (string, error) {
	err := fs.WalkDir(transformFS, "transform", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("transform", path)
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o750)
		}
		b, err := transformFS.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	if err != nil {
		return "", fmt.Errorf("write the demo transform project to %s: %w", dir, err)
	}
	return dir, nil
}
