package decode

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/internal/demo"
)

// TestParquetFlatPath checks that a flat file's row groups are read with
// flatparquet's column readers (not silently with pqarrow), that a nested
// field leaves a row group to pqarrow, and that Decode's rows are
// pqarrow's.
func TestParquetFlatPath(t *testing.T) {
	recs := demo.WideBatches(memory.DefaultAllocator, 5000)
	rec := recs[0]
	defer rec.Release()
	data := writeParquet(t, rec, parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(2048), parquet.WithDataPageSize(4<<10), parquet.WithDictionaryDefault(true))

	// Every row group of the flat file is read by the column readers.
	obj := ReaderObject("flat.parquet", bytes.NewReader(data), int64(len(data)))
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s, err := resolve(obj.Name(), Options{Mem: mem})
	if err != nil {
		t.Fatal(err)
	}
	src, err := openParquetSource(context.Background(), obj, &s, &ioErrors{name: obj.Name()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := openParquet(src, &s, s.mem)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := p.conform(p.schema, ColumnPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	for rg := range p.pf.NumRowGroups() {
		readers, err := p.flatReaders(rg, plan, mem)
		if err != nil || readers == nil {
			t.Fatalf("row group %d: flat readers %v, %v; want one per column", rg, readers, err)
		}
		closeFlat(readers)
	}
	p.pf.Close()
	src.cleanup()
	mem.AssertSize(t, 0)

	// Decode's rows are exactly pqarrow's.
	want := pqarrowRows(t, data)
	got := decodeAll(t, obj, Options{Format: FormatParquet})
	if got.err != nil {
		t.Fatal(got.err)
	}
	if !slices.Equal(got.rows, want) {
		t.Fatalf("Decode's %d rows differ from pqarrow's %d", len(got.rows), len(want))
	}

	// A nested field: the row group is pqarrow's, and still decodes.
	nested := nestedRecord(t)
	defer nested.Release()
	nd := writeParquet(t, nested)
	nobj := ReaderObject("nested.parquet", bytes.NewReader(nd), int64(len(nd)))
	ns, _ := resolve(nobj.Name(), Options{Mem: memory.DefaultAllocator})
	nsrc, err := openParquetSource(context.Background(), nobj, &ns, &ioErrors{name: nobj.Name()})
	if err != nil {
		t.Fatal(err)
	}
	defer nsrc.cleanup()
	np, err := openParquet(nsrc, &ns, ns.mem)
	if err != nil {
		t.Fatal(err)
	}
	defer np.pf.Close()
	nplan, err := np.conform(np.schema, ColumnPolicy{})
	if err != nil {
		t.Fatal(err)
	}
	if readers, err := np.flatReaders(0, nplan, memory.DefaultAllocator); readers != nil || err != nil {
		closeFlat(readers)
		t.Fatalf("a nested file got flat readers (%v)", err)
	}
	if res := decodeAll(t, nobj, Options{Format: FormatParquet}); res.err != nil || res.n != int64(nested.NumRows()) {
		t.Fatalf("nested file: %d rows, %v", res.n, res.err)
	}
}

// pqarrowRows reads data with pqarrow alone and renders its rows.
func pqarrowRows(t *testing.T, data []byte) []string {
	t.Helper()
	tbl, err := pqarrow.ReadTable(context.Background(), bytes.NewReader(data), nil, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	tr := array.NewTableReader(tbl, 1000)
	defer tr.Release()
	var rows []string
	for tr.Next() {
		rows = append(rows, renderRows(tr.RecordBatch())...)
	}
	return rows
}

// nestedRecord is a few rows with a list column.
func nestedRecord(t *testing.T) arrow.RecordBatch {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "tags", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
	}, nil)
	bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer bld.Release()
	ids := bld.Field(0).(*array.Int64Builder)
	tags := bld.Field(1).(*array.ListBuilder)
	vals := tags.ValueBuilder().(*array.StringBuilder)
	for i := range 10 {
		ids.Append(int64(i))
		tags.Append(true)
		vals.Append("a")
		vals.Append("b")
	}
	return bld.NewRecordBatch()
}
