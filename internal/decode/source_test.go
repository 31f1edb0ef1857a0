package decode

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

var goldenRows = []string{
	"1|alice|1.5|true|2024-01-02",
	"2|bob, jr|2.25|false|2024-02-03",
	"3|null|null|null|null",
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gzipMembers compresses data as two gzip members, as concatenating
// gzipped files does.
func gzipMembers(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	half := len(data) / 2
	for _, part := range [][]byte{data[:half], data[half:]} {
		w := gzip.NewWriter(&buf)
		w.Write(part)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func zstdOf(t *testing.T, data []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(data, nil)
}

// TestGoldenFormatsAndCompressions decodes the same table from every
// format in every compression.
func TestGoldenFormatsAndCompressions(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // .parquet.bz2 etc. go through a temp file
	formats := []struct{ file, ext string }{
		{"golden.csv", ".csv"},
		{"golden.jsonl", ".jsonl"},
		{"golden.parquet", ".parquet"},
	}
	for _, f := range formats {
		plain := readTestdata(t, f.file)
		variants := []struct {
			comp Compression
			ext  string
			data []byte
		}{
			{CompressionNone, "", plain},
			{CompressionGzip, ".gz", gzipMembers(t, plain)},
			{CompressionZstd, ".zst", zstdOf(t, plain)},
			{CompressionBzip2, ".bz2", readTestdata(t, f.file+".bz2")},
		}
		for _, v := range variants {
			t.Run(f.file+v.ext, func(t *testing.T) {
				obj := &memObject{name: "s3://b/golden" + f.ext + v.ext, data: v.data}
				opts := Options{CSV: CSVOptions{Header: true}}
				s, err := Infer(context.Background(), obj, opts)
				if err != nil {
					t.Fatalf("Infer: %v", err)
				}
				// JSON infers dates from ISO-8601 strings as CSV does.
				wantTypes := "id:int64,name:utf8,amount:float64,ok:bool,day:date32"
				if got := typesOf(s); got != wantTypes {
					t.Errorf("types %s, want %s", got, wantTypes)
				}
				for _, schema := range []*arrow.Schema{nil, s} {
					opts.Schema = schema
					res := decodeAll(t, obj, opts)
					if res.err != nil {
						t.Fatalf("Decode: %v", res.err)
					}
					if strings.Join(res.rows, "\n") != strings.Join(goldenRows, "\n") {
						t.Errorf("rows\n got %q\nwant %q", res.rows, goldenRows)
					}
				}
			})
		}
	}
	if left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "*")); len(left) > 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}

func TestMislabelledFiles(t *testing.T) {
	csv := readTestdata(t, "golden.csv")
	pq := readTestdata(t, "golden.parquet")
	js := readTestdata(t, "golden.jsonl")
	ok := []struct {
		name string
		data []byte
		opts Options
	}{
		{"s3://b/x.csv", gzipMembers(t, csv), Options{}},                            // gzip without .gz
		{"s3://b/x.csv.gz", csv, Options{}},                                         // .gz that is plain
		{"s3://b/x.csv.bz2", zstdOf(t, csv), Options{}},                             // wrong extension
		{"s3://b/x.csv", zstdOf(t, csv), Options{Compression: CompressionGzip}},     // wrong option
		{"s3://b/x", pq, Options{}},                                                 // no extension: PAR1
		{"s3://b/x.dat", js, Options{}},                                             // unknown extension: JSON by content
		{"s3://b/x.dat", csv, Options{Format: FormatCSV}},                           // format given
		{"s3://b/x.bin", gzipMembers(t, pq), Options{Format: FormatParquet}},        // compressed parquet, no hints
		{"s3://b/X.CSV.GZ", gzipMembers(t, csv), Options{}},                         // case-insensitive extensions
		{"s3://b/x.json", gzipMembers(t, pq), Options{Format: FormatParquet}},       // option beats extension
		{"s3://b/x.parquet", pq, Options{Format: "", Compression: CompressionNone}}, // plain
	}
	for _, tc := range ok {
		t.Run("ok "+tc.name, func(t *testing.T) {
			tc.opts.CSV.Header = true
			res := decodeAll(t, &memObject{name: tc.name, data: tc.data}, tc.opts)
			if res.err != nil {
				t.Fatal(res.err)
			}
			if strings.Join(res.rows, "\n") != strings.Join(goldenRows, "\n") {
				t.Errorf("rows %q", res.rows)
			}
		})
	}
	bad := []struct {
		name string
		data []byte
		opts Options
		msg  string
	}{
		{"s3://b/x.csv", pq, Options{}, "content looks like Parquet, not csv"},
		{"s3://b/x.json.gz", gzipMembers(t, pq), Options{}, "content looks like Parquet, not json"},
		{"s3://b/x.parquet", csv, Options{}, "not a Parquet file: it does not start with PAR1"},
		{"s3://b/x.parquet", pq[:len(pq)-3], Options{}, "does not end with PAR1"},
		{"s3://b/x.parquet", []byte("PAR"), Options{}, "not a Parquet file"},
		{"s3://b/x.parquet.gz", gzipMembers(t, csv), Options{}, "not a Parquet file"},
		{"s3://b/x.dat", csv, Options{}, "cannot tell the format"},
		{"s3://b/x.csv", csv, Options{Format: "xml"}, `unknown format "xml"`},
	}
	for _, tc := range bad {
		t.Run("bad "+tc.name, func(t *testing.T) {
			res := decodeAll(t, &memObject{name: tc.name, data: tc.data}, tc.opts)
			mustErrAs[*DataError](t, res.err)
			if !strings.Contains(res.err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", res.err, tc.msg)
			}
		})
	}
}

func TestCorruptCompression(t *testing.T) {
	csv := readTestdata(t, "golden.csv")
	gz := gzipMembers(t, csv)
	badSum := bytes.Clone(gz)
	badSum[len(badSum)-6] ^= 0xff // CRC of the last member
	tests := []struct {
		name string
		data []byte
		msg  string
	}{
		{"truncated gzip", gz[:len(gz)-10], "decompressing gzip: unexpected EOF"},
		{"truncated gzip header", gz[:5], "decompressing gzip: unexpected EOF"},
		{"gzip checksum", badSum, "decompressing gzip"},
		{"truncated zstd", zstdOf(t, csv)[:20], "decompressing zstd"},
		{"corrupt bzip2", append(readTestdata(t, "golden.csv.bz2")[:30], make([]byte, 40)...), "decompressing bzip2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := decodeAll(t, &memObject{name: "s3://b/x.csv.gz", data: tc.data}, Options{CSV: CSVOptions{Header: true}})
			mustErrAs[*DataError](t, res.err)
			if !strings.Contains(res.err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", res.err, tc.msg)
			}
		})
	}
}

var errNetwork = errors.New("connection reset by peer")

// TestObjectErrorsStayRecognisable checks that a failing Object's error
// reaches the caller wrapped, not as a DataError, whichever decoder was
// reading when it happened.
func TestObjectErrorsStayRecognisable(t *testing.T) {
	csv := bytes.Repeat([]byte("a,b\n1,2\n"), 50_000)
	js := bytes.Repeat([]byte(`{"a":1}`+"\n"), 50_000)
	pq := readTestdata(t, "golden.parquet")
	tests := []struct {
		name   string
		obj    *memObject
		detect bool // the CSV dialect detected: the file's reader starts from the detection's sample
	}{
		// Infer is checked too where the failure lies within its sample.
		{"open", &memObject{name: "s3://b/k.csv", data: csv, openErr: errNetwork}, false},
		{"csv mid-stream", &memObject{name: "s3://b/k.csv", data: csv, streamErr: errNetwork, failAfter: 100_003}, false},
		{"csv mid-stream in a quote", &memObject{name: "s3://b/k.csv", data: []byte("a\n\"" + strings.Repeat("x", 1<<20)), streamErr: errNetwork, failAfter: 600_000}, false},
		{"gzip csv mid-stream", &memObject{name: "s3://b/k.csv.gz", data: gzipMembers(t, csv), streamErr: errNetwork, failAfter: 500}, false},
		{"detected csv mid-stream", &memObject{name: "s3://b/k.csv", data: csv, streamErr: errNetwork, failAfter: 100_003}, true},
		{"detected csv just past the sample", &memObject{name: "s3://b/k.csv", data: csv, streamErr: errNetwork, failAfter: detectBytes + 1}, true},
		{"detected csv in the sample", &memObject{name: "s3://b/k.csv", data: csv, streamErr: errNetwork, failAfter: 10}, true},
		{"detected small csv in the sample", &memObject{name: "s3://b/k.csv", data: csv[:1000], streamErr: errNetwork, failAfter: 10}, true},
		{"detected csv in the sample, said once", &memObject{name: "s3://b/k.csv", data: csv, streamErr: errNetwork, failAfter: 10, errOnce: true}, true},
		{"detected small csv in the sample, said once", &memObject{name: "s3://b/k.csv", data: csv[:1000], streamErr: errNetwork, failAfter: 10, errOnce: true}, true},
		{"csv mid-stream, said once", &memObject{name: "s3://b/k.csv", data: csv, streamErr: errNetwork, failAfter: 100_003, errOnce: true}, false},
		{"csv in the sniffed start, said once", &memObject{name: "s3://b/k.csv", data: csv, streamErr: errNetwork, failAfter: 2, errOnce: true}, false},
		{"json in the sample, said once", &memObject{name: "s3://b/k.json", data: js, streamErr: errNetwork, failAfter: 10, errOnce: true}, false},
		{"json mid-stream", &memObject{name: "s3://b/k.json", data: js, streamErr: errNetwork, failAfter: 70_001}, false},
		{"json in the sample", &memObject{name: "s3://b/k.json", data: js, streamErr: errNetwork, failAfter: 10}, false},
		{"zstd json at start", &memObject{name: "s3://b/k.json.zst", data: zstdOf(t, js), streamErr: errNetwork, failAfter: 2}, false},
		{"parquet ranged read", &memObject{name: "s3://b/k.parquet", data: pq, readAtErr: errNetwork}, false},
		{"gzip parquet to temp file", &memObject{name: "s3://b/k.parquet.gz", data: gzipMembers(t, pq), streamErr: errNetwork, failAfter: 100}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.obj.data = tc.obj.data[:len(tc.obj.data):len(tc.obj.data)]
			opts := Options{CSV: CSVOptions{Header: true}}
			if tc.detect {
				opts.CSV = CSVOptions{Delimiter: ',', Quote: '"', Header: true, Detect: CSVDetect{Delimiter: true, Quote: true, Header: true}}
			}
			res := decodeAll(t, tc.obj, opts)
			if !errors.Is(res.err, errNetwork) {
				t.Fatalf("error %v does not wrap the Object's error", res.err)
			}
			if IsPermanent(res.err) {
				t.Errorf("error %v is permanent", res.err)
			}
			if !strings.Contains(res.err.Error(), "s3://b/k.") {
				t.Errorf("error %q does not name the file", res.err)
			}
			_, err := Infer(context.Background(), tc.obj, opts)
			if inSample := tc.obj.streamErr == nil || tc.obj.failAfter <= 100; inSample && (!errors.Is(err, errNetwork) || IsPermanent(err)) {
				t.Errorf("Infer: error %v", err)
			}
		})
	}
}

func TestParquetUsesRangedReadsOnly(t *testing.T) {
	obj := &memObject{name: "s3://b/k.parquet", data: readTestdata(t, "golden.parquet"), noOpen: true}
	res := decodeAll(t, obj, Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if n := obj.readAts.Load(); n == 0 || n > 10 {
		t.Errorf("%d ranged reads", n)
	}
}

func TestContextCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, name := range []string{"s3://b/k.csv", "s3://b/k.parquet"} {
		data := readTestdata(t, "golden.csv")
		if strings.HasSuffix(name, ".parquet") {
			data = readTestdata(t, "golden.parquet")
		}
		_, err := Decode(ctx, &memObject{name: name, data: data}, Options{CSV: CSVOptions{Header: true}}, func(arrow.RecordBatch) error { return nil })
		if !errors.Is(err, context.Canceled) || IsPermanent(err) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func TestEmitErrorAndPanic(t *testing.T) {
	errStop := errors.New("stop")
	for _, file := range []string{"golden.csv", "golden.jsonl", "golden.parquet"} {
		obj := &memObject{name: "s3://b/" + file, data: readTestdata(t, file)}
		opts := Options{CSV: CSVOptions{Header: true}, BatchRows: 1}
		calls := 0
		n, err := Decode(context.Background(), obj, opts, func(arrow.RecordBatch) error {
			calls++
			if calls == 2 {
				return errStop
			}
			return nil
		})
		if err != errStop || n != 1 {
			t.Errorf("%s: got %d rows, error %v; want 1 row and emit's error unchanged", file, n, err)
		}
		func() {
			defer func() {
				if r := recover(); r != "boom" {
					t.Errorf("%s: recovered %v, want emit's own panic", file, r)
				}
			}()
			Decode(context.Background(), obj, opts, func(arrow.RecordBatch) error { panic("boom") })
		}()
	}
}

func TestInferSamplesBoundedly(t *testing.T) {
	// Infer must not read the whole stream: fail far past the sample.
	var b strings.Builder
	b.WriteString("a\n")
	for b.Len() < 3*sampleBytes {
		b.WriteString("12345\n")
	}
	obj := &memObject{name: "s3://b/k.csv", data: []byte(b.String()), streamErr: errNetwork, failAfter: b.Len()}
	s, err := Infer(context.Background(), obj, Options{CSV: CSVOptions{Header: true}})
	if err != nil {
		t.Fatal(err)
	}
	if typesOf(s) != "a:int64" {
		t.Errorf("types %s", typesOf(s))
	}
}
