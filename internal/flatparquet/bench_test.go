package flatparquet

import (
	"bytes"
	"io"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/internal/demo"
)

// wideProps are s3load's part settings for the wide shape (its
// WriterProperties with EncodingsDelta): zstd 3, no dictionaries, 512Ki-row
// row groups, 1 MiB pages, DELTA_BINARY_PACKED for the INT32 and INT64
// columns.
func wideProps(sc *arrow.Schema) *parquet.WriterProperties {
	return parquet.NewWriterProperties(wideOptions(sc)...)
}

func wideOptions(sc *arrow.Schema) []parquet.WriterProperty {
	props := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(3),
		parquet.WithDictionaryDefault(false),
		parquet.WithMaxRowGroupLength(512 * 1024),
		parquet.WithDataPageSize(1 << 20),
		parquet.WithCreatedBy("s3load"),
	}
	pqschema, err := pqarrow.ToParquet(sc, nil, pqarrow.DefaultWriterProps())
	if err != nil {
		panic(err)
	}
	for i := range pqschema.NumColumns() {
		col := pqschema.Column(i)
		switch col.PhysicalType() {
		case parquet.Types.Int32, parquet.Types.Int64:
			props = append(props, parquet.WithEncodingPath(col.ColumnPath(), parquet.Encodings.DeltaBinaryPacked))
		}
	}
	return props
}

// BenchmarkWrite writes 1Mi rows of the wide shape as one file with
// pqarrow's writer and with this package's.
func BenchmarkWrite(b *testing.B) {
	const rows = 1 << 20
	batches := demo.WideBatches(memory.DefaultAllocator, rows)
	defer release(batches)
	sc := batches[0].Schema()
	b.Run("pqarrow", func(b *testing.B) {
		benchWrite(b, batches, rows, func(w io.Writer) (writer, error) {
			return pqarrow.NewFileWriter(sc, w, wideProps(sc), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		})
	})
	b.Run("flat", func(b *testing.B) {
		benchWrite(b, batches, rows, func(w io.Writer) (writer, error) { return NewWriter(sc, w, wideProps(sc), true) })
	})
}

// benchWrite writes batches to a new writer from open in each loop.
func benchWrite(b *testing.B, batches []arrow.RecordBatch, rows int, open func(io.Writer) (writer, error)) {
	var written int64
	for b.Loop() {
		out := &counter{}
		w, err := open(out)
		if err != nil {
			b.Fatal(err)
		}
		writeAll(b, w, batches)
		written = out.n
	}
	report(b, rows, written)
}

func report(b *testing.B, rows int, written int64) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(written)/float64(rows), "out-B/row")
}

// counter discards what is written and counts it.
type counter struct{ n int64 }

func (c *counter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// TestWideShape writes the benchmark's data (fewer rows, row groups
// ending inside a batch) and checks it against pqarrow's file.
func TestWideShape(t *testing.T) {
	batches := demo.WideBatches(memory.DefaultAllocator, 3<<16)
	defer release(batches)
	sc := batches[0].Schema()
	props := parquet.NewWriterProperties(append(wideOptions(sc), parquet.WithMaxRowGroupLength(100000))...)
	flat := writeFlat(t, batches, sc, props, true)
	checkRoundTrip(t, flat, sc, batches)
	pq := writePqarrow(t, batches, sc, props, true)
	compareFiles(t, flat, pq)
	// no nulls: the files are the same byte for byte
	if !bytes.Equal(flat, pq) {
		t.Errorf("%d bytes, pqarrow's %d, different from byte %d", len(flat), len(pq), firstDiff(flat, pq))
	}
}
