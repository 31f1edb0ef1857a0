package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// ParquetConformance finds the public Parquet test corpus,
// ../shared/conformance/parquet-testing from the directory holding go.mod
// (read in place, never copied into the repository), and says whether it
// is there.
func ParquetConformance() (dir string, ok bool) {
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(wd, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(wd)
		if parent == wd {
			return "", false
		}
		wd = parent
	}
	dir = filepath.Join(wd, "..", "shared", "conformance", "parquet-testing")
	_, err = os.Stat(filepath.Join(dir, "expected.tsv"))
	return dir, err == nil
}

// ParquetConformanceDir is the corpus's directory; a missing corpus fails
// the test, it does not skip it.
func ParquetConformanceDir(tb testing.TB) string {
	tb.Helper()
	dir, ok := ParquetConformance()
	if !ok {
		tb.Fatalf("conformance corpus missing: no %s", filepath.Join(dir, "expected.tsv"))
	}
	return dir
}
