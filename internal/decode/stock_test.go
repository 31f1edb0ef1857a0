package decode

// Our decoders against the stock arrow-go readers: the same file must give
// the same Arrow columns, value by value and null by null.
//
// Where the two disagree by design, the data here avoids the case and a
// test below pins our behaviour:
//   - encoding/csv turns "\r\n" inside a quoted field into "\n"; we keep
//     the field's bytes as written (TestCSVDecode "CRLF and BOM").
//   - the stock reader cannot tell a quoted empty field from an empty one,
//     so with empty-as-null both are null; ours keeps "" for the quoted one.

import (
	"bytes"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// stockRows is how many rows the comparisons use: the benchmarks' full
// million, or fewer with -short.
func stockRows() int {
	if testing.Short() {
		return 30_000
	}
	return benchRows
}

// compareWithStock decodes data with ours and with stock and fails on the
// first column that differs.
func compareWithStock(t *testing.T, name string, data []byte, header bool, stock func(mem memory.Allocator) recordReader) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := wideSchema()
	var ours, theirs collected
	defer ours.release()
	defer theirs.release()
	n, err := decodeOurs(name, data, schema, header, mem, ours.add)
	if err != nil {
		t.Fatalf("ours: %v", err)
	}
	m, err := drainStock(stock(mem), theirs.add)
	if err != nil {
		t.Fatalf("stock: %v", err)
	}
	if n != m || n != ours.nrows || m != theirs.nrows {
		t.Fatalf("rows: ours %d (emitted %d), stock %d (emitted %d)", n, ours.nrows, m, theirs.nrows)
	}
	for i, f := range schema.Fields() {
		a, b := ours.column(t, i, mem), theirs.column(t, i, mem)
		if !arrow.TypeEqual(a.DataType(), b.DataType()) {
			t.Errorf("column %s: type %s, stock %s", f.Name, a.DataType(), b.DataType())
		} else if a.NullN() != b.NullN() {
			t.Errorf("column %s: %d nulls, stock %d (first difference: %s)", f.Name, a.NullN(), b.NullN(), firstDiff(a, b))
		} else if d := firstDiff(a, b); d != "" {
			t.Errorf("column %s differs at %s", f.Name, d)
		}
		a.Release()
		b.Release()
	}
}

func TestCSVMatchesStock(t *testing.T) {
	n := stockRows()
	for _, tc := range []struct {
		name string
		gen  wideGen
	}{
		{"plain", wideGen{rows: min(n, 200_000)}},
		{"nulls and quotes (the benchmark's data)", wideGen{rows: n, nulls: true, quotes: true}},
		{"CRLF with nulls and quotes", wideGen{rows: min(n, 200_000), nulls: true, quotes: true, crlf: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := wideCSV(tc.gen)
			if tc.gen.quotes && (!bytes.Contains(data, []byte(`""quoted""`)) || !bytes.Contains(data, []byte("two\nlines"))) {
				t.Fatal("generator lost its quoted fields")
			}
			compareWithStock(t, "s3://b/wide.csv", data, true, func(mem memory.Allocator) recordReader {
				return stockCSVReader(bytes.NewReader(data), wideSchema(), mem)
			})
		})
	}
}

func TestJSONMatchesStock(t *testing.T) {
	n := stockRows()
	for _, tc := range []struct {
		name string
		gen  wideGen
	}{
		{"plain", wideGen{rows: min(n, 200_000)}},
		{"nulls and missing keys", wideGen{rows: min(n, 200_000), nulls: true}},
		// The stock reader slows down quadratically with escaped strings
		// (see BenchmarkJSONEscapes): fewer rows.
		{"nulls, missing keys and escapes", wideGen{rows: min(n, 50_000), nulls: true, quotes: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := wideJSON(tc.gen)
			compareWithStock(t, "s3://b/wide.jsonl", data, false, func(mem memory.Allocator) recordReader {
				return stockJSONReader(bytes.NewReader(data), wideSchema(), mem)
			})
		})
	}
}
