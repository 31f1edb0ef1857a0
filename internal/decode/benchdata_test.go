package decode

// The data the benchmarks and the stock-comparison tests share: the
// 7-column shape of issue 4 (int64, string, float64, int64, string,
// timestamp, bool), generated deterministically so every run and every
// commit measures the same bytes. Nothing generated is committed.

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	arrowcsv "github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// benchRows is the size of the benchmark data: 1 M rows, about 72 MB of
// CSV.
const benchRows = 1_000_000

// wideSchema is the table the generated files decode into.
func wideSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "customer", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "amount", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "quantity", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "city", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "ordered_at", Type: timestampType, Nullable: true},
		{Name: "paid", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
	}, nil)
}

// wideGen says what a generated file holds besides plain values.
type wideGen struct {
	rows   int
	crlf   bool // CRLF line ends (newlines inside quotes stay LF; see TestCSVMatchesStock)
	quotes bool // quoted fields: delimiters, doubled quotes, newlines inside
	nulls  bool // empty (null) fields in every column but id
}

// benchGen is what the benchmarks decode: mostly plain values, with the
// occasional null and quoted field a real export has.
func benchGen() wideGen { return wideGen{rows: benchRows, quotes: true, nulls: true} }

// every reports whether row i is one of every n-th rows (offset so the
// special rows of different columns rarely coincide).
func every(i, n, off int) bool { return (i+off)%n == 0 }

// wideCSV writes the CSV file g describes.
func wideCSV(g wideGen) []byte {
	eol := "\n"
	if g.crlf {
		eol = "\r\n"
	}
	out := make([]byte, 0, g.rows*76+64)
	out = append(out, "id,customer,amount,quantity,city,ordered_at,paid"+eol...)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := range g.rows {
		nul := func(n, off int) bool { return g.nulls && every(i, n, off) }
		out = strconv.AppendInt(out, int64(i), 10)
		out = append(out, ',')
		if !nul(41, 1) {
			out = append(out, "customer-"...)
			out = appendPadded(out, i*7919%1_000_000, 7)
		}
		out = append(out, ',')
		if !nul(37, 2) {
			if every(i, 3, 0) {
				out = append(out, '-')
			}
			out = strconv.AppendInt(out, int64(i*31%100_000), 10)
			out = append(out, '.')
			out = appendPadded(out, i%100, 2)
		}
		out = append(out, ',')
		if !nul(43, 3) {
			out = strconv.AppendInt(out, int64(i%50), 10)
		}
		out = append(out, ',')
		switch {
		case nul(47, 4):
		case g.quotes && every(i, 997, 0):
			out = append(out, "\"city \"\"quoted\"\" "...)
			out = strconv.AppendInt(out, int64(i%1000), 10)
			out = append(out, '"')
		case g.quotes && every(i, 1499, 0):
			out = append(out, "\"city on two\nlines, "...)
			out = strconv.AppendInt(out, int64(i%1000), 10)
			out = append(out, '"')
		case g.quotes && every(i, 61, 0):
			out = append(out, "\"city, number "...)
			out = strconv.AppendInt(out, int64(i%1000), 10)
			out = append(out, '"')
		default:
			out = append(out, "city number "...)
			out = strconv.AppendInt(out, int64(i%1000), 10)
		}
		out = append(out, ',')
		if !nul(53, 5) {
			t := time.Unix(base+int64(i)*37, 0).UTC()
			switch {
			case every(i, 7, 0):
				t = t.Add(time.Duration(i%1_000_000) * time.Microsecond)
				out = t.AppendFormat(out, "2006-01-02T15:04:05.000000Z07:00")
			case every(i, 11, 0):
				out = t.In(time.FixedZone("", 2*3600)).AppendFormat(out, time.RFC3339)
			default:
				out = t.AppendFormat(out, time.RFC3339)
			}
		}
		out = append(out, ',')
		if !nul(59, 6) {
			out = strconv.AppendBool(out, i%3 != 0)
		}
		out = append(out, eol...)
	}
	return out
}

func appendPadded(out []byte, v, width int) []byte {
	s := strconv.Itoa(v)
	for range width - len(s) {
		out = append(out, '0')
	}
	return append(out, s...)
}

// wideJSON writes the same rows as JSON lines: nulls as null or as a
// missing key, strings with escapes now and then.
func wideJSON(g wideGen) []byte {
	out := make([]byte, 0, g.rows*150)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := range g.rows {
		nul := func(n, off int) bool { return g.nulls && every(i, n, off) }
		out = append(out, `{"id":`...)
		out = strconv.AppendInt(out, int64(i), 10)
		out = append(out, `,"customer":`...)
		if nul(41, 1) {
			out = append(out, "null"...)
		} else {
			out = append(out, `"customer-`...)
			out = appendPadded(out, i*7919%1_000_000, 7)
			out = append(out, '"')
		}
		if !nul(37, 2) { // a missing key is a null too
			out = append(out, `,"amount":`...)
			if every(i, 3, 0) {
				out = append(out, '-')
			}
			out = strconv.AppendInt(out, int64(i*31%100_000), 10)
			out = append(out, '.')
			out = appendPadded(out, i%100, 2)
		}
		out = append(out, `,"quantity":`...)
		if nul(43, 3) {
			out = append(out, "null"...)
		} else {
			out = strconv.AppendInt(out, int64(i%50), 10)
		}
		out = append(out, `,"city":`...)
		switch {
		case nul(47, 4):
			out = append(out, "null"...)
		case g.quotes && every(i, 61, 0):
			out = append(out, `"city \"quoted\"\n caf\u00e9 `...)
			out = strconv.AppendInt(out, int64(i%1000), 10)
			out = append(out, '"')
		default:
			out = append(out, `"city number `...)
			out = strconv.AppendInt(out, int64(i%1000), 10)
			out = append(out, '"')
		}
		out = append(out, `,"ordered_at":`...)
		if nul(53, 5) {
			out = append(out, "null"...)
		} else {
			t := time.Unix(base+int64(i)*37, 0).UTC()
			out = append(out, '"')
			switch {
			case every(i, 7, 0):
				t = t.Add(time.Duration(i%1_000_000) * time.Microsecond)
				out = t.AppendFormat(out, "2006-01-02T15:04:05.000000Z07:00")
			case every(i, 11, 0):
				out = t.In(time.FixedZone("", 2*3600)).AppendFormat(out, time.RFC3339)
			default:
				out = t.AppendFormat(out, time.RFC3339)
			}
			out = append(out, '"')
		}
		out = append(out, `,"paid":`...)
		if nul(59, 6) {
			out = append(out, "null"...)
		} else {
			out = strconv.AppendBool(out, i%3 != 0)
		}
		out = append(out, "}\n"...)
	}
	return out
}

// The stock arrow-go readers, set up the way a user of arrow-go would for
// this data: the table's schema, a header, 64Ki-row chunks, empty fields
// as nulls.

func stockCSVReader(r io.Reader, schema *arrow.Schema, mem memory.Allocator) *arrowcsv.Reader {
	return arrowcsv.NewReader(r, schema, arrowcsv.WithHeader(true), arrowcsv.WithChunk(defaultBatchRows),
		arrowcsv.WithNullReader(true, ""), arrowcsv.WithAllocator(mem))
}

func stockJSONReader(r io.Reader, schema *arrow.Schema, mem memory.Allocator) *array.JSONReader {
	return array.NewJSONReader(r, schema, array.WithChunk(defaultBatchRows), array.WithAllocator(mem))
}

// recordReader is what both stock readers are.
type recordReader interface {
	Next() bool
	RecordBatch() arrow.RecordBatch
	Err() error
	Release()
}

// drainStock reads every batch of a stock reader, handing each to fn, and
// returns the row count.
func drainStock(rr recordReader, fn func(arrow.RecordBatch)) (int64, error) {
	defer rr.Release()
	var n int64
	for rr.Next() {
		rec := rr.RecordBatch()
		n += rec.NumRows()
		if fn != nil {
			fn(rec)
		}
	}
	return n, rr.Err()
}

// decodeOurs decodes data (named name) into schema with this package,
// handing each batch to fn.
func decodeOurs(name string, data []byte, schema *arrow.Schema, header bool, mem memory.Allocator, fn func(arrow.RecordBatch)) (int64, error) {
	opts := Options{Schema: schema, Mem: mem, CSV: CSVOptions{Header: header}}
	return Decode(context.Background(), &memObject{name: name, data: data}, opts, func(rec arrow.RecordBatch) error {
		if fn != nil {
			fn(rec)
		}
		return nil
	})
}

// collect concatenates batches column by column, so readers that cut
// batches differently can be compared.
type collected struct {
	cols  [][]arrow.Array
	nrows int64
}

func (c *collected) add(rec arrow.RecordBatch) {
	if c.cols == nil {
		c.cols = make([][]arrow.Array, rec.NumCols())
	}
	for i, col := range rec.Columns() {
		col.Retain()
		c.cols[i] = append(c.cols[i], col)
	}
	c.nrows += rec.NumRows()
}

func (c *collected) release() {
	for _, cs := range c.cols {
		for _, a := range cs {
			a.Release()
		}
	}
}

// column returns column i as one array; release it.
func (c *collected) column(t testing.TB, i int, mem memory.Allocator) arrow.Array {
	t.Helper()
	a, err := array.Concatenate(c.cols[i], mem)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// firstDiff describes the first row where a and b differ, or "".
func firstDiff(a, b arrow.Array) string {
	if a.Len() != b.Len() {
		return "lengths " + strconv.Itoa(a.Len()) + " and " + strconv.Itoa(b.Len())
	}
	for i := range a.Len() {
		if !array.SliceEqual(a, int64(i), int64(i+1), b, int64(i), int64(i+1)) {
			return "row " + strconv.Itoa(i) + ": " + valueStr(a, i) + " vs " + valueStr(b, i)
		}
	}
	return ""
}

// lineOf returns line n (from 1) of data, for test messages.
func lineOf(data []byte, n int) string {
	for range n - 1 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return ""
		}
		data = data[i+1:]
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	return string(data)
}
