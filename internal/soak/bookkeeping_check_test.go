package soak

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/messages"
)

// The bookkeeping catches what it is there to catch: each kind of wrong
// table gives its count, and only the right one is exact.
func TestBookkeepingCatches(t *testing.T) {
	src := map[string]object{
		"t/a.csv": {table: "t", key: "t/a.csv", first: 0, rows: 10, etag: "ea"},
		"t/b.csv": {table: "t", key: "t/b.csv", first: 10, rows: 5, etag: "eb"},
	}
	rows := func(key string, ids ...int64) []row {
		var out []row
		for _, id := range ids {
			out = append(out, row{id, key})
		}
		return out
	}
	span := func(first, n int64) []int64 {
		var ids []int64
		for i := range n {
			ids = append(ids, first+i)
		}
		return ids
	}
	a, b := rows("t/a.csv", span(0, 10)...), rows("t/b.csv", span(10, 5)...)
	tests := []struct {
		name  string
		parts [][]row
		// stray is a file in the table's directory the manifest does not list.
		stray                         bool
		ok, lost, dup, unknown, probs int
	}{
		{name: "exact", parts: [][]row{a, b}, ok: 2},
		{name: "exact, one part", parts: [][]row{append(append([]row{}, a...), b...)}, ok: 2},
		{name: "a row lost", parts: [][]row{a[1:], b}, ok: 1, lost: 1, probs: 1},
		{name: "a file lost", parts: [][]row{a}, ok: 1, lost: 1, probs: 2},
		{name: "a row twice", parts: [][]row{a, append(append([]row{}, b...), b[2])}, ok: 1, dup: 1, probs: 1},
		{name: "a file twice", parts: [][]row{a, b, b}, ok: 1, dup: 1, probs: 2},
		{name: "an old version's row", parts: [][]row{append(append([]row{}, a...), rows("t/a.csv", 99)...), b}, ok: 1, unknown: 1, probs: 1},
		{name: "a file not in the source", parts: [][]row{a, b, rows("t/gone.csv", 50, 51)}, ok: 2, unknown: 1, probs: 2},
		{name: "a stray part in the directory", parts: [][]row{a, b}, stray: true, ok: 2, probs: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			writeTable(t, filepath.Join(out, "t"), tt.parts, src)
			if tt.stray {
				if err := os.WriteFile(filepath.Join(out, "t", "part-stray.parquet"), nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := account(out, "t", src)
			if got.files != 2 || got.ok != tt.ok || got.lost != tt.lost || got.duplicated != tt.dup || got.unknown != tt.unknown ||
				len(got.problems) != tt.probs {
				t.Errorf("files %d ok %d lost %d duplicated %d unknown %d, %d problems; want 2 %d %d %d %d, %d problems:\n%s",
					got.files, got.ok, got.lost, got.duplicated, got.unknown, len(got.problems),
					tt.ok, tt.lost, tt.dup, tt.unknown, tt.probs, strings.Join(got.problems, "\n"))
			}
			if want := tt.ok == 2 && tt.probs == 0; got.exact() != want {
				t.Errorf("exact() = %v, want %v", got.exact(), want)
			}
		})
	}
	t.Run("not committed", func(t *testing.T) {
		got := account(t.TempDir(), "t", src)
		if got.exact() || got.lost != 2 || len(got.problems) == 0 {
			t.Errorf("a table never committed: %+v", got)
		}
	})
}

// row is one row of a part: its id and its file's key.
type row struct {
	id  int64
	key string
}

// writeTable writes a committed table as s3load does: a Parquet part per
// entry of parts and a manifest naming each part's files, with their rows
// and, for files of src, their ETags.
func writeTable(t *testing.T, dir string, parts [][]row, src map[string]object) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	m := messages.Manifest{V: 1, Table: "t", LoadID: "l"}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "src", Type: arrow.BinaryTypes.String},
	}, nil)
	for i, part := range parts {
		path := fmt.Sprintf("part-%d.parquet", i)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		perKey := map[string]int64{}
		for _, r := range part {
			b.Field(0).(*array.Int64Builder).Append(r.id)
			b.Field(1).(*array.StringBuilder).Append(r.key)
			perKey[r.key]++
		}
		rec := b.NewRecordBatch()
		var buf bytes.Buffer
		w, err := pqarrow.NewFileWriter(schema, &buf, nil, pqarrow.DefaultWriterProps())
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		b.Release()
		if err := os.WriteFile(filepath.Join(dir, path), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		m.Parts = append(m.Parts, messages.ManifestPart{Path: path, Rows: int64(len(part)), Bytes: int64(buf.Len())})
		m.Rows += int64(len(part))
		for _, key := range sortedKeys(perKey) {
			m.Files = append(m.Files, messages.ManifestFile{
				Source: messages.Source{Bucket: bucket, Key: key, ETag: src[key].etag}, Path: path, Rows: perKey[key]})
		}
	}
	data, err := messages.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "_manifest.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}
