package lake_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/lake"
	"github.com/s3load/s3load/internal/lake/fscatalog"
	"github.com/s3load/s3load/internal/lake/lakecheck"
	"github.com/s3load/s3load/internal/lake/lakeio"
	"github.com/s3load/s3load/internal/partstats"
	"github.com/s3load/s3load/internal/target"
	"github.com/s3load/s3load/messages"
)

// namespace is every test table's namespace, as the target's layout.
var namespace = []string{"raw"}

// lakeEnv is a file:// target and a committer over some catalog.
type lakeEnv struct {
	dir string // the target's root
	tgt *target.Target
	cat catalog.Catalog
	c   *lake.Committer
	mem *memory.CheckedAllocator
	// logs holds the committer's warnings and errors.
	logs *bytes.Buffer
}

// newTarget opens a real Iceberg-layout file:// target in a temp dir.
func newTarget(tb testing.TB) (string, *target.Target) {
	tb.Helper()
	dir := tb.TempDir()
	tgt, err := target.Open("file://"+dir, nil, target.WithLayout(target.Layout{Namespace: namespace}))
	if err != nil {
		tb.Fatal(err)
	}
	return dir, tgt
}

// newFSLake is a committer over the filesystem catalog in the target.
func newFSLake(tb testing.TB, keep int) *lakeEnv {
	tb.Helper()
	dir, tgt := newTarget(tb)
	cat, err := fscatalog.New("file://"+dir, lakeio.New(nil))
	if err != nil {
		tb.Fatal(err)
	}
	return newLake(tb, dir, tgt, cat, keep)
}

func newLake(tb testing.TB, dir string, tgt *target.Target, cat catalog.Catalog, keep int) *lakeEnv {
	tb.Helper()
	logs := &bytes.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := lake.New(lake.Config{Catalog: cat, Namespace: namespace, Target: tgt, Job: "test-job", KeepSnapshots: keep, Logger: log})
	if err != nil {
		tb.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	if t, ok := tb.(*testing.T); ok {
		t.Cleanup(func() { mem.AssertSize(t, 0) })
	}
	return &lakeEnv{dir: dir, tgt: tgt, cat: cat, c: c, mem: mem, logs: logs}
}

// load is one load of a table: its schema, what Prepare said, its parts.
type load struct {
	table, id string
	schema    *arrow.Schema // as decoded
	encoded   []byte
	prep      coordinator.Prepared
	loaded    []messages.FileRecord
}

// prepare starts a load of table in schema sc.
func (e *lakeEnv) prepare(tb testing.TB, table, id string, sc *arrow.Schema) *load {
	tb.Helper()
	enc, err := decode.EncodeSchema(sc)
	if err != nil {
		tb.Fatal(err)
	}
	prep, err := e.c.Prepare(context.Background(), coordinator.PrepareRequest{Table: table, LoadID: id, Schema: enc})
	if err != nil {
		tb.Fatalf("preparing %s load %s: %v", table, id, err)
	}
	return &load{table: table, id: id, schema: sc, encoded: enc, prep: prep}
}

func (l *load) writeSchema(tb testing.TB) *arrow.Schema {
	tb.Helper()
	ws, err := decode.DecodeSchema(l.prep.WriteSchema)
	if err != nil {
		tb.Fatal(err)
	}
	return ws
}

func (l *load) request() coordinator.CommitRequest {
	return coordinator.CommitRequest{Table: l.table, LoadID: l.id, Schema: l.encoded,
		WriteSchema: l.prep.WriteSchema, Base: l.prep.Base, Loaded: l.loaded}
}

// partPath is where a part of the load lives on disk.
func (e *lakeEnv) partPath(table, loadID, name string) string {
	return filepath.Join(append(append([]string{e.dir}, namespace...), table, "data", loadID, name)...)
}

// writePart writes rows (a JSON array of objects in the load's decoded
// schema) as a Parquet part in the write schema, as a worker does, and
// records it in the load.
func (e *lakeEnv) writePart(tb testing.TB, l *load, name, rows string) messages.FileRecord {
	tb.Helper()
	rec, _, err := array.RecordFromJSON(e.mem, l.schema, strings.NewReader(rows))
	if err != nil {
		tb.Fatalf("building batch: %v", err)
	}
	defer rec.Release()
	conformed := conform(tb, rec, l.writeSchema(tb), e.mem)
	defer conformed.Release()
	fr := writeParquet(tb, e.partPath(l.table, l.id, name), conformed, e.mem)
	fr.LoadID, fr.Table = l.id, l.table
	fr.Source = messages.Source{Bucket: "src", Key: name + ".csv"}
	fr.Part = path.Join("data", l.id, name)
	l.loaded = append(l.loaded, fr)
	return fr
}

// conform casts rec to the write schema as internal/pipeline's conformer
// does: same-typed columns pass, others are cast safely.
func conform(tb testing.TB, rec arrow.RecordBatch, to *arrow.Schema, mem memory.Allocator) arrow.RecordBatch {
	tb.Helper()
	ctx := compute.WithAllocator(context.Background(), mem)
	cols := make([]arrow.Array, to.NumFields())
	for i, f := range to.Fields() {
		idx := rec.Schema().FieldIndices(f.Name)
		if len(idx) != 1 {
			tb.Fatalf("write schema column %q is %d times in the batch", f.Name, len(idx))
		}
		col := rec.Column(idx[0])
		if arrow.TypeEqual(col.DataType(), f.Type) {
			col.Retain()
			cols[i] = col
			continue
		}
		out, err := compute.CastArray(ctx, col, compute.SafeCastOptions(f.Type))
		if err != nil {
			tb.Fatalf("column %q: converting %s to %s: %v", f.Name, col.DataType(), f.Type, err)
		}
		cols[i] = out
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	return array.NewRecordBatch(to, cols, rec.NumRows())
}

// writeParquet writes rec to file and describes it as a worker's record.
func writeParquet(tb testing.TB, file string, rec arrow.RecordBatch, mem memory.Allocator) messages.FileRecord {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	props := parquet.NewWriterProperties(parquet.WithCompression(compress.Codecs.Zstd), parquet.WithAllocator(mem))
	w, err := pqarrow.NewFileWriter(rec.Schema(), &buf, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema(), pqarrow.WithAllocator(mem)))
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		tb.Fatalf("writing parquet: %v", err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	md, err := w.FileMetadata()
	if err != nil {
		tb.Fatal(err)
	}
	size := int64(buf.Len())
	st, err := partstats.FromFooter(md, size)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
	return messages.FileRecord{V: messages.Version, State: messages.StateLoaded, PartFiles: 1,
		Rows: rec.NumRows(), Bytes: size, Stats: &st}
}

// commit commits the load, failing the test on an error.
func (e *lakeEnv) commit(tb testing.TB, l *load) coordinator.CommitResult {
	tb.Helper()
	res, err := e.c.Commit(context.Background(), l.request())
	if err != nil {
		tb.Fatalf("committing %s load %s: %v", l.table, l.id, err)
	}
	if res.Snapshot == "" || res.MetadataLocation == "" {
		tb.Fatalf("commit of %s: result names no snapshot: %+v", l.id, res)
	}
	return res
}

// check reads the table at metadata location (or table location) with
// the independent checker.
func (e *lakeEnv) check(t *testing.T, location string) *lakecheck.Table {
	t.Helper()
	got, err := lakecheck.ReadTable(context.Background(), lakecheck.LocalOpener(), location, lakecheck.WithAllocator(e.mem))
	if err != nil {
		t.Fatalf("lakecheck: %v", err)
	}
	return got
}

func (e *lakeEnv) loadTable(t *testing.T, name string) *table.Table {
	t.Helper()
	return e.loadTableTB(t, name)
}

func (e *lakeEnv) loadTableTB(t testing.TB, name string) *table.Table {
	t.Helper()
	tbl, err := e.cat.LoadTable(context.Background(), append(append(table.Identifier{}, namespace...), name))
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

// scanRows reads the table's current rows with iceberg-go's own scan, as
// JSON objects sorted by their encoding (parts are read in any order).
func scanRows(t *testing.T, tbl *table.Table) []string {
	t.Helper()
	at, err := tbl.Scan().ToArrowTable(context.Background())
	if err != nil {
		t.Fatalf("iceberg-go scan: %v", err)
	}
	defer at.Release()
	var rows []string
	tr := array.NewTableReader(at, -1)
	defer tr.Release()
	for tr.Next() {
		rows = append(rows, recordRows(t, tr.RecordBatch())...)
	}
	if err := tr.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(rows)
	return rows
}

// recordRows is rec's rows as canonical JSON objects.
func recordRows(t *testing.T, rec arrow.RecordBatch) []string {
	t.Helper()
	var buf bytes.Buffer
	if err := array.RecordToJSON(rec, &buf); err != nil {
		t.Fatal(err)
	}
	var rows []string
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var v map[string]any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(v) // map keys sorted: canonical
		rows = append(rows, string(b))
	}
	return rows
}

// canonRows turns a JSON array of objects into sorted canonical rows.
func canonRows(t *testing.T, js string) []string {
	t.Helper()
	var in []map[string]any
	if err := json.Unmarshal([]byte(js), &in); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(in))
	for i, v := range in {
		b, _ := json.Marshal(v)
		out[i] = string(b)
	}
	sort.Strings(out)
	return out
}

func schemaOf(fields ...arrow.Field) *arrow.Schema { return arrow.NewSchema(fields, nil) }

func field(name string, dt arrow.DataType) arrow.Field {
	return arrow.Field{Name: name, Type: dt, Nullable: true}
}

// conformedRows are rows (in the load's decoded schema) as the part holds
// them, in the write schema: what a reader should find.
func (e *lakeEnv) conformedRows(t *testing.T, l *load, rows string) []string {
	t.Helper()
	rec, _, err := array.RecordFromJSON(e.mem, l.schema, strings.NewReader(rows))
	if err != nil {
		t.Fatalf("building batch: %v", err)
	}
	defer rec.Release()
	conformed := conform(t, rec, l.writeSchema(t), e.mem)
	defer conformed.Release()
	out := recordRows(t, conformed)
	sort.Strings(out)
	return out
}
