package lakecheck_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/internal/lake/lakecheck"
)

// paths names the files of a fixture's current snapshot.
type paths struct {
	metadata     string
	manifestList string
	dataFile     string
}

// editManifests rewrites the manifests of p's manifest list, letting
// entry change the live data file's entry and listing change the manifest
// list row of the manifest holding it, and keeps manifest_length right.
func editManifests(t *testing.T, p paths, entry func(dataFile map[string]any), listing func(row map[string]any)) {
	t.Helper()
	_, rows := readAvro(t, p.manifestList)
	sizes := map[string]int64{}
	holder := ""
	for _, row := range rows {
		path := row["manifest_path"].(string)
		sizes[path] = rewriteAvro(t, path, func(rec map[string]any) {
			df := rec["data_file"].(map[string]any)
			if df["file_path"] == p.dataFile && rec["status"] != 2 {
				holder = path
				entry(df)
			}
		})
	}
	if holder == "" {
		t.Fatalf("no manifest lists %s", p.dataFile)
	}
	rewriteAvro(t, p.manifestList, func(row map[string]any) {
		path := row["manifest_path"].(string)
		row["manifest_length"] = sizes[path]
		if path == holder {
			listing(row)
		}
	})
}

func noChange(map[string]any) {}

// writeWithoutFieldIDs replaces the data file with the same rows written
// by pqarrow from an arrow schema that carries no field ids.
func writeWithoutFieldIDs(t *testing.T, p paths) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	tbl := arrowTable(t, mem, secondRows)
	defer tbl.Release()
	var buf bytes.Buffer
	if err := pqarrow.WriteTable(tbl, &buf, 1024, parquet.NewWriterProperties(parquet.WithAllocator(mem)),
		pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem))); err != nil {
		t.Fatalf("writing parquet: %v", err)
	}
	if err := os.WriteFile(p.dataFile, buf.Bytes(), 0o644); err != nil {
		t.Fatalf("writing data file: %v", err)
	}
	editManifests(t, p, func(df map[string]any) {
		df["file_size_in_bytes"] = int64(buf.Len())
	}, noChange)
}

func TestReadTableFails(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(t *testing.T, p paths)
		is      error
		names   func(p paths) string // the file the error must name
		says    string
	}{
		{
			name: "manifest list not avro",
			corrupt: func(t *testing.T, p paths) {
				writeFile(t, p.manifestList, []byte("this is not an avro file"))
			},
			is: lakecheck.ErrInvalidMetadata, names: func(p paths) string { return p.manifestList },
		},
		{
			name: "manifest list truncated",
			corrupt: func(t *testing.T, p paths) {
				b := readFile(t, p.manifestList)
				writeFile(t, p.manifestList, b[:len(b)-40])
			},
			is: lakecheck.ErrInvalidMetadata, names: func(p paths) string { return p.manifestList },
		},
		{
			name: "data file truncated",
			corrupt: func(t *testing.T, p paths) {
				b := readFile(t, p.dataFile)
				writeFile(t, p.dataFile, b[:len(b)/2])
			},
			is: lakecheck.ErrMismatch, names: func(p paths) string { return p.dataFile }, says: "file_size_in_bytes",
		},
		{
			name: "data file removed",
			corrupt: func(t *testing.T, p paths) {
				if err := os.Remove(p.dataFile); err != nil {
					t.Fatal(err)
				}
			},
			is: fs.ErrNotExist, names: func(p paths) string { return p.dataFile },
		},
		{
			name: "record count wrong",
			corrupt: func(t *testing.T, p paths) {
				editManifests(t, p,
					func(df map[string]any) { df["record_count"] = int64(5) },
					func(row map[string]any) { row["added_rows_count"] = int64(5) })
			},
			is: lakecheck.ErrMismatch, names: func(p paths) string { return p.dataFile }, says: "record_count 5, rows read 4",
		},
		{
			name: "manifest list row count disagrees with manifest",
			corrupt: func(t *testing.T, p paths) {
				editManifests(t, p, noChange, func(row map[string]any) { row["added_rows_count"] = int64(7) })
			},
			is: lakecheck.ErrMismatch, says: "added_rows_count 7",
		},
		{
			name: "manifest length wrong",
			corrupt: func(t *testing.T, p paths) {
				rewriteAvro(t, p.manifestList, func(row map[string]any) { row["manifest_length"] = int64(1) })
			},
			is: lakecheck.ErrMismatch, says: "manifest_length 1",
		},
		{
			name: "null count wrong",
			corrupt: func(t *testing.T, p paths) {
				editManifests(t, p, func(df map[string]any) {
					for _, kv := range df["null_value_counts"].(map[string]any)["array"].([]any) {
						if kv := kv.(map[string]any); kv["key"] == 2 {
							kv["value"] = int64(0)
						}
					}
				}, noChange)
			},
			is: lakecheck.ErrMismatch, names: func(p paths) string { return p.dataFile }, says: `column "name": null_value_counts 0, nulls read 1`,
		},
		{
			name: "delete manifest",
			corrupt: func(t *testing.T, p paths) {
				editManifests(t, p, noChange, func(row map[string]any) { row["content"] = 1 })
			},
			is: lakecheck.ErrDeleteFiles,
		},
		{
			name:    "parquet without field ids",
			corrupt: writeWithoutFieldIDs,
			is:      lakecheck.ErrNoFieldIDs, names: func(p paths) string { return p.dataFile },
		},
		{
			name: "metadata not json",
			corrupt: func(t *testing.T, p paths) {
				writeFile(t, p.metadata, []byte("{"))
			},
			is: lakecheck.ErrInvalidMetadata, names: func(p paths) string { return p.metadata },
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 2)
			good, err := readFixture(t, f.metadata)
			if err != nil {
				t.Fatalf("reading intact table: %v", err)
			}
			p := paths{metadata: f.metadata, manifestList: good.Snapshots[1].ManifestList, dataFile: good.DataFiles[0].Path}
			tc.corrupt(t, p)

			_, err = readFixture(t, f.tableDir)
			if err == nil {
				t.Fatal("ReadTable succeeded")
			}
			t.Logf("error: %v", err)
			if !errors.Is(err, tc.is) {
				t.Errorf("error is not %v", tc.is)
			}
			if tc.names != nil && !strings.Contains(err.Error(), tc.names(p)) {
				t.Errorf("error does not name %s", tc.names(p))
			}
			if !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error does not say %q", tc.says)
			}
		})
	}
}

func TestUnknownSnapshot(t *testing.T) {
	f := newFixture(t, 2)
	_, err := readFixture(t, f.metadata, lakecheck.AtSnapshot(42))
	if !errors.Is(err, lakecheck.ErrSnapshotNotFound) {
		t.Fatalf("error %v, want %v", err, lakecheck.ErrSnapshotNotFound)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
