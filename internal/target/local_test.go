package target

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/messages"
)

var schema = arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil)

// writePart stages a part of src holding rows rows, as a worker would.
func writePart(t *testing.T, tg *Target, table, load string, src messages.Source, rows int) messages.FileRecord {
	t.Helper()
	return writePartWith(t, tg, table, load, src, rows, nil)
}

// writePartWith is writePart with key-value metadata in the part's footer.
func writePartWith(t *testing.T, tg *Target, table, load string, src messages.Source, rows int, meta map[string]string) messages.FileRecord {
	t.Helper()
	ctx := context.Background()
	part, err := tg.CreatePart(ctx, table, load)
	if err != nil {
		t.Fatal(err)
	}
	b := array.NewInt64Builder(memory.DefaultAllocator)
	for i := range rows {
		b.Append(int64(i))
	}
	col := b.NewArray()
	rec := array.NewRecordBatch(schema, []arrow.Array{col}, int64(rows))
	w, err := pqarrow.NewFileWriter(schema, part, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	for k, v := range meta {
		if err := w.AppendKeyValueMetadata(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	col.Release()
	b.Release()
	size, err := part.Commit(ctx, messages.PartName(src, nil))
	if err != nil {
		t.Fatal(err)
	}
	return messages.FileRecord{LoadID: load, Table: table, Source: src, State: messages.StateLoaded,
		Part: tg.PartPath(load, messages.PartName(src, nil)), PartFiles: 1, Rows: int64(rows), Bytes: size}
}

func encodedSchema(t *testing.T) []byte {
	t.Helper()
	b, err := decode.EncodeSchema(schema)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestLocalCommitSwitchesTheTableWhole(t *testing.T) {
	root := t.TempDir()
	tg, err := Open("file://"+root, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a := messages.Source{Bucket: "b", Key: "t/a.csv", ETag: "1", Size: 10}
	c := messages.Source{Bucket: "b", Key: "t/c.csv", ETag: "1", Size: 10}

	// Load 1: one part, plus the debris of a worker that died mid-file.
	recA := writePart(t, tg, "t", "load1", a, 5)
	if _, err := tg.CreatePart(ctx, "t", "load1"); err != nil {
		t.Fatal(err)
	}
	m1, err := tg.CommitManifest(ctx, coordinator.CommitRequest{Table: "t", LoadID: "load1", Schema: encodedSchema(t), Loaded: []messages.FileRecord{recA}})
	if err != nil {
		t.Fatal(err)
	}
	if m1.Rows != 5 || len(m1.Files) != 1 || m1.Schema[0].Name != "id" {
		t.Fatalf("manifest: %+v", m1)
	}
	if got := dirNames(t, filepath.Join(root, "t")); len(got) != 2 {
		t.Fatalf("table dir holds %v, want the part and the manifest only", got)
	}

	// Load 2 is staged beside it: the committed table does not change
	// until load 2 commits, then it changes whole.
	recC := writePart(t, tg, "t", "load2", c, 7)
	got, err := tg.ReadManifest(ctx, "t")
	if err != nil || got.LoadID != "load1" {
		t.Fatalf("staging load2 disturbed the committed table: %+v %v", got, err)
	}
	if _, err := tg.CommitManifest(ctx, coordinator.CommitRequest{Table: "t", LoadID: "load2", Schema: encodedSchema(t), Loaded: []messages.FileRecord{recC}}); err != nil {
		t.Fatal(err)
	}
	got, err = tg.ReadManifest(ctx, "t")
	if err != nil || got.LoadID != "load2" || got.Rows != 7 {
		t.Fatalf("after commit: %+v %v", got, err)
	}
	if loads := dirNames(t, filepath.Join(root, stagingDir, "t")); len(loads) != 1 || loads[0] != "load2" {
		t.Errorf("old loads not cleaned up: %v", loads)
	}
}

func TestLocalCommitRefusesWhatItCannotVerify(t *testing.T) {
	root := t.TempDir()
	tg, _ := Open("file://"+root, nil)
	ctx := context.Background()
	src := messages.Source{Bucket: "b", Key: "t/a.csv", ETag: "1"}
	good := writePart(t, tg, "t", "l", src, 5)
	tests := []struct {
		name   string
		mutate func(r *messages.FileRecord)
		want   string
	}{
		{"rows disagree with the footer", func(r *messages.FileRecord) { r.Rows = 6 }, "rows"},
		{"size disagrees", func(r *messages.FileRecord) { r.Bytes++ }, "bytes"},
		{"part missing", func(r *messages.FileRecord) {
			r.Source.ETag = "2"
			r.Part = tg.PartPath("l", messages.PartName(r.Source, nil))
		}, "missing"},
		{"a batch part lacks one of its files", func(r *messages.FileRecord) { r.PartFiles = 2 }, "holds 2 files, 1 are recorded"},
		{"part outside the load", func(r *messages.FileRecord) { r.Part = "../other/" + r.Part }, "is not a part of load"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := good
			tt.mutate(&rec)
			_, err := tg.CommitManifest(ctx, coordinator.CommitRequest{Table: "t", LoadID: "l", Schema: encodedSchema(t), Loaded: []messages.FileRecord{rec}})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if _, err := os.Lstat(filepath.Join(root, "t")); !os.IsNotExist(err) {
				t.Fatalf("a failed commit switched the table: %v", err)
			}
		})
	}
}

func TestLocalCommitWillNotReplaceAForeignDirectory(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "t"), 0o755); err != nil {
		t.Fatal(err)
	}
	tg, _ := Open("file://"+root, nil)
	_, err := tg.CommitManifest(context.Background(), coordinator.CommitRequest{Table: "t", LoadID: "l"})
	if err == nil || !strings.Contains(err.Error(), "not a link made by s3load") {
		t.Fatalf("err = %v", err)
	}
}

// Files of a batch share one part: the manifest lists the part once and
// each file with its own rows.
func TestLocalCommitOfASharedPart(t *testing.T) {
	root := t.TempDir()
	tg, _ := Open("file://"+root, nil)
	ctx := context.Background()
	a := messages.Source{Bucket: "b", Key: "t/a.csv", ETag: "1"}
	b := messages.Source{Bucket: "b", Key: "t/b.csv", ETag: "1"}
	part := writePart(t, tg, "t", "l", a, 5) // 5 rows: 2 of a, 3 of b
	recA, recB := part, part
	recA.Rows, recA.PartFiles = 2, 2
	recB.Source, recB.Rows, recB.PartFiles = b, 3, 2
	m, err := tg.CommitManifest(ctx, coordinator.CommitRequest{Table: "t", LoadID: "l", Schema: encodedSchema(t), Loaded: []messages.FileRecord{recA, recB}})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Parts) != 1 || m.Parts[0].Rows != 5 || m.Parts[0].Bytes != part.Bytes || len(m.Files) != 2 || m.Rows != 5 {
		t.Fatalf("manifest: %+v", m)
	}
	if m.Files[0].Path != m.Parts[0].Path || m.Files[1].Rows != 3 {
		t.Fatalf("manifest files: %+v", m.Files)
	}
}
