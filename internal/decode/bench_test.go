package decode

// Benchmarks of the text decoders against the stock arrow-go readers on
// the same generated data in the same run. Run them one core at a time
// and repeat them, then compare with benchstat:
//
//	go test -run '^$' -bench . -cpu 1 -count 6 ./internal/decode/ > new.txt
//	bin/benchstat -col /impl new.txt
//
// (make bench does this.) Each reports MB/s of input (b.SetBytes), rows/s
// and allocs/row; the sub-benchmark key impl=s3load|stock lets benchstat
// put the two side by side.

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"github.com/s3load/s3load/internal/demo"
)

// measure runs op in b.Loop and reports MB/s of size bytes, rows/s and
// allocations per row. op returns the rows it decoded.
//
// It also reports cpu-MB/s: size over the CPU time the process spent
// (user and system, all threads, the garbage collector's included). On a
// shared machine wall time also counts the time other processes held the
// core; CPU time does not, so ratios of cpu-MB/s vary less between runs.
func measure(b *testing.B, size int64, op func() (int64, error)) {
	b.Helper()
	b.SetBytes(size)
	b.ReportAllocs()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0 := cpuSeconds()
	var rows int64
	for b.Loop() {
		n, err := op()
		if err != nil {
			b.Fatal(err)
		}
		rows += n
	}
	cpu := cpuSeconds() - cpu0
	runtime.ReadMemStats(&after)
	if cpu > 0 {
		b.ReportMetric(float64(size)*float64(b.N)/cpu/1e6, "cpu-MB/s")
	}
	if rows > 0 {
		b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows), "allocs/row")
	}
}

// cpuSeconds is the CPU time the process has used.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// discard is an emit that keeps nothing, as a Parquet writer would after
// encoding the batch.
func discard(arrow.RecordBatch) {}

func BenchmarkCSV(b *testing.B) {
	data := wideCSV(benchGen())
	schema := wideSchema()
	mem := memory.DefaultAllocator
	b.Run("impl=s3load", func(b *testing.B) {
		measure(b, int64(len(data)), func() (int64, error) {
			return decodeOurs("bench.csv", data, schema, true, mem, discard)
		})
	})
	b.Run("impl=stock", func(b *testing.B) {
		measure(b, int64(len(data)), func() (int64, error) {
			return drainStock(stockCSVReader(bytes.NewReader(data), schema, mem), discard)
		})
	})
}

// BenchmarkCSVInfer is the same file without a declared schema: the
// sample is read, kept and decoded too (the coordinator's first file).
func BenchmarkCSVInfer(b *testing.B) {
	data := wideCSV(benchGen())
	b.Run("impl=s3load", func(b *testing.B) {
		measure(b, int64(len(data)), func() (int64, error) {
			return decodeOurs("bench.csv", data, nil, true, memory.DefaultAllocator, discard)
		})
	})
}

// BenchmarkJSON decodes JSON lines of the same rows, with nulls and
// missing keys but no escaped strings: see BenchmarkJSONEscapes.
func BenchmarkJSON(b *testing.B) {
	g := benchGen()
	g.quotes = false
	benchJSON(b, wideJSON(g))
}

// BenchmarkJSONEscapes has an escaped string in one row of 61. The stock
// reader's decoder (goccy/go-json's stream decoder) moves its whole
// buffer for each escape, so its time grows with the square of the file:
// this file has 100,000 rows, not a million.
func BenchmarkJSONEscapes(b *testing.B) {
	g := benchGen()
	g.rows = 100_000
	benchJSON(b, wideJSON(g))
}

func benchJSON(b *testing.B, data []byte) {
	schema := wideSchema()
	mem := memory.DefaultAllocator
	b.Run("impl=s3load", func(b *testing.B) {
		measure(b, int64(len(data)), func() (int64, error) {
			return decodeOurs("bench.jsonl", data, schema, false, mem, discard)
		})
	})
	b.Run("impl=stock", func(b *testing.B) {
		measure(b, int64(len(data)), func() (int64, error) {
			return drainStock(stockJSONReader(bytes.NewReader(data), schema, mem), discard)
		})
	})
}

// compressed returns data gzip'd and zstd'd at their default levels.
func compressed(b *testing.B, data []byte) map[string][]byte {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(data)
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	return map[string][]byte{"gzip": gz.Bytes(), "zstd": enc.EncodeAll(data, nil)}
}

// BenchmarkCSVCompressed decodes the CSV through each compression. MB/s
// are of the uncompressed CSV, so they compare with BenchmarkCSV and with
// BenchmarkDecompress, which is the ceiling: decompression alone.
func BenchmarkCSVCompressed(b *testing.B) {
	data := wideCSV(benchGen())
	schema := wideSchema()
	mem := memory.DefaultAllocator
	comps := compressed(b, data)
	for _, codec := range []string{"gzip", "zstd"} {
		comp := comps[codec]
		name := "bench.csv.gz"
		if codec == "zstd" {
			name = "bench.csv.zst"
		}
		b.Run("codec="+codec+"/impl=s3load", func(b *testing.B) {
			measure(b, int64(len(data)), func() (int64, error) {
				return decodeOurs(name, comp, schema, true, mem, discard)
			})
		})
		b.Run("codec="+codec+"/impl=stock", func(b *testing.B) {
			measure(b, int64(len(data)), func() (int64, error) {
				r, closeFn, err := decompressor(codec, comp)
				if err != nil {
					return 0, err
				}
				defer closeFn()
				return drainStock(stockCSVReader(r, schema, mem), discard)
			})
		})
	}
}

// BenchmarkDecompress is decompression alone into io.Discard, with the
// readers Decode uses: the most a compressed file can decode at.
func BenchmarkDecompress(b *testing.B) {
	data := wideCSV(benchGen())
	comps := compressed(b, data)
	for _, codec := range []string{"gzip", "zstd"} {
		comp := comps[codec]
		b.Run("codec="+codec, func(b *testing.B) {
			measure(b, int64(len(data)), func() (int64, error) {
				r, closeFn, err := decompressor(codec, comp)
				if err != nil {
					return 0, err
				}
				defer closeFn()
				_, err = io.Copy(io.Discard, r)
				return 0, err
			})
		})
	}
}

func decompressor(codec string, comp []byte) (io.Reader, func(), error) {
	if codec == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(comp))
		if err != nil {
			return nil, nil, err
		}
		return zr, func() { zr.Close() }, nil
	}
	zr, err := zstd.NewReader(bytes.NewReader(comp), zstd.WithDecoderConcurrency(1))
	if err != nil {
		return nil, nil, err
	}
	return zr, zr.Close, nil
}

// BenchmarkCSVSmallFile decodes one 10 KB file (130 rows), the many
// small files case: per-file costs (buffers, batch setup) dominate.
func BenchmarkCSVSmallFile(b *testing.B) {
	g := benchGen()
	g.rows = 130
	data := wideCSV(g)
	schema := wideSchema()
	mem := memory.DefaultAllocator
	b.Run("impl=s3load", func(b *testing.B) {
		measure(b, int64(len(data)), func() (int64, error) {
			return decodeOurs("bench.csv", data, schema, true, mem, discard)
		})
	})
	b.Run("impl=stock", func(b *testing.B) {
		measure(b, int64(len(data)), func() (int64, error) {
			return drainStock(stockCSVReader(bytes.NewReader(data), schema, mem), discard)
		})
	})
}

// BenchmarkInferSmallFile: the pre-flight's probe of one small CSV file
// with nothing declared (dialect, header and types detected), as every
// file of a small-files table is probed.
func BenchmarkInferSmallFile(b *testing.B) {
	data := demo.WideCSV(0, 140)
	for b.Loop() {
		obj := ReaderObject("small.csv", bytes.NewReader(data), int64(len(data)))
		// What a table that sets no csv: options gets (internal/cli/build.go).
		opts := Options{CSV: CSVOptions{Delimiter: ',', Quote: '"', Header: true, Detect: CSVDetect{Delimiter: true, Quote: true, Header: true}}}
		if _, err := Infer(context.Background(), obj, opts); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadSmallJSONFile: the load of one small JSON lines file (100
// rows, ~14 KB) of a table whose schema is known, read as an object is:
// the reader sizes its buffer by the object.
func BenchmarkLoadSmallJSONFile(b *testing.B) {
	data := demo.WideJSONLines(0, 100)
	opts := Options{Schema: demo.WideSchema(), Mem: memory.DefaultAllocator}
	measure(b, int64(len(data)), func() (int64, error) {
		return Decode(context.Background(), &memObject{name: "small.json", data: data}, opts, func(arrow.RecordBatch) error { return nil })
	})
}

// BenchmarkLoadSmallFile: the load of one small CSV file of a table whose
// dialect was detected (the schema carries it), as every file of a
// small-files table is loaded after its pre-flight: the table's dialect
// is checked against the file's start, then the file is decoded.
func BenchmarkLoadSmallFile(b *testing.B) {
	data := demo.WideCSV(0, 140)
	// What a table that sets no csv: options gets (internal/cli/build.go).
	csv := CSVOptions{Delimiter: ',', Quote: '"', Header: true, Detect: CSVDetect{Delimiter: true, Quote: true, Header: true}}
	schema, err := Infer(context.Background(), ReaderObject("small.csv", bytes.NewReader(data), int64(len(data))), Options{CSV: csv})
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Schema: schema, CSV: csv, Mem: memory.DefaultAllocator}
	measure(b, int64(len(data)), func() (int64, error) {
		return Decode(context.Background(), &memObject{name: "small.csv", data: data}, opts, func(arrow.RecordBatch) error { return nil })
	})
}
