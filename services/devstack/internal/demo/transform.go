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

//go:embed quality
var qualityFS embed.FS

// WriteQualitySuites writes the demo's expectation suites (the
// architecture document's e-mail test on the staging leads) into dir and
// returns dir.
func WriteQualitySuites(dir string) (string, error) {
	return writeTree(qualityFS, "quality", dir)
}

// WriteTransformProject writes the demo transform project (a dbt-style
// project whose staging model is the architecture document's
// stg_ploomes_leads.sql, byte for byte) into dir, replacing the files it
// has, and returns dir.
func WriteTransformProject(dir string) (string, error) {
	return writeTree(transformFS, "transform", dir)
}

// writeTree copies the embedded tree under root into dir.
func writeTree(fsys embed.FS, root, dir string) (string, error) {
	err := fs.WalkDir(fsys, root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		target := filepath.Join(dir, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o750)
		}
		b, err := fsys.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	if err != nil {
		return "", fmt.Errorf("write the demo %s files to %s: %w", root, dir, err)
	}
	return dir, nil
}

//go:embed metrics
var metricsFS embed.FS

// WriteMetricsProject writes the demo's metrics content into dir: the
// warehouse schema (warehouse.yml), the dbt metric definitions under
// models/metrics (the architecture document's mrr.yml, byte for byte) and
// the access policy (access.yml); it returns dir.
func WriteMetricsProject(dir string) (string, error) {
	return writeTree(metricsFS, "metrics", dir)
}
