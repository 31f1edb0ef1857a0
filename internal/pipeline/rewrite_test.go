package pipeline

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/partfiles"
	"github.com/s3load/s3load/internal/target"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

// A rewrite copies exactly the task's files' rows from the committed part,
// in the part's order, whatever the read batches' bounds (a file spanning
// two batches, files of no rows, a kept file after a dropped one), and
// lists them in the new part's footer for the next load.
func TestRewriteCopiesKeptRows(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	tgt, err := target.Open("file://"+dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
	src := func(key string) messages.Source {
		return messages.Source{Bucket: "b", Key: key, ETag: "e-" + key, Size: 1}
	}
	// The committed part: a (100,000 rows: past one read batch), b (none),
	// c (10, changed since), d (70,000), e (none, last).
	files := []struct {
		src  messages.Source
		rows int64
	}{{src("a"), 100_000}, {src("b"), 0}, {src("c"), 10}, {src("d"), 70_000}, {src("e"), 0}}
	part, err := tgt.CreatePart(ctx, "t", "old")
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(schema, part, WriterProperties(schema, EncodingsDelta), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	var listed []partfiles.File
	var next int64
	for _, f := range files {
		b := array.NewInt64Builder(memory.DefaultAllocator)
		for range f.rows {
			b.Append(next)
			next++
		}
		rec := array.NewRecordBatch(schema, []arrow.Array{b.NewArray()}, f.rows)
		if err := w.WriteBuffered(rec); err != nil {
			t.Fatal(err)
		}
		rec.Release()
		listed = append(listed, partfiles.File{ID: f.src.Identity(), Rows: f.rows})
	}
	desc, _ := json.Marshal(listed)
	if err := w.AppendKeyValueMetadata(partfiles.FooterKey, string(desc)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := part.Commit(ctx, "batch-old.parquet"); err != nil {
		t.Fatal(err)
	}

	encoded, err := decode.EncodeSchema(schema)
	if err != nil {
		t.Fatal(err)
	}
	p := New(nil, tgt, map[string]decode.Options{"t": {Format: decode.FormatCSV}}, nil)
	// The task lists the kept files out of the part's order.
	task := messages.Task{LoadID: "new", Table: "t"}
	for _, k := range []string{"e", "d", "b", "a"} {
		task.Files = append(task.Files, messages.TaskFile{Source: src(k), From: "old/batch-old.parquet"})
	}
	outs := p.Load(ctx, task, worker.Schemas{Decode: encoded}, nil)
	wantRows := []int64{0, 70_000, 0, 100_000}
	for i, o := range outs {
		if o.Kind != worker.Loaded || o.Rows != wantRows[i] || o.PartFiles != 4 || o.Part == "" {
			t.Fatalf("file %s: %+v, want loaded with %d rows in a part of 4 files", task.Files[i].Source.Key, o, wantRows[i])
		}
	}

	r, err := file.OpenParquetFile(filepath.Join(dir, ".s3load", "t", "new", outs[0].Part), false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fr, err := pqarrow.NewFileReader(r, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	var got []int64
	for _, chunk := range tbl.Column(0).Data().Chunks() {
		got = append(got, chunk.(*array.Int64).Int64Values()...)
	}
	// a's ids 0..99,999, then d's 100,010..170,009: c's ten rows dropped.
	var want []int64
	for i := range int64(100_000) {
		want = append(want, i)
	}
	for i := range int64(70_000) {
		want = append(want, 100_010+i)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the new part holds %d rows, want %d: a's then d's", len(got), len(want))
	}
	var footer []partfiles.File
	if err := json.Unmarshal([]byte(*r.MetaData().KeyValueMetadata().FindValue(partfiles.FooterKey)), &footer); err != nil {
		t.Fatal(err)
	}
	wantFooter := []partfiles.File{{ID: src("a").Identity(), Rows: 100_000}, {ID: src("b").Identity(), Rows: 0}, {ID: src("d").Identity(), Rows: 70_000}, {ID: src("e").Identity(), Rows: 0}}
	if !slices.Equal(footer, wantFooter) {
		t.Errorf("the new part's footer lists %v, want %v", footer, wantFooter)
	}
}
