package project

import (
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkLoadDAG(b *testing.B) {
	dir := filepath.Join("testdata", "dag")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(dir, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderSeed(b *testing.B) {
	src, err := os.ReadFile(filepath.Join("testdata", "seed", "models", "staging", "stg_ploomes_leads.sql"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		t, err := parseTemplate(string(src))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := t.render(newHooks()); err != nil {
			b.Fatal(err)
		}
	}
}
