package lakecheck_test

import (
	"context"
	"errors"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/s3load/s3load/internal/lake/lakecheck"
)

func TestLocalOpener(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	writeFile(t, path, []byte("hello"))
	open := lakecheck.LocalOpener()
	for _, loc := range []string{path, "file://" + path, "file:" + path} {
		b, err := open(context.Background(), loc)
		if err != nil || string(b) != "hello" {
			t.Errorf("open(%q) = %q, %v", loc, b, err)
		}
	}
	for _, loc := range []string{"s3://bucket/key", "relative/path", "file://host/path"} {
		if _, err := open(context.Background(), loc); !errors.Is(err, lakecheck.ErrUnsupportedLocation) {
			t.Errorf("open(%q) error %v, want %v", loc, err, lakecheck.ErrUnsupportedLocation)
		}
	}
}

func TestS3Opener(t *testing.T) {
	objects := map[string]string{"bkt/warehouse/db/t/metadata/v1.metadata.json": "{}"}
	get := func(_ context.Context, bucket, key string) ([]byte, error) {
		v, ok := objects[bucket+"/"+key]
		if !ok {
			return nil, os.ErrNotExist
		}
		return []byte(v), nil
	}
	open := lakecheck.S3Opener(get)
	for _, loc := range []string{"s3://bkt/warehouse/db/t/metadata/v1.metadata.json", "s3a://bkt/warehouse/db/t/metadata/v1.metadata.json"} {
		if b, err := open(context.Background(), loc); err != nil || string(b) != "{}" {
			t.Errorf("open(%q) = %q, %v", loc, b, err)
		}
	}
	if _, err := open(context.Background(), "s3://bkt/missing"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing object: error %v, want it to wrap %v", err, os.ErrNotExist)
	}
	for _, loc := range []string{"/local/path", "s3://bucket-only", "s3:///key"} {
		if _, err := open(context.Background(), loc); !errors.Is(err, lakecheck.ErrUnsupportedLocation) {
			t.Errorf("open(%q) error %v, want %v", loc, err, lakecheck.ErrUnsupportedLocation)
		}
	}
}

// TestIndependentOfIcebergGo keeps the checker honest: it must share no
// reading code with the writer it checks.
func TestIndependentOfIcebergGo(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatalf("parsing %s: %v", file, err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(path, "github.com/apache/iceberg-go") {
				t.Errorf("%s imports %s", file, path)
			}
		}
	}
}
