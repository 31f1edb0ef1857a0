package pipeline

import (
	"fmt"
	"io"
	"math/rand/v2"
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

// BenchmarkParquetWrite compares output settings on the same batches:
// the figures behind WriterProperties. "current" is WriterProperties with
// EncodingsDelta, "plain" and "compact" with EncodingsPlain and
// EncodingsCompact.
func BenchmarkParquetWrite(b *testing.B) {
	const rows = 1 << 20
	batches := demo.WideBatches(memory.DefaultAllocator, rows)
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	cases := []struct {
		name  string
		props []parquet.WriterProperty
	}{
		{"snappy-dict", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Snappy), parquet.WithDictionaryDefault(true)}},
		{"snappy-nodict", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Snappy), parquet.WithDictionaryDefault(false)}},
		{"zstd1-dict", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(1), parquet.WithDictionaryDefault(true)}},
		{"zstd3-dict", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(3), parquet.WithDictionaryDefault(true)}},
		{"zstd1-nodict", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(1), parquet.WithDictionaryDefault(false)}},
		{"zstd1-dictstrings", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(1), parquet.WithDictionaryDefault(false),
			parquet.WithDictionaryFor("customer", true), parquet.WithDictionaryFor("city", true)}},
		{"lz4-nodict", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Lz4Raw), parquet.WithDictionaryDefault(false)}},
		{"none-dict", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Uncompressed), parquet.WithDictionaryDefault(true)}},
		{"zstd2-nodict", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(2), parquet.WithDictionaryDefault(false)}},
		{"zstd3-nodict", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(3), parquet.WithDictionaryDefault(false)}},
		{"zstd1-nodict-nostats", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(1), parquet.WithDictionaryDefault(false), parquet.WithStats(false)}},
		{"zstd1-nodict-v2", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(1), parquet.WithDictionaryDefault(false), parquet.WithDataPageVersion(parquet.DataPageV2)}},
		{"zstd3-dictstrings", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(3), parquet.WithDictionaryDefault(false),
			parquet.WithDictionaryFor("customer", true), parquet.WithDictionaryFor("city", true)}},
		{"zstd3-delta-dls", []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Zstd), parquet.WithCompressionLevel(3), parquet.WithDictionaryDefault(false),
			parquet.WithEncodingFor("id", parquet.Encodings.DeltaBinaryPacked), parquet.WithEncodingFor("quantity", parquet.Encodings.DeltaBinaryPacked),
			parquet.WithEncodingFor("ordered_at", parquet.Encodings.DeltaBinaryPacked),
			parquet.WithEncodingFor("customer", parquet.Encodings.DeltaLengthByteArray), parquet.WithEncodingFor("city", parquet.Encodings.DeltaLengthByteArray)}},
		{"plain", nil},
		{"delta-nodict", append(writerOptions(batches[0].Schema(), EncodingsDelta),
			parquet.WithDictionaryFor("customer", false), parquet.WithDictionaryFor("city", false))},
		{"compact", nil},
		{"current", nil},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			var written int64
			for b.Loop() {
				props := WriterProperties(batches[0].Schema(), EncodingsDelta)
				switch {
				case tc.name == "plain":
					props = WriterProperties(batches[0].Schema(), EncodingsPlain)
				case tc.name == "compact":
					props = WriterProperties(batches[0].Schema(), EncodingsCompact)
				case tc.props != nil:
					props = parquet.NewWriterProperties(append(tc.props, parquet.WithMaxRowGroupLength(512*1024))...)
				}
				written = writeBatches(b, batches, props)
			}
			reportWrite(b, rows, written)
		})
	}
}

// BenchmarkParquetWriteRandom writes columns no encoding flatters (random
// 64-bit integers, random integers below a million, normal floats) with
// each Encodings: delta must not cost what it saves on ordered data.
func BenchmarkParquetWriteRandom(b *testing.B) {
	const rows = 1 << 20
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "wide", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "narrow", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "float", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	r := rand.New(rand.NewPCG(1, 2))
	var batches []arrow.RecordBatch
	for first := 0; first < rows; first += 1 << 16 {
		bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for range 1 << 16 {
			bld.Field(0).(*array.Int64Builder).Append(r.Int64())
			bld.Field(1).(*array.Int64Builder).Append(r.Int64N(1_000_000))
			bld.Field(2).(*array.Float64Builder).Append(r.NormFloat64() * 1000)
		}
		batches = append(batches, bld.NewRecordBatch())
		bld.Release()
	}
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	for _, enc := range []Encodings{EncodingsPlain, EncodingsDelta, EncodingsCompact} {
		b.Run(enc.String(), func(b *testing.B) {
			var written int64
			for b.Loop() {
				written = writeBatches(b, batches, WriterProperties(schema, enc))
			}
			reportWrite(b, rows, written)
		})
	}
}

// writeBatches writes batches as one Parquet file with props, to nowhere,
// and returns its size.
func writeBatches(b *testing.B, batches []arrow.RecordBatch, props *parquet.WriterProperties) int64 {
	out := countingWriter{w: io.Discard}
	w, err := pqarrow.NewFileWriter(batches[0].Schema(), &out, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range batches {
		if err := w.WriteBuffered(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return out.n
}

func reportWrite(b *testing.B, rows int, written int64) {
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(written)/float64(rows), "out-B/row")
}

// BenchmarkParquetWriteShuffled writes the wide shape with its string
// columns drawn at random, as real exports hold them (a customer among
// 50,000, a city among 1,000), with and without the string columns'
// dictionaries: in the ordered shape zstd finds the repeated strings on
// its own, here it cannot.
func BenchmarkParquetWriteShuffled(b *testing.B) {
	const rows = 1 << 20
	schema := demo.WideSchema()
	r := rand.New(rand.NewPCG(1, 2))
	var batches []arrow.RecordBatch
	for first := 0; first < rows; first += 1 << 16 {
		bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		demo.AppendWide(bld, first, 1<<16)
		rec := bld.NewRecordBatch()
		bld.Release()
		customers := array.NewStringBuilder(memory.DefaultAllocator)
		cities := array.NewStringBuilder(memory.DefaultAllocator)
		for range 1 << 16 {
			customers.Append(fmt.Sprintf("customer-%07d", r.IntN(50000)))
			cities.Append(fmt.Sprintf("city number %d", r.IntN(1000)))
		}
		cols := slices.Clone(rec.Columns())
		cols[1], cols[4] = customers.NewArray(), cities.NewArray()
		batches = append(batches, array.NewRecordBatch(schema, cols, 1<<16))
		cols[1].Release()
		cols[4].Release()
		customers.Release()
		cities.Release()
		rec.Release()
	}
	defer func() {
		for _, r := range batches {
			r.Release()
		}
	}()
	noDict := parquet.NewWriterProperties(append(writerOptions(schema, EncodingsDelta),
		parquet.WithDictionaryFor("customer", false), parquet.WithDictionaryFor("city", false))...)
	for _, tc := range []struct {
		name  string
		props *parquet.WriterProperties
	}{{"delta-nodict", noDict}, {"current", WriterProperties(schema, EncodingsDelta)}} {
		b.Run(tc.name, func(b *testing.B) {
			var written int64
			for b.Loop() {
				written = writeBatches(b, batches, tc.props)
			}
			reportWrite(b, rows, written)
		})
	}
}
