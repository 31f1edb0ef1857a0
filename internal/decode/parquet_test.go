package decode

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/internal/testenv"
)

// conformanceMisses are the data/ files whose row count differs from
// DuckDB's, and why.
var conformanceMisses = map[string]string{
	"data/int96_from_spark.parquet": "one INT96 value is ~294,000 years before 1970 with negative nanoseconds of day; " +
		"timestamp[us] cannot hold it, and we refuse the file rather than wrap the value as DuckDB does",
	"data/map_no_value.parquet": "DuckDB refuses a MAP without a value column; arrow reads its 3 rows, and so do we",
	"data/large_string_map.brotli.parquet": "a 1 GiB page, over the 256 MiB page limit that bounds a worker's memory " +
		"(maxPageSize); refused with a clear error",
}

func TestParquetConformance(t *testing.T) {
	corpus := testenv.ParquetConformanceDir(t)
	f, err := os.Open(filepath.Join(corpus, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	var dataFiles, matched, badFiles int
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 {
			continue
		}
		rel, want := cols[0], cols[1]
		obj, err := LocalFile(filepath.Join(corpus, rel))
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		opts := Options{Mem: mem}
		var n int64
		schema, err := Infer(context.Background(), obj, opts)
		if err == nil {
			opts.Schema = schema
			n, err = Decode(context.Background(), obj, opts, func(rec arrow.RecordBatch) error {
				if !rec.Schema().Equal(schema) {
					t.Errorf("%s: batch schema differs from the inferred one", rel)
				}
				return nil
			})
		}
		got := strconv.FormatInt(n, 10)
		if err != nil {
			got = "error"
			if strings.Contains(err.Error(), "panic") {
				t.Errorf("%s: arrow panicked: %v", rel, err)
			}
			if !IsPermanent(err) {
				t.Errorf("%s: error on a local file is not permanent: %v", rel, err)
			}
		} else if leaked := mem.CurrentAlloc(); leaked != 0 {
			t.Errorf("%s: %d bytes leaked", rel, leaked)
		}
		t.Logf("%-50s want %-6s got %-6s %v %v", rel, want, got, time.Since(start).Round(time.Millisecond), err)
		switch {
		case strings.HasPrefix(rel, "bad_data/"):
			badFiles++
			if err == nil && got != want {
				t.Errorf("%s: loaded %s rows, DuckDB counts %s: a bad file must error or load exactly", rel, got, want)
			}
		case strings.HasPrefix(rel, "data/"):
			dataFiles++
			if got == want {
				matched++
				if reason, ok := conformanceMisses[rel]; ok {
					t.Logf("%s now matches; remove it from conformanceMisses (%s)", rel, reason)
				}
			} else if _, ok := conformanceMisses[rel]; !ok {
				t.Errorf("%s: got %s rows, want %s (%v)", rel, got, want, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("conformance: %d of %d data files match; %d bad_data files handled", matched, dataFiles, badFiles)
	if dataFiles != 65 || badFiles != 8 {
		t.Errorf("expected.tsv lists %d data and %d bad_data files, want 65 and 8", dataFiles, badFiles)
	}
	if matched < 58 {
		t.Errorf("only %d data files match, want at least 58", matched)
	}
}

// writeParquet writes rec as a Parquet file.
func writeParquet(t *testing.T, rec arrow.RecordBatch, props ...parquet.WriterProperty) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(rec.Schema(), &buf, parquet.NewWriterProperties(props...), pqarrow.NewArrowWriterProperties(pqarrow.WithDeprecatedInt96Timestamps(true)))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestParquetSchemaMismatch(t *testing.T) {
	obj := &memObject{name: "s3://b/k.parquet", data: readTestdata(t, "golden.parquet")}
	table := schemaOf(t, "id", "int64", "name", "utf8", "amount", "int64", "ok", "bool", "day", "date32", "missing", "utf8")
	res := decodeAll(t, obj, Options{Schema: table})
	mustErrAs[*SchemaError](t, res.err)
	want := `s3://b/k.parquet: schema differs from the table: column "amount": expected int64, found float64; column "missing": expected utf8, found (absent)`
	if res.err.Error() != want {
		t.Errorf("error\n got %s\nwant %s", res.err, want)
	}
	// Column order does not matter; nullability is checked per value.
	table = schemaOf(t, "day", "date32", "ok", "bool", "amount", "float64", "name", "utf8", "id", "int64")
	res = decodeAll(t, obj, Options{Schema: table})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if res.rows[1] != "2024-02-03|false|2.25|bob, jr|2" {
		t.Errorf("rows %q", res.rows)
	}
	res = decodeAll(t, obj, Options{Schema: arrowSchemaNonNull(table)})
	de := mustErrAs[*DataError](t, res.err)
	if de.RowGroup != 0 || de.Column != "day" {
		t.Errorf("DataError %v", de)
	}
}

func TestParquetPanicBecomesDataError(t *testing.T) {
	// This byte of the first page header makes arrow-go (v18.8.0 and
	// v18.9.0) dereference nil while reading the row group.
	data := bytes.Clone(readTestdata(t, "golden.parquet"))
	data[10] = 0
	res := decodeAll(t, &memObject{name: "s3://b/k.parquet", data: data}, Options{})
	de := mustErrAs[*DataError](t, res.err)
	if !strings.Contains(de.Error(), "s3://b/k.parquet: row group 0: decoder panic: ") || de.RowGroup != 0 {
		t.Errorf("error %v", de)
	}
}

func TestParquetBatchesAndRowGroups(t *testing.T) {
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{
		{Name: "n", Type: arrow.PrimitiveTypes.Int64},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil))
	defer b.Release()
	for i := range 1000 {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if i%3 == 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(strconv.Itoa(i))
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	for _, codec := range []compress.Compression{compress.Codecs.Snappy, compress.Codecs.Lz4, compress.Codecs.Zstd} {
		data := writeParquet(t, rec, parquet.WithMaxRowGroupLength(300), parquet.WithCompression(codec))
		res := decodeAll(t, &memObject{name: "s3://b/k.parquet", data: data}, Options{BatchRows: 128})
		if res.err != nil {
			t.Fatalf("%v: %v", codec, res.err)
		}
		if len(res.rows) != 1000 || res.rows[998] != "998|998" || res.rows[999] != "999|null" {
			t.Errorf("%v: %d rows, last %q", codec, len(res.rows), res.rows[len(res.rows)-1])
		}
	}
}

func TestParquetInt96(t *testing.T) {
	mem := memory.NewGoAllocator()
	ns := &arrow.TimestampType{Unit: arrow.Nanosecond}
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{{Name: "t", Type: ns, Nullable: true}}, nil))
	defer b.Release()
	tb := b.Field(0).(*array.TimestampBuilder)
	when := time.Date(1900, 1, 2, 3, 4, 5, 123456789, time.UTC)
	tb.Append(arrow.Timestamp(when.UnixNano()))
	tb.AppendNull()
	rec := b.NewRecordBatch()
	defer rec.Release()
	obj := &memObject{name: "s3://b/k.parquet", data: writeParquet(t, rec)}
	s, err := Infer(context.Background(), obj, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if typesOf(s) != "t:timestamp[us]" {
		t.Errorf("types %s", typesOf(s))
	}
	res := decodeAll(t, obj, Options{})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if strings.Join(res.rows, ",") != "1900-01-02T03:04:05.123456Z,null" {
		t.Errorf("rows %q", res.rows)
	}
}

func TestLZ4HadoopCodec(t *testing.T) {
	src := bytes.Repeat([]byte("hadoop lz4 framing "), 1000)
	var c lz4HadoopCodec
	enc := c.Encode(nil, src)
	dec, err := c.DecodeWithError(make([]byte, len(src)), enc)
	if err != nil || !bytes.Equal(dec, src) {
		t.Fatalf("round trip: %v", err)
	}
	// A bare LZ4 block (no Hadoop framing) decodes too.
	raw, _ := compress.GetCodec(compress.Codecs.Lz4Raw)
	dec, err = c.DecodeWithError(make([]byte, len(src)), raw.Encode(nil, src))
	if err != nil || !bytes.Equal(dec, src) {
		t.Fatalf("bare block: %v", err)
	}
	if _, err := c.DecodeWithError(make([]byte, len(src)), []byte("garbage!garbage!")); err == nil {
		t.Error("garbage decoded")
	}
}
