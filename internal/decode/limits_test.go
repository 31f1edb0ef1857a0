package decode

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/s3load/s3load/internal/tempspace"
)

func TestLimitFor(t *testing.T) {
	const mib = 1 << 20
	tests := []struct {
		name       string
		compressed int64
		maxBytes   int64
		ratio      int
		want       decompressLimit
	}{
		{"both off", 1 << 30, 0, 0, decompressLimit{}},
		{"ratio floor for a small file", 1000, 0, 100, decompressLimit{RatioFloorBytes, knobMaxRatio}},
		{"ratio above the floor", 10 * mib, 0, 100, decompressLimit{1000 * mib, knobMaxRatio}},
		{"bytes below the ratio", 10 * mib, 100 * mib, 100, decompressLimit{100 * mib, knobMaxDecompressed}},
		{"bytes below the floor", 1000, mib, 100, decompressLimit{mib, knobMaxDecompressed}},
		{"ratio below bytes", 10 * mib, 1 << 40, 100, decompressLimit{1000 * mib, knobMaxRatio}},
		{"bytes only", 10, 5 * mib, 0, decompressLimit{5 * mib, knobMaxDecompressed}},
		{"ratio overflows", math.MaxInt64 / 2, 0, 100, decompressLimit{math.MaxInt64, knobMaxRatio}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := limitFor(tc.compressed, tc.maxBytes, tc.ratio); got != tc.want {
				t.Errorf("limitFor(%d, %d, %d) = %+v, want %+v", tc.compressed, tc.maxBytes, tc.ratio, got, tc.want)
			}
		})
	}
}

// repeated is n copies of block.
func repeated(block []byte, n int) []byte { return bytes.Repeat(block, n) }

// gzipBomb is a gzip file of members, each member unit compressed, which
// expands to times × len(unit) bytes.
func gzipBomb(t *testing.T, unit []byte, times int) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	w.Write(unit)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return repeated(buf.Bytes(), times)
}

// zstdBomb is a zstd file of frames, each frame unit compressed.
func zstdBomb(t *testing.T, unit []byte, times int) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return repeated(enc.EncodeAll(unit, nil), times)
}

// bzip2Of compresses r with the bzip2 command: Go has no bzip2 writer.
func bzip2Of(t *testing.T, r io.Reader) []byte {
	t.Helper()
	if _, err := exec.LookPath("bzip2"); err != nil {
		t.Fatalf("the bzip2 command is needed to build the bzip2 bomb: %v", err)
	}
	cmd := exec.Command("bzip2", "-9", "-c")
	cmd.Stdin = r
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bzip2: %v", err)
	}
	return out
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// bzip2Bomb is "PAR1" and then zeros, times × 8 MiB of them, as
// concatenated bzip2 streams: a tiny .parquet.bz2 that expands to gigabytes.
func bzip2Bomb(t *testing.T, times int) []byte {
	t.Helper()
	const unit = 8 << 20
	first := bzip2Of(t, io.MultiReader(strings.NewReader("PAR1"), io.LimitReader(zeros{}, unit-4)))
	rest := bzip2Of(t, io.LimitReader(zeros{}, unit))
	return append(first, repeated(rest, times-1)...)
}

// TestDecompressionBombs checks that a small file expanding far past its
// cap fails with a permanent LimitError as soon as it passes the cap.
func TestDecompressionBombs(t *testing.T) {
	const mib = 1 << 20
	csvRows := repeated([]byte("1,abc,2024-01-02\n"), 64<<10) // ~1 MiB
	jsonRows := repeated([]byte(`{"a":1,"b":"abc"}`+"\n"), 64<<10)
	pqBomb := bzip2Bomb(t, 32)
	tests := []struct {
		name     string
		file     string
		data     []byte
		expands  int64
		maxBytes int64
		ratio    int
		knob     string
		budget   int64 // temporary disk, smaller than the bomb
	}{
		{"csv.gz over max bytes", "s3://b/bomb.csv.gz", gzipBomb(t, csvRows, 1024), 1024 * int64(len(csvRows)), 4 * mib, 100, knobMaxDecompressed, 16 * mib},
		{"jsonl.zst over max bytes", "s3://b/bomb.jsonl.zst", zstdBomb(t, jsonRows, 1024), 1024 * int64(len(jsonRows)), 4 * mib, 0, knobMaxDecompressed, 16 * mib},
		{"parquet.bz2 over max bytes", "s3://b/bomb.parquet.bz2", pqBomb, 32 * 8 * mib, 8 * mib, 100, knobMaxDecompressed, 16 * mib},
		// The ratio's floor lets any file reach 64 MiB: spooling that is
		// quicker than parsing it as CSV.
		{"parquet.bz2 over the ratio", "s3://b/bomb.parquet.bz2", pqBomb, 32 * 8 * mib, 0, 10, knobMaxRatio, 128 * mib},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			budget := tempspace.New(dir, tc.budget)
			opts := Options{CSV: CSVOptions{Header: true}, MaxDecompressedBytes: tc.maxBytes, MaxCompressionRatio: tc.ratio, Temp: budget}
			start := time.Now()
			res := decodeAll(t, &memObject{name: tc.file, data: tc.data}, opts)
			elapsed := time.Since(start)
			if !IsPermanent(res.err) || !errors.Is(res.err, ErrLimit) {
				t.Fatalf("error %v: want a permanent ErrLimit", res.err)
			}
			le := mustErrAs[*LimitError](t, res.err)
			t.Logf("%d compressed bytes expanding to %d: stopped after %d decompressed bytes (cap %d) in %v: %v",
				len(tc.data), tc.expands, le.Read, le.Limit, elapsed.Round(time.Millisecond), res.err)
			wantLimit := limitFor(int64(len(tc.data)), tc.maxBytes, tc.ratio).max
			if le.Knob != tc.knob || le.Limit != wantLimit || le.Compressed != int64(len(tc.data)) {
				t.Errorf("LimitError %+v: want knob %s, limit %d", le, tc.knob, wantLimit)
			}
			// As soon as it passes: within one decompressor read of the cap.
			if le.Read <= le.Limit || le.Read > le.Limit+spoolBuffer+streamBuffer {
				t.Errorf("stopped after %d bytes, cap %d", le.Read, le.Limit)
			}
			for _, want := range []string{tc.file + ": ", string(sniffCompression(tc.data)), tc.knob} {
				if !strings.Contains(res.err.Error(), want) {
					t.Errorf("error %q does not mention %q", res.err, want)
				}
			}
			if used := budget.Used(); used != 0 {
				t.Errorf("temporary budget still holds %d bytes", used)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
				t.Errorf("temporary files left behind: %v", left)
			}
		})
	}
}

// TestLimitsAtTheBoundary checks that a compressed file decompressing to
// exactly its cap decodes, and one byte less of cap refuses it, in every
// format and compression; and that uncompressed text has no cap.
func TestLimitsAtTheBoundary(t *testing.T) {
	for _, file := range []string{"golden.csv", "golden.jsonl", "golden.parquet"} {
		plain := readTestdata(t, file)
		variants := []struct {
			ext  string
			data []byte
		}{
			{".gz", gzipMembers(t, plain)},
			{".zst", zstdOf(t, plain)},
			{".bz2", readTestdata(t, file+".bz2")},
		}
		for _, v := range variants {
			t.Run(file+v.ext, func(t *testing.T) {
				dir := t.TempDir()
				budget := tempspace.New(dir, int64(len(plain)))
				obj := &memObject{name: "s3://b/" + file + v.ext, data: v.data}
				opts := Options{CSV: CSVOptions{Header: true}, MaxDecompressedBytes: int64(len(plain)), Temp: budget}
				if res := decodeAll(t, obj, opts); res.err != nil || len(res.rows) != len(goldenRows) {
					t.Fatalf("at the cap: %d rows, error %v", len(res.rows), res.err)
				}
				opts.MaxDecompressedBytes--
				res := decodeAll(t, obj, opts)
				if le := mustErrAs[*LimitError](t, res.err); le.Limit != int64(len(plain))-1 || !IsPermanent(res.err) {
					t.Errorf("one byte over: %v", res.err)
				}
				if budget.Used() != 0 {
					t.Errorf("temporary budget still holds %d bytes", budget.Used())
				}
			})
		}
		if file == "golden.parquet" {
			continue // Parquet's pages and rows count as decompressed (TestHostileParquet)
		}
		t.Run(file+" uncompressed", func(t *testing.T) {
			res := decodeAll(t, &memObject{name: "s3://b/" + file, data: plain}, Options{CSV: CSVOptions{Header: true}, MaxDecompressedBytes: 1})
			if res.err != nil {
				t.Fatal(res.err)
			}
		})
	}
}

// TestParquetSpoolBudget checks the two ways a temporary budget too small
// for a decompressed Parquet file fails, and that neither leaves a file.
func TestParquetSpoolBudget(t *testing.T) {
	plain := readTestdata(t, "golden.parquet")
	obj := &memObject{name: "s3://b/k.parquet.gz", data: gzipMembers(t, plain)}
	size := int64(len(plain))

	t.Run("alone over the budget is permanent", func(t *testing.T) {
		dir := t.TempDir()
		budget := tempspace.New(dir, size-1)
		res := decodeAll(t, obj, Options{Temp: budget})
		if !errors.Is(res.err, tempspace.ErrFull) || !IsPermanent(res.err) {
			t.Fatalf("error %v: want a permanent ErrFull", res.err)
		}
		if !strings.HasPrefix(res.err.Error(), obj.name+": ") || !strings.Contains(res.err.Error(), "raise limits.max_temp_bytes") {
			t.Errorf("error %q", res.err)
		}
		checkNoTempFiles(t, dir, budget)
	})

	t.Run("others holding the budget is transient", func(t *testing.T) {
		dir := t.TempDir()
		budget := tempspace.New(dir, size+10)
		other, err := budget.Create("other-*")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Write(make([]byte, 20)); err != nil {
			t.Fatal(err)
		}
		res := decodeAll(t, obj, Options{Temp: budget})
		if !errors.Is(res.err, tempspace.ErrFull) || IsPermanent(res.err) {
			t.Fatalf("error %v: want a transient ErrFull", res.err)
		}
		if !strings.HasPrefix(res.err.Error(), obj.name+": ") {
			t.Errorf("error %q does not name the file", res.err)
		}
		if budget.Used() != 20 {
			t.Errorf("budget holds %d bytes, want the other file's 20", budget.Used())
		}
		if err := other.Remove(); err != nil {
			t.Fatal(err)
		}
		// With the space back, the same file loads.
		if res := decodeAll(t, obj, Options{Temp: budget}); res.err != nil {
			t.Fatal(res.err)
		}
		checkNoTempFiles(t, dir, budget)
	})

	t.Run("a panic while spooling removes the file", func(t *testing.T) {
		dir := t.TempDir()
		budget := tempspace.New(dir, 0)
		gz := gzipBomb(t, repeated([]byte{0}, 1<<20), 4)
		obj := &panicObject{memObject: memObject{name: "s3://b/p.parquet.gz", data: gz}, after: len(gz) / 2}
		res := decodeAll(t, obj, Options{Temp: budget})
		if !IsPermanent(res.err) || !strings.Contains(res.err.Error(), "decoder panic: stream exploded") {
			t.Fatalf("error %v", res.err)
		}
		checkNoTempFiles(t, dir, budget)
	})

	t.Run("a cancelled context stops spooling", func(t *testing.T) {
		dir := t.TempDir()
		budget := tempspace.New(dir, 0)
		ctx, cancel := context.WithCancel(context.Background())
		gz := gzipBomb(t, repeated([]byte{0}, 1<<20), 64)
		obj := &cancelObject{memObject: memObject{name: "s3://b/c.parquet.gz", data: gz}, cancel: cancel, after: len(gz) / 2}
		_, err := Decode(ctx, obj, Options{Temp: budget}, func(arrow.RecordBatch) error { return nil })
		if !errors.Is(err, context.Canceled) || IsPermanent(err) {
			t.Fatalf("error %v", err)
		}
		checkNoTempFiles(t, dir, budget)
	})
}

func checkNoTempFiles(t *testing.T, dir string, budget *tempspace.Budget) {
	t.Helper()
	if used := budget.Used(); used != 0 {
		t.Errorf("temporary budget still holds %d bytes", used)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

// panicObject's stream panics after some bytes, as a buggy decompressor or
// network stack might.
type panicObject struct {
	memObject
	after int
}

func (o *panicObject) Open(ctx context.Context) (io.ReadCloser, error) {
	return io.NopCloser(io.MultiReader(bytes.NewReader(o.data[:o.after]), panicReader{})), nil
}

type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("stream exploded") }

// cancelObject cancels its caller's context after some bytes of its stream.
type cancelObject struct {
	memObject
	cancel func()
	after  int
}

func (o *cancelObject) Open(ctx context.Context) (io.ReadCloser, error) {
	return io.NopCloser(io.MultiReader(bytes.NewReader(o.data[:o.after]), cancelReader{o.cancel, bytes.NewReader(o.data[o.after:])})), nil
}

type cancelReader struct {
	cancel func()
	r      io.Reader
}

func (c cancelReader) Read(p []byte) (int, error) {
	c.cancel()
	return c.r.Read(p)
}

// TestDefaultTempDir checks that without a budget the spool goes to the
// system's temporary directory and is removed.
func TestDefaultTempDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir)
	obj := &memObject{name: "s3://b/k.parquet.zst", data: zstdOf(t, readTestdata(t, "golden.parquet"))}
	if res := decodeAll(t, obj, Options{}); res.err != nil {
		t.Fatal(res.err)
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
