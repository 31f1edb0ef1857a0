package demo

import (
	"bytes"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// WideNarrowed are the wide shape's int64 columns WideSnappyParquet writes
// as int32: id and quantity. A table declaring them int64 makes loading
// such a file a conversion, as a user widening an export's columns does.
var WideNarrowed = []int{0, 3}

// WideSnappyParquet is rows first..first+n of the wide shape as a Parquet
// file the way exports often are: written by arrow-go with Snappy,
// dictionaries, 128 Ki-row groups, and WideNarrowed as int32.
func WideSnappyParquet(first, n int) ([]byte, error) {
	wide := WideSchema()
	fields := wide.Fields()
	for _, i := range WideNarrowed {
		fields[i].Type = arrow.PrimitiveTypes.Int32
	}
	schema := arrow.NewSchema(fields, nil)
	var out bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &out, parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(128<<10)), pqarrow.DefaultWriterProps())
	if err != nil {
		return nil, err
	}
	for f := first; f < first+n; f += 1 << 16 {
		bld := array.NewRecordBuilder(memory.DefaultAllocator, wide)
		AppendWide(bld, f, min(1<<16, first+n-f))
		rec := bld.NewRecordBatch()
		bld.Release()
		narrow, err := narrowWide(schema, rec)
		rec.Release()
		if err != nil {
			return nil, err
		}
		err = w.WriteBuffered(narrow)
		narrow.Release()
		if err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// narrowWide is rec with WideNarrowed as int32 (schema's types).
func narrowWide(schema *arrow.Schema, rec arrow.RecordBatch) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, rec.NumCols())
	for i := range cols {
		cols[i] = rec.Column(i)
		cols[i].Retain()
	}
	release := func() {
		for _, c := range cols {
			c.Release()
		}
	}
	for _, i := range WideNarrowed {
		src := rec.Column(i).(*array.Int64)
		b := array.NewInt32Builder(memory.DefaultAllocator)
		for j := range src.Len() {
			v := src.Value(j)
			if v != int64(int32(v)) {
				b.Release()
				release()
				return nil, fmt.Errorf("column %d row %d: %d does not fit int32", i, j, v)
			}
			b.Append(int32(v))
		}
		cols[i].Release()
		cols[i] = b.NewArray()
		b.Release()
	}
	out := array.NewRecordBatch(schema, cols, rec.NumRows())
	release()
	return out, nil
}
