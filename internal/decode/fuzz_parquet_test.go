package decode

// FuzzParquet feeds arbitrary bytes to Infer and Decode as a Parquet file.
// Run it with
//
//	go test -run '^$' -fuzz '^FuzzParquet$' -fuzztime 3m ./internal/decode/
//
// Without -fuzz it runs its seeds: small files written here, the
// crashers it found (testdata/fuzz/FuzzParquet) and, when the shared
// corpus is beside the module, the parquet-testing files.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/s3load/s3load/internal/tempspace"
	"github.com/s3load/s3load/internal/testenv"
)

// Fuzzed files are read under a small decompression cap, so no page may
// exceed it and no file declare more rows; what one may cost follows.
const (
	fuzzCap       = 1 << 20
	fuzzArrowPeak = 16 << 20  // Arrow memory held at once
	fuzzGoBytes   = 256 << 20 // Go heap allocated in all, churn included
)

// parquetSeeds are small valid files of many types, nested ones and
// dictionaries included, in each codec and both data page versions.
func parquetSeeds(tb testing.TB) [][]byte {
	tb.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "d", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "t", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
		{Name: "n", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
		{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32), Nullable: true},
		{Name: "st", Type: arrow.StructOf(
			arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
			arrow.Field{Name: "y", Type: arrow.ListOf(arrow.BinaryTypes.String), Nullable: true},
		), Nullable: true},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64), Nullable: true},
	}, nil)
	rows := `[
		{"i": 1, "f": 1.5, "s": "a", "b": true, "d": 19000, "t": 1700000000000000, "n": "12.34", "l": [1, 2], "st": {"x": 1, "y": ["p", "q"]}, "m": [{"key": "k", "value": 1}]},
		{"i": null, "f": null, "s": null, "b": false, "d": null, "t": null, "n": null, "l": null, "st": null, "m": null},
		{"i": 3, "f": -0.25, "s": "a", "b": true, "d": 1, "t": 0, "n": "-1.00", "l": [], "st": {"x": null, "y": []}, "m": []},
		{"i": 3, "f": 2.0, "s": "bbbbbbbbbbbb", "b": false, "d": 2, "t": 1, "n": "0.01", "l": [null, 5], "st": {"x": 4, "y": null}, "m": [{"key": "a", "value": null}, {"key": "b", "value": 2}]}
	]`
	rec, _, err := array.RecordFromJSON(memory.DefaultAllocator, schema, strings.NewReader(rows))
	if err != nil {
		tb.Fatal(err)
	}
	defer rec.Release()
	write := func(props ...parquet.WriterProperty) []byte {
		var buf bytes.Buffer
		// The Arrow schema too, which arrow-go reads back (ARROW:schema).
		w, err := pqarrow.NewFileWriter(schema, &buf, parquet.NewWriterProperties(props...), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		if err != nil {
			tb.Fatal(err)
		}
		if err := w.Write(rec); err != nil {
			tb.Fatal(err)
		}
		if err := w.Close(); err != nil {
			tb.Fatal(err)
		}
		return buf.Bytes()
	}
	seeds := [][]byte{
		write(),
		write(parquet.WithDictionaryDefault(false), parquet.WithMaxRowGroupLength(2)),
		write(parquet.WithDataPageVersion(parquet.DataPageV2), parquet.WithCompression(compress.Codecs.Snappy)),
		write(parquet.WithDictionaryDefault(false), parquet.WithEncodingFor("i", parquet.Encodings.DeltaBinaryPacked),
			parquet.WithEncodingFor("s", parquet.Encodings.DeltaByteArray), parquet.WithEncodingFor("f", parquet.Encodings.ByteStreamSplit)),
	}
	for _, codec := range []compress.Compression{compress.Codecs.Gzip, compress.Codecs.Zstd, compress.Codecs.Lz4Raw, compress.Codecs.Lz4, compress.Codecs.Brotli} {
		seeds = append(seeds, write(parquet.WithCompression(codec), parquet.WithDataPageVersion(parquet.DataPageV2)))
	}
	// Whole-file compressed, to exercise the spool.
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(seeds[0])
	zw.Close()
	enc, _ := zstd.NewWriter(nil)
	seeds = append(seeds, gz.Bytes(), enc.EncodeAll(seeds[1], nil))
	enc.Close()
	// Hand-made ones reach corners writers do not: a dictionary page, a
	// long RLE run.
	seeds = append(seeds,
		craft{values: []int64{1, 2, 3}}.build(),
		craft{rows: 3, numValues: 3, pageBody: []byte{1, 0x03, 0b010}, dictValues: []int64{7, 9}}.build(),
		craft{optional: true, defLevels: []byte{2, 0, 0, 0, 0x03, 0b101}, numValues: 3, rows: 3, values: []int64{4, 5}}.build(),
	)
	return seeds
}

// conformanceFiles are the parquet-testing corpus's files, if it is there.
func conformanceFiles(tb testing.TB) [][]byte {
	tb.Helper()
	corpus, ok := testenv.ParquetConformance()
	if !ok {
		return nil
	}
	var out [][]byte
	for _, dir := range []string{"data", "bad_data"} {
		paths, _ := filepath.Glob(filepath.Join(corpus, dir, "*.parquet"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

func FuzzParquet(f *testing.F) {
	for _, seed := range parquetSeeds(f) {
		f.Add(seed)
	}
	for _, seed := range conformanceFiles(f) {
		f.Add(seed)
	}
	budget := tempspace.New(f.TempDir(), 4*fuzzCap)
	f.Fuzz(func(t *testing.T, data []byte) {
		const name = "s3://b/fuzz.parquet"
		obj := &memObject{name: name, data: data}
		peak := &peakAllocator{Allocator: memory.NewGoAllocator()}
		mem := memory.NewCheckedAllocator(peak)
		opts := Options{Mem: mem, BatchRows: 1024, MaxDecompressedBytes: fuzzCap, MaxCompressionRatio: 100, Temp: budget}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		schema, err := Infer(context.Background(), obj, opts)
		checkParquetErr(t, name, err)
		if err == nil {
			opts.Schema = schema
			_, err = Decode(context.Background(), obj, opts, func(rec arrow.RecordBatch) error {
				// Parquet strings are not checked for UTF-8 (neither does
				// arrow-go); every other flaw would fail a writer later.
				if err := array.ValidateRecordFull(rec); err != nil && !strings.Contains(err.Error(), "not valid utf8") {
					t.Fatalf("invalid batch: %v", err)
				}
				return nil
			})
			checkParquetErr(t, name, err)
		}
		runtime.ReadMemStats(&after)
		if goBytes := after.TotalAlloc - before.TotalAlloc; goBytes > fuzzGoBytes {
			t.Fatalf("%d bytes of Go heap allocated for a %d-byte file (error %v)", goBytes, len(data), err)
		}
		if peak.peak > fuzzArrowPeak {
			t.Fatalf("%d bytes of Arrow memory held at once for a %d-byte file (error %v)", peak.peak, len(data), err)
		}
		if n := mem.CurrentAlloc(); n != 0 {
			t.Fatalf("%d bytes of Arrow memory not released (error %v)", n, err)
		}
		if n := budget.Used(); n != 0 {
			t.Fatalf("%d bytes of temporary space not released", n)
		}
	})
}

// checkParquetErr fails unless err is nil or a permanent error naming the
// file: a bad file fails alone and says which it is.
func checkParquetErr(t *testing.T, name string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var de *DataError
	if !IsPermanent(err) || !strings.HasPrefix(err.Error(), name+": ") || errors.As(err, &de) && de.File != name {
		t.Fatalf("not a clean per-file error: %v (%T)", err, err)
	}
}
