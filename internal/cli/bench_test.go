package cli

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"golang.org/x/sync/errgroup"

	"github.com/s3load/s3load/internal/demo"
)

// End-to-end benchmarks: `s3load run` (embedded NATS, in-process workers)
// against a real versitygw, timed from start to committed tables. Run them
// with -benchtime=1x: one iteration is one full load. Sizes can be raised
// with S3LOAD_BENCH_* variables; `make bench` runs them.

func benchEnvInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func benchLoad(b *testing.B, e *loadEnv, cfg string, workers int) {
	b.Helper()
	for b.Loop() {
		code, stdout, stderr := runCLI(b, "run", "--config", cfg, "--workers", strconv.Itoa(workers), "--log-level", "warn")
		if code != ExitOK {
			b.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
	}
}

// BenchmarkLoadSmallFiles: 10,000 CSV files of ~10 KB, 2 workers.
func BenchmarkLoadSmallFiles(b *testing.B) {
	e, files := newLoadEnv(b), benchEnvInt("S3LOAD_BENCH_SMALL_FILES", 10000)
	putSmallFiles(b, e, files)
	cfg := e.writeConfig("  - { name: small, prefix: small/ }", "")
	b.ResetTimer()
	start := time.Now()
	benchLoad(b, e, cfg, benchEnvInt("S3LOAD_BENCH_SLOTS", 2))
	b.ReportMetric(float64(files*b.N)/time.Since(start).Seconds(), "files/s")
}

// putSmallFiles puts n CSV files of ~10 KB under small/, 16 at a time.
func putSmallFiles(b *testing.B, e *loadEnv, n int) {
	body := demo.WideCSV(0, 140)
	var g errgroup.Group
	g.SetLimit(16)
	for i := range n {
		g.Go(func() error {
			e.put(fmt.Sprintf("small/%05d.csv", i), body)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkLoadCSV: one large CSV, one worker: CSV MB/s per worker core.
func BenchmarkLoadCSV(b *testing.B) {
	rows := benchEnvInt("S3LOAD_BENCH_CSV_ROWS", 1_000_000)
	e := newLoadEnv(b)
	data := demo.WideCSV(0, rows)
	e.put("big/data.csv", data)
	cfg := e.writeConfig("  - { name: big, prefix: big/ }", "")
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	benchLoad(b, e, cfg, 1)
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkBigFile loads one large file with `s3load run --workers 1` as a
// child process under /usr/bin/time -v and reports its peak resident set
// size beside the throughput. (The child's own rusage would not do: a child
// exec'd from this test process inherits its large peak.) The process holds
// the embedded NATS server and the coordinator too, so the worker's own peak
// is at most this. Size: S3LOAD_BENCH_BIG_MB (default 256) of CSV, of JSON
// lines before gzip, and of CSV-equivalent rows for Parquet.
func BenchmarkBigFile(b *testing.B) {
	mb := benchEnvInt("S3LOAD_BENCH_BIG_MB", 256)
	rows := mb << 20 / 72 // the wide shape is ~72 bytes a row
	jsonRows := mb << 20 / demo.WideJSONLinesBytes
	cases := []struct {
		name, key string
		rows      int
		make      func() []byte
	}{
		{"csv", "big/data.csv", rows, func() []byte { return demo.WideCSV(0, rows) }},
		{"jsonl.gz", "big/data.jsonl.gz", jsonRows, func() []byte { return gzJSONLines(b, jsonRows) }},
		{"parquet", "big/data.parquet", rows, func() []byte { return wideParquet(b, rows) }},
	}
	bin := s3loadBinary(b)
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			e := newLoadEnv(b)
			data := tc.make()
			e.put(tc.key, data)
			cfg := e.writeConfig("  - { name: big, prefix: big/ }", "")
			b.SetBytes(int64(len(data)))
			timedRuns(b, bin, cfg, 1, tc.rows)
		})
	}
}

// gzJSONLines gzips n rows of JSON lines a million at a time: gigabytes of
// JSON never sit in memory at once.
func gzJSONLines(b *testing.B, n int) []byte {
	b.Helper()
	var out bytes.Buffer
	w, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err != nil {
		b.Fatal(err)
	}
	for first := 0; first < n; first += 1 << 20 {
		if _, err := w.Write(demo.WideJSONLines(first, min(1<<20, n-first))); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return out.Bytes()
}

// BenchmarkSplitFile loads one big CSV (S3LOAD_BENCH_SPLIT_MB, default
// 2048) split into 256 MiB ranges with one and with two workers, each run
// a child `s3load run` under /usr/bin/time -v: the speed-up of the second
// worker on one file, and the peak RSS.
func BenchmarkSplitFile(b *testing.B) {
	mb := benchEnvInt("S3LOAD_BENCH_SPLIT_MB", 2048)
	rows := mb << 20 / 77 // the wide shape at these ids is ~77 bytes a row
	e := newLoadEnv(b)
	data := demo.WideCSV(0, rows)
	e.put("big/data.csv", data)
	cfg := e.writeConfig("  - { name: big, prefix: big/ }", "")
	bin := s3loadBinary(b)
	for _, workers := range []int{1, 2} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			timedRuns(b, bin, cfg, workers, rows)
		})
	}
}

// timedRuns runs `s3load run --workers n` as a child under /usr/bin/time -v
// once per iteration and reports its peak RSS, the cores it used and rows/s.
func timedRuns(b *testing.B, bin, cfg string, workers, rows int) {
	b.Helper()
	var peakKB, cpuPct int64
	for b.Loop() {
		out, err := exec.Command("/usr/bin/time", "-v", bin, "run", "--config", cfg, "--workers", strconv.Itoa(workers), "--log-level", "warn").CombinedOutput()
		if err != nil {
			b.Fatalf("/usr/bin/time -v s3load run (Debian package: time): %v\n%s", err, out)
		}
		peakKB = max(peakKB, maxRSS(b, out))
		cpuPct = max(cpuPct, timeField(b, out, "Percent of CPU this job got:"))
	}
	b.ReportMetric(float64(peakKB)/1024, "peak-RSS-MB")
	b.ReportMetric(float64(cpuPct)/100, "cores-used")
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// maxRSS reads "Maximum resident set size (kbytes): N" from time -v.
func maxRSS(b *testing.B, out []byte) int64 {
	return timeField(b, out, "Maximum resident set size (kbytes):")
}

// timeField reads one number labelled label from time -v's output.
func timeField(b *testing.B, out []byte, label string) int64 {
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), label); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), "%"), 10, 64)
			if err == nil {
				return n
			}
		}
	}
	b.Fatalf("no %q in:\n%s", label, out)
	return 0
}

// wideParquet writes the wide shape as one Parquet file with row groups of
// 4 Mi rows: large row groups are what stress a reader's memory.
func wideParquet(b *testing.B, n int) []byte {
	b.Helper()
	schema := demo.WideSchema()
	var out bytes.Buffer
	w, err := pqarrow.NewFileWriter(schema, &out, parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy), parquet.WithMaxRowGroupLength(4<<20)), pqarrow.DefaultWriterProps())
	if err != nil {
		b.Fatal(err)
	}
	for first := 0; first < n; first += 1 << 16 {
		bld := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		demo.AppendWide(bld, first, min(1<<16, n-first))
		rec := bld.NewRecordBatch()
		if err := w.WriteBuffered(rec); err != nil {
			b.Fatal(err)
		}
		rec.Release()
		bld.Release()
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	return out.Bytes()
}

// BenchmarkTableFormat loads the same files as plain Parquet and as an
// Iceberg table, alternating, S3LOAD_BENCH_PAIRS times (default 5), and
// reports the median of the per-pair ratios Iceberg time / Parquet time:
// what the Iceberg commit protocol (write schema conversion, part stats,
// metadata writes) costs end to end. Files: S3LOAD_BENCH_FORMAT_FILES
// (default 8) CSV files of S3LOAD_BENCH_FORMAT_ROWS rows (default 200,000).
func BenchmarkTableFormat(b *testing.B) {
	files := benchEnvInt("S3LOAD_BENCH_FORMAT_FILES", 8)
	rows := benchEnvInt("S3LOAD_BENCH_FORMAT_ROWS", 200_000)
	pairs := benchEnvInt("S3LOAD_BENCH_PAIRS", 5)
	e := newLoadEnv(b)
	var size int64
	for i := range files {
		data := demo.WideCSV(i*rows, rows)
		size += int64(len(data))
		e.put(fmt.Sprintf("t/%02d.csv", i), data)
	}
	table := "  - { name: t, prefix: t/ }"
	plain := e.writeConfig(table, "table_format: parquet")
	ice := e.writeConfig(table, "table_format: iceberg\nnamespace: bench")
	run := func(cfg string) time.Duration {
		start := time.Now()
		code, stdout, stderr := runCLI(b, "run", "--config", cfg, "--log-level", "warn")
		if code != ExitOK {
			b.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		return time.Since(start)
	}
	run(plain) // warm the server's page cache and the file systems
	run(ice)
	b.ResetTimer()
	for b.Loop() {
		var ratios []float64
		var tp, ti []time.Duration
		for range pairs {
			p, i := run(plain), run(ice)
			tp, ti = append(tp, p), append(ti, i)
			ratios = append(ratios, i.Seconds()/p.Seconds())
		}
		sort.Float64s(ratios)
		b.ReportMetric(ratios[len(ratios)/2], "iceberg/parquet")
		b.ReportMetric(ratios[0], "ratio-min")
		b.ReportMetric(ratios[len(ratios)-1], "ratio-max")
		b.ReportMetric(float64(size)/1e6/medianDuration(tp).Seconds(), "parquet-MB/s")
		b.ReportMetric(float64(size)/1e6/medianDuration(ti).Seconds(), "iceberg-MB/s")
	}
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
