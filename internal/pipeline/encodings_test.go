package pipeline

import (
	"bytes"
	"context"
	"math"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/internal/testenv"
)

// encodingsRecord holds a column of every kind the encodings choose
// between, nested ones included, with nulls.
func encodingsRecord(t *testing.T, mem memory.Allocator) arrow.RecordBatch {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "nested", Type: arrow.StructOf(arrow.Field{Name: "n", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
		{Name: "list", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true},
		{Name: "nulls", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		// Deltas between these overflow 64 bits; the encoding wraps.
		{Name: "extremes", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "unsigned", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
	}, nil)
	bld := array.NewRecordBuilder(mem, schema)
	defer bld.Release()
	for i := range 3000 {
		if i%7 == 0 {
			for f := range bld.Fields() {
				bld.Field(f).AppendNull()
			}
			continue
		}
		bld.Field(0).(*array.Int32Builder).Append(int32(i * 3))
		bld.Field(1).(*array.Int64Builder).Append(int64(i) * -1_000_003)
		bld.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000_000 + int64(i)))
		bld.Field(3).(*array.Date32Builder).Append(arrow.Date32(19000 + i%40))
		bld.Field(4).(*array.Float64Builder).Append(float64(i) / 3)
		bld.Field(5).(*array.StringBuilder).Append("v" + string(rune('a'+i%26)))
		bld.Field(6).(*array.BooleanBuilder).Append(i%2 == 0)
		sb := bld.Field(7).(*array.StructBuilder)
		sb.Append(true)
		sb.FieldBuilder(0).(*array.Int64Builder).Append(int64(i % 5))
		lb := bld.Field(8).(*array.ListBuilder)
		lb.Append(true)
		for k := range i % 3 {
			lb.ValueBuilder().(*array.Int64Builder).Append(int64(k + i))
		}
		bld.Field(9).AppendNull()
		extremes := []int64{math.MinInt64, math.MaxInt64, 0, -1, math.MaxInt64, math.MinInt64 + 1}
		bld.Field(10).(*array.Int64Builder).Append(extremes[i%len(extremes)])
		unsigned := []uint64{0, math.MaxUint64, 1, math.MaxInt64 + 1, math.MaxUint64 - 7}
		bld.Field(11).(*array.Uint64Builder).Append(unsigned[i%len(unsigned)])
		bld.Field(12).(*array.Uint32Builder).Append([]uint32{math.MaxUint32, 0, 1 << 31}[i%3])
	}
	return bld.NewRecordBatch()
}

// TestWriterEncodings checks which columns each Encodings lays out how,
// and that both read back to the rows written.
func TestWriterEncodings(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rec := encodingsRecord(t, mem)
	defer rec.Release()
	delta := []string{"i32", "i64", "ts", "day", "nested.n", "list.list.element", "nulls", "extremes", "unsigned", "u32"}
	for _, tc := range []struct {
		enc       Encodings
		wantDelta []string
		wantSplit []string
	}{
		{EncodingsDelta, delta, nil},
		{EncodingsPlain, nil, nil},
		{EncodingsCompact, delta, []string{"f64"}},
	} {
		t.Run(tc.enc.String(), func(t *testing.T) {
			var buf bytes.Buffer
			w, err := pqarrow.NewFileWriter(rec.Schema(), &buf, WriterProperties(rec.Schema(), tc.enc), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WriteBuffered(rec); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			pf, err := file.NewParquetReader(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			defer pf.Close()
			gotDelta := testenv.EncodedColumns(t, pf, parquet.Encodings.DeltaBinaryPacked)
			gotSplit := testenv.EncodedColumns(t, pf, parquet.Encodings.ByteStreamSplit)
			if !slices.Equal(gotDelta, tc.wantDelta) {
				t.Errorf("DELTA_BINARY_PACKED columns = %v, want %v", gotDelta, tc.wantDelta)
			}
			if !slices.Equal(gotSplit, tc.wantSplit) {
				t.Errorf("BYTE_STREAM_SPLIT columns = %v, want %v", gotSplit, tc.wantSplit)
			}
			// Read back with a checked allocator: since arrow-go v18.9.0 the
			// DELTA_BINARY_PACKED decoder frees what it allocates.
			mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
			defer mem.AssertSize(t, 0)
			fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 1 << 20}, mem)
			if err != nil {
				t.Fatal(err)
			}
			tbl, err := fr.ReadTable(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer tbl.Release()
			for i := range int(rec.NumCols()) {
				col := tbl.Column(i).Data()
				if col.Len() != int(rec.NumRows()) || col.Chunks()[0].Len() != int(rec.NumRows()) {
					t.Fatalf("%s: %d rows read back, want %d in one chunk", rec.ColumnName(i), col.Len(), rec.NumRows())
				}
				if !array.Equal(col.Chunks()[0], rec.Column(i)) {
					t.Errorf("%s: read back differs from what was written", rec.ColumnName(i))
				}
			}
		})
	}
}
