package flatparquet

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"

	_ "github.com/s3load/s3load/internal/zstdpages"
)

// writeFlat writes batches with this package's Writer.
func writeFlat(t testing.TB, batches []arrow.RecordBatch, sc *arrow.Schema, props *parquet.WriterProperties, store bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(sc, &buf, props, store)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, batches)
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	md, err := w.FileMetadata()
	if err != nil {
		t.Fatal(err)
	}
	read := readMeta(t, buf.Bytes())
	if md.NumRows != read.NumRows || md.NumRowGroups() != read.NumRowGroups() {
		t.Fatalf("FileMetadata: %d rows in %d row groups, footer %d in %d", md.NumRows, md.NumRowGroups(), read.NumRows, read.NumRowGroups())
	}
	return buf.Bytes()
}

// writer is what the tests and the benchmark ask of either writer.
type writer interface {
	WriteBuffered(arrow.RecordBatch) error
	Close() error
}

// writeAll writes batches to w and closes it.
func writeAll(t testing.TB, w writer, batches []arrow.RecordBatch) {
	t.Helper()
	for _, b := range batches {
		if err := w.WriteBuffered(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// writePqarrow writes batches as s3load writes parts with pqarrow.
func writePqarrow(t testing.TB, batches []arrow.RecordBatch, sc *arrow.Schema, props *parquet.WriterProperties, store bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	arrProps := pqarrow.DefaultWriterProps()
	if store {
		arrProps = pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema())
	}
	w, err := pqarrow.NewFileWriter(sc, &buf, props, arrProps)
	if err != nil {
		t.Fatal(err)
	}
	writeAll(t, w, batches)
	return buf.Bytes()
}

func readMeta(t testing.TB, data []byte) *metadata.FileMetaData {
	t.Helper()
	r, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	return r.MetaData()
}

// checkRoundTrip reads data back with pqarrow and compares it with batches.
func checkRoundTrip(t *testing.T, data []byte, sc *arrow.Schema, batches []arrow.RecordBatch) {
	t.Helper()
	// not a checked allocator: arrow-go's DELTA_BINARY_PACKED decoder
	// leaks a buffer (its deltaBitWidths)
	mem := memory.DefaultAllocator
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(data), parquet.NewReaderProperties(mem), pqarrow.ArrowReadProperties{}, mem)
	if err != nil {
		t.Fatalf("reading back: %v", err)
	}
	defer tbl.Release()
	if !sameFields(tbl.Schema(), sc) {
		t.Fatalf("schema read back\n%s\nwritten\n%s", tbl.Schema(), sc)
	}
	for i := range sc.NumFields() {
		var chunks []arrow.Array
		for _, b := range batches {
			chunks = append(chunks, b.Column(i))
		}
		want := arrow.NewChunked(sc.Field(i).Type, chunks)
		got := tbl.Column(i).Data()
		if !array.ChunkedEqual(got, want) {
			t.Errorf("column %q read back differs:\ngot  %v\nwant %v", sc.Field(i).Name, got, want)
		}
		want.Release()
	}
}

// compareFiles checks that flat, written by this package, is what pqarrow
// wrote (pq) in everything but the bytes of its pages: schema, key-value
// metadata, row groups, column chunk encodings, page counts and statistics,
// and the statistics in each page header.
func compareFiles(t *testing.T, flat, pq []byte) {
	t.Helper()
	fr, err := file.NewParquetReader(bytes.NewReader(flat))
	if err != nil {
		t.Fatal(err)
	}
	defer fr.Close()
	pr, err := file.NewParquetReader(bytes.NewReader(pq))
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	fm, pm := fr.MetaData(), pr.MetaData()
	if !fm.Schema.Equals(pm.Schema) || printSchema(fm.Schema) != printSchema(pm.Schema) {
		t.Fatalf("schema\n%s\npqarrow's\n%s", printSchema(fm.Schema), printSchema(pm.Schema))
	}
	if !slices.Equal(fm.KeyValueMetadata().Keys(), pm.KeyValueMetadata().Keys()) ||
		!slices.Equal(fm.KeyValueMetadata().Values(), pm.KeyValueMetadata().Values()) {
		t.Errorf("key-value metadata %v, pqarrow's %v", fm.KeyValueMetadata(), pm.KeyValueMetadata())
	}
	if fm.Version() != pm.Version() || fm.GetCreatedBy() != pm.GetCreatedBy() {
		t.Errorf("version %v created by %q, pqarrow's %v %q", fm.Version(), fm.GetCreatedBy(), pm.Version(), pm.GetCreatedBy())
	}
	if fm.NumRows != pm.NumRows || fm.NumRowGroups() != pm.NumRowGroups() {
		t.Fatalf("%d rows in %d row groups, pqarrow %d in %d", fm.NumRows, fm.NumRowGroups(), pm.NumRows, pm.NumRowGroups())
	}
	for g := range fm.NumRowGroups() {
		frg, prg := fm.RowGroup(g), pm.RowGroup(g)
		if frg.NumRows() != prg.NumRows() {
			t.Errorf("row group %d: %d rows, pqarrow's %d", g, frg.NumRows(), prg.NumRows())
		}
		for c := range fm.NumColumns() {
			fc, err := frg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			pc, err := prg.ColumnChunk(c)
			if err != nil {
				t.Fatal(err)
			}
			where := fm.Schema.Column(c).Path()
			compareChunks(t, where, g, fc, pc)
			comparePages(t, where, g, fr.RowGroup(g), pr.RowGroup(g), c)
		}
	}
}

func compareChunks(t *testing.T, col string, g int, fc, pc *metadata.ColumnChunkMetaData) {
	t.Helper()
	if !slices.Equal(fc.Encodings(), pc.Encodings()) || fc.NumValues() != pc.NumValues() ||
		fc.Compression() != pc.Compression() || fc.Type() != pc.Type() || fc.HasDictionaryPage() != pc.HasDictionaryPage() {
		t.Errorf("%s row group %d: encodings %v, %d values, %v %v; pqarrow's %v, %d, %v %v", col, g,
			fc.Encodings(), fc.NumValues(), fc.Compression(), fc.Type(), pc.Encodings(), pc.NumValues(), pc.Compression(), pc.Type())
	}
	if !slices.Equal(encodingStats(fc), encodingStats(pc)) {
		t.Errorf("%s row group %d: pages %v, pqarrow's %v", col, g, encodingStats(fc), encodingStats(pc))
	}
	fs, err := fc.Statistics()
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pc.Statistics()
	if err != nil {
		t.Fatal(err)
	}
	if (fs == nil) != (ps == nil) {
		t.Fatalf("%s row group %d: statistics %v, pqarrow's %v", col, g, fs, ps)
	}
	if fs == nil {
		return
	}
	if fs.HasMinMax() != ps.HasMinMax() || fs.HasNullCount() != ps.HasNullCount() || fs.NullCount() != ps.NullCount() ||
		fs.HasDistinctCount() != ps.HasDistinctCount() || !bytes.Equal(fs.EncodeMin(), ps.EncodeMin()) || !bytes.Equal(fs.EncodeMax(), ps.EncodeMax()) {
		t.Errorf("%s row group %d: statistics min %x max %x (%v) nulls %d (%v); pqarrow's min %x max %x (%v) nulls %d (%v)", col, g,
			fs.EncodeMin(), fs.EncodeMax(), fs.HasMinMax(), fs.NullCount(), fs.HasNullCount(),
			ps.EncodeMin(), ps.EncodeMax(), ps.HasMinMax(), ps.NullCount(), ps.HasNullCount())
	}
}

func encodingStats(c *metadata.ColumnChunkMetaData) []string {
	var out []string
	for _, s := range c.EncodingStats() {
		out = append(out, fmt.Sprintf("%v %v", s.PageType, s.Encoding))
	}
	slices.Sort(out)
	return out
}

// comparePages compares the data page headers of column c.
func comparePages(t *testing.T, col string, g int, frg, prg *file.RowGroupReader, c int) {
	t.Helper()
	fp, err := frg.GetColumnPageReader(c)
	if err != nil {
		t.Fatal(err)
	}
	defer fp.Close()
	pp, err := prg.GetColumnPageReader(c)
	if err != nil {
		t.Fatal(err)
	}
	defer pp.Close()
	for n := 0; ; n++ {
		fnext, pnext := fp.Next(), pp.Next()
		if fnext != pnext {
			t.Errorf("%s row group %d: page %d there: %v, in pqarrow's: %v (%v %v)", col, g, n, fnext, pnext, fp.Err(), pp.Err())
			return
		}
		if !fnext {
			if fp.Err() != nil || pp.Err() != nil {
				t.Errorf("%s row group %d: reading pages: %v, pqarrow's %v", col, g, fp.Err(), pp.Err())
			}
			return
		}
		if fd, ok := fp.Page().(*file.DictionaryPage); ok {
			pd, ok := pp.Page().(*file.DictionaryPage)
			if !ok || fd.NumValues() != pd.NumValues() || fd.Encoding() != pd.Encoding() || !bytes.Equal(fd.Data(), pd.Data()) {
				t.Errorf("%s row group %d page %d: dictionary page of %d values (%v), pqarrow's %T", col, g, n, fd.NumValues(), fd.Encoding(), pp.Page())
			}
			continue
		}
		f, ok1 := fp.Page().(*file.DataPageV1)
		p, ok2 := pp.Page().(*file.DataPageV1)
		if !ok1 || !ok2 {
			t.Fatalf("%s row group %d page %d: %T, pqarrow's %T", col, g, n, fp.Page(), pp.Page())
		}
		fst, pst := f.Statistics(), p.Statistics()
		if f.NumValues() != p.NumValues() || f.Encoding() != p.Encoding() ||
			fst.HasMin != pst.HasMin || fst.HasMax != pst.HasMax || !bytes.Equal(fst.Min, pst.Min) || !bytes.Equal(fst.Max, pst.Max) ||
			fst.HasNullCount != pst.HasNullCount || fst.NullCount != pst.NullCount || fst.HasDistinctCount != pst.HasDistinctCount {
			t.Errorf("%s row group %d page %d: %d values %v stats %+v; pqarrow's %d %v %+v", col, g, n,
				f.NumValues(), f.Encoding(), fst, p.NumValues(), p.Encoding(), pst)
		}
	}
}

func printSchema(s *schema.Schema) string {
	var b strings.Builder
	schema.PrintSchema(s.Root(), &b, 2)
	return b.String()
}

// sameFields compares a schema read back with the one written: the reader
// adds each field's Parquet field id to its metadata.
func sameFields(got, want *arrow.Schema) bool {
	if got.NumFields() != want.NumFields() {
		return false
	}
	for i, g := range got.Fields() {
		w := want.Field(i)
		if g.Name != w.Name || g.Nullable != w.Nullable || !arrow.TypeEqual(g.Type, w.Type) {
			return false
		}
		if id, ok := w.Metadata.GetValue("PARQUET:field_id"); ok {
			if gid, _ := g.Metadata.GetValue("PARQUET:field_id"); gid != id {
				return false
			}
		}
	}
	return true
}
