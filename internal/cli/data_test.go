package cli

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/klauspost/compress/zstd"
)

// csvRows is a CSV body of n rows of the orders shape, ids from first.
func csvRows(first, n int, delim string, header bool) []byte {
	var b strings.Builder
	if header {
		b.WriteString(strings.Join([]string{"id", "name", "amount", "at", "ok"}, delim) + "\n")
	}
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, "%d%sname %d%s%d.5%s2024-01-02T03:04:%02dZ%s%t\n", i, delim, i, delim, i, delim, i%60, delim, i%2 == 0)
	}
	return []byte(b.String())
}

func jsonLines(first, n int) []byte {
	var b strings.Builder
	for i := first; i < first+n; i++ {
		fmt.Fprintf(&b, `{"id":%d,"name":"name %d","amount":%d.5,"ok":%t}`+"\n", i, i, i, i%2 == 0)
	}
	return []byte(b.String())
}

func jsonArray(first, n int) []byte {
	var parts []string
	for i := first; i < first+n; i++ {
		parts = append(parts, fmt.Sprintf(`{"id":%d,"name":"name %d","amount":%d.5,"ok":%t}`, i, i, i, i%2 == 0))
	}
	return []byte("[\n" + strings.Join(parts, ",\n") + "\n]\n")
}

func parquetRows(t testing.TB, first, n int) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("name %d", i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return parquetBytes(t, rec, parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd), parquet.WithMaxRowGroupLength(int64(n/3+1))), pqarrow.DefaultWriterProps())
}

// parquetBytes is rec written as one Parquet file.
func parquetBytes(t testing.TB, rec arrow.RecordBatch, props *parquet.WriterProperties, arrowProps pqarrow.ArrowWriterProperties) []byte {
	t.Helper()
	var out bytes.Buffer
	w, err := pqarrow.NewFileWriter(rec.Schema(), &out, props, arrowProps)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zst(t *testing.T, data []byte) []byte {
	t.Helper()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(data, nil)
}

// bz2 compresses with the bzip2 tool: Go's standard library only reads bzip2.
func bz2(t *testing.T, data []byte) []byte {
	t.Helper()
	cmd := exec.Command("bzip2", "-c")
	cmd.Stdin = bytes.NewReader(data)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bzip2 (from Debian's bzip2 package) is needed to make test data: %v", err)
	}
	return out
}
