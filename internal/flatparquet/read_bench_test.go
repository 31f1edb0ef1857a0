package flatparquet

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/internal/demo"
)

// wideSnappy is the wide shape as the harness's Parquet case loads it
// (demo.WideSnappyParquet).
func wideSnappy(tb testing.TB, rows int) []byte {
	tb.Helper()
	data, err := demo.WideSnappyParquet(0, rows)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkRead reads 512Ki rows of the wide shape (4 row groups) in
// batches of 64Ki rows, as the decoder does, with pqarrow's record reader
// and with ColumnReader. MB/s are of the file.
func BenchmarkRead(b *testing.B) {
	const rows, batch = 512 << 10, 64 << 10
	data := wideSnappy(b, rows)
	open := func(b *testing.B) (*file.Reader, *pqarrow.FileReader) {
		pf, err := file.NewParquetReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: batch}, memory.DefaultAllocator)
		if err != nil {
			b.Fatal(err)
		}
		return pf, fr
	}
	b.Run("impl=pqarrow", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			pf, fr := open(b)
			rr, err := fr.GetRecordReader(context.Background(), nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for rr.Next() {
				n += int(rr.RecordBatch().NumRows())
			}
			if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				b.Fatal(err)
			}
			rr.Release()
			pf.Close()
			if n != rows {
				b.Fatalf("%d rows", n)
			}
		}
	})
	b.Run("impl=flat", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			pf, fr := open(b)
			n := 0
			for rg := range pf.NumRowGroups() {
				readers := make([]*ColumnReader, len(fr.Manifest.Fields))
				for c, sf := range fr.Manifest.Fields {
					pages, err := pf.RowGroup(rg).GetColumnPageReader(sf.ColIndex)
					if err != nil {
						b.Fatal(err)
					}
					readers[c] = NewColumnReader(pages, pf.MetaData().Schema.Column(sf.ColIndex), sf.Field.Type, memory.DefaultAllocator)
				}
				want := int(pf.MetaData().RowGroup(rg).NumRows())
				for got := 0; got < want; {
					m := min(batch, want-got)
					for _, r := range readers {
						arr, err := r.Read(m)
						if err != nil {
							b.Fatal(err)
						}
						arr.Release()
					}
					got += m
					n += m
				}
				for _, r := range readers {
					r.Close()
				}
			}
			pf.Close()
			if n != rows {
				b.Fatalf("%d rows", n)
			}
		}
	})
}
