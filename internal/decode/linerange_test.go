package decode

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
)

// decodeRanges decodes obj as n ranges of equal size and returns every
// row, in range order, and the first error.
func decodeRanges(t *testing.T, obj Object, opts Options, n int) ([]string, error) {
	t.Helper()
	var rows []string
	size := obj.Size()
	for i := range n {
		o := opts
		o.Range = &ByteRange{Start: size * int64(i) / int64(n), End: size * int64(i+1) / int64(n)}
		res := decodeAll(t, obj, o)
		if res.err != nil {
			return rows, res.err
		}
		rows = append(rows, res.rows...)
	}
	return rows, nil
}

// The ranges of a file decode each row exactly once, however the file is
// cut: every range count from 1 to 40 on files with CRLF, a header, no
// final newline, blank lines, quoted fields without newlines and lines
// longer than the buffers, read with ranged reads and streamed from an
// offset.
func TestRangesCoverEveryRowOnce(t *testing.T) {
	var csvLF, csvCRLF, jsonl, long strings.Builder
	long.WriteString("id,name\n")
	for i := range 40 {
		fmt.Fprintf(&long, "%d,%s\n", i, strings.Repeat(string(rune('a'+i%26)), 100_000+i))
	}
	csvLF.WriteString("id,name\n")
	csvCRLF.WriteString("id,name\r\n")
	for i := range 300 {
		name := fmt.Sprintf("name %d", i)
		if i%7 == 0 {
			name = fmt.Sprintf(`"quoted, %d"`, i)
		}
		fmt.Fprintf(&csvLF, "%d,%s\n", i, name)
		fmt.Fprintf(&csvCRLF, "%d,%s\r\n", i, name)
		fmt.Fprintf(&jsonl, `{"id":%d,"name":"n%d"}`+"\n", i, i)
	}
	noFinalNewline := strings.TrimSuffix(csvLF.String(), "\n")
	tests := []struct {
		name, key, data string
		opts            Options
	}{
		{"csv", "t.csv", csvLF.String(), Options{CSV: CSVOptions{Header: true}}},
		{"csv crlf", "t.csv", csvCRLF.String(), Options{CSV: CSVOptions{Header: true}}},
		{"csv without a final newline", "t.csv", noFinalNewline, Options{CSV: CSVOptions{Header: true}}},
		{"csv without a header", "t.csv", strings.SplitN(csvLF.String(), "\n", 2)[1], Options{}},
		{"json lines", "t.jsonl", jsonl.String(), Options{}},
		{"csv with lines longer than the buffers", "t.csv", long.String(), Options{CSV: CSVOptions{Header: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := &memObject{name: "s3://b/" + tt.key, data: []byte(tt.data)}
			if !Splittable(obj.name, tt.opts) {
				t.Fatalf("%s is not splittable", tt.key)
			}
			whole := decodeAll(t, obj, tt.opts)
			if whole.err != nil || len(whole.rows) < 40 {
				t.Fatalf("whole: %d rows, %v", len(whole.rows), whole.err)
			}
			opts := tt.opts
			opts.Schema = whole.schema
			for _, o := range []struct {
				how string
				obj Object
			}{{"ranged reads", obj}, {"streamed", streamObject{obj}}} {
				for n := 1; n <= 40; n++ {
					rows, err := decodeRanges(t, o.obj, opts, n)
					if err != nil {
						t.Fatalf("%s, %d ranges: %v", o.how, n, err)
					}
					if !slices.Equal(rows, whole.rows) {
						t.Fatalf("%s, %d ranges: %d rows, want %d (first difference near %v)", o.how, n, len(rows), len(whole.rows), firstRowDiff(rows, whole.rows))
					}
				}
			}
		})
	}
}

func firstRowDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("row %d: %q vs %q", i, a[i], b[i])
		}
	}
	return "the end"
}

// A quoted newline at a cut cannot go unnoticed: the range before it ends
// inside the quotes and fails, which is the caller's cue to load the file
// whole.
func TestRangeCutInsideQuotesFails(t *testing.T) {
	data := "id,note\n1,\"first line\nsecond line\"\n2,plain\n"
	obj := &memObject{name: "s3://b/t.csv", data: []byte(data)}
	opts := Options{CSV: CSVOptions{Header: true}, Schema: schemaOf(t, "id", "int64", "note", "utf8")}
	cut := int64(strings.Index(data, "second")) // just after the quoted newline
	res := decodeAll(t, obj, Options{CSV: opts.CSV, Schema: opts.Schema, Range: &ByteRange{Start: 0, End: cut}})
	if res.err == nil || !strings.Contains(res.err.Error(), "quoted field not closed") {
		t.Fatalf("range before the cut: %v, want an unclosed quote", res.err)
	}
}

// Parquet ranges own the row groups whose middle byte they hold.
func TestParquetRangesCoverEveryRowGroupOnce(t *testing.T) {
	mem := memory.NewGoAllocator()
	b := array.NewRecordBuilder(mem, arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}}, nil))
	defer b.Release()
	for i := range 10_000 {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	obj := &memObject{name: "s3://b/t.parquet", data: writeParquet(t, rec, parquet.WithMaxRowGroupLength(700), parquet.WithDictionaryDefault(false))}
	whole := decodeAll(t, obj, Options{})
	if whole.err != nil || len(whole.rows) != 10_000 {
		t.Fatalf("whole: %d rows, %v", len(whole.rows), whole.err)
	}
	for _, n := range []int{1, 2, 3, 5, 15, 40} {
		rows, err := decodeRanges(t, obj, Options{Schema: whole.schema}, n)
		if err != nil {
			t.Fatalf("%d ranges: %v", n, err)
		}
		if !slices.Equal(rows, whole.rows) {
			t.Fatalf("%d ranges: %d rows, want 10000", n, len(rows))
		}
	}
}

func TestSplittable(t *testing.T) {
	for name, want := range map[string]bool{
		"a.csv": true, "a.tsv": true, "a.jsonl": true, "a.ndjson": true, "a.parquet": true,
		"a.json": false, "a.csv.gz": false, "a.jsonl.zst": false, "a.parquet.gz": false, "a.bin": false,
	} {
		if got := Splittable("s3://b/"+name, Options{}); got != want {
			t.Errorf("Splittable(%s) = %v, want %v", name, got, want)
		}
	}
}
