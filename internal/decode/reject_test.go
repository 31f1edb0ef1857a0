package decode

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// rejected is a Reject as a test compares it (Raw copied: it is valid only
// during the call).
type rejected struct {
	Line   int64
	Column string
	Class  string
	Raw    string
}

func (r rejected) String() string {
	return fmt.Sprintf("line %d %q %s %q", r.Line, r.Column, r.Class, r.Raw)
}

// decodeRejecting decodes data with rejects collected, by the decoders
// themselves so generalOnly can turn the CSV fast path off; batches are
// checked whole and the allocator for leaks.
func decodeRejecting(t *testing.T, name, data string, opts Options, generalOnly bool) (rows []string, rejects []rejected, n int64, err error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	opts.Mem = mem
	if opts.OnReject == nil {
		opts.OnReject = func(r Reject) error {
			var de *DataError
			if !errors.As(r.Err, &de) || de.Line != r.Line || de.Column != r.Column {
				t.Errorf("reject at line %d column %q: error %v is not its DataError", r.Line, r.Column, r.Err)
			}
			rejects = append(rejects, rejected{r.Line, r.Column, r.Class, string(r.Raw)})
			return nil
		}
	}
	s, err := resolve(name, opts)
	if err != nil {
		t.Fatal(err)
	}
	s.generalOnly = generalOnly
	emit := func(rec arrow.RecordBatch) error {
		if err := array.ValidateRecordFull(rec); err != nil {
			t.Errorf("invalid batch: %v", err)
		}
		for j, col := range rec.Columns() {
			// No bytes of a rejected row past the last string.
			if c, ok := col.(array.BinaryLike); ok && col.Len() > 0 {
				if end, size := c.ValueOffset64(col.Len()-1)+int64(c.ValueLen(col.Len()-1)), col.Data().Buffers()[2].Len(); end != int64(size) {
					t.Errorf("column %d: strings end at %d, their buffer at %d", j, end, size)
				}
			}
		}
		rows = append(rows, renderRows(rec)...)
		return nil
	}
	ctx := context.Background()
	obj := &memObject{name: name, data: []byte(data)}
	err = run(ctx, obj, &s, &ioErrors{name: name}, func(*pqFile) error {
		return errors.New("parquet")
	}, func(cr *csvReader) error {
		n, err = decodeCSV(ctx, cr, &s, emit)
		return err
	}, func(jr *jsonReader) error {
		n, err = decodeJSON(ctx, jr, &s, emit)
		return err
	})
	if err == nil && n != int64(len(rows)) {
		t.Errorf("decode returned %d rows, emitted %d", n, len(rows))
	}
	return rows, rejects, n, err
}

// rejectSchema has a column of each raw kind (columns.go) and, with
// generic, builder columns (decimal, int32) around them.
func rejectSchema(t *testing.T, generic bool) *arrow.Schema {
	t.Helper()
	pairs := []string{"i", "int64", "f", "float64", "s", "string", "b", "binary", "ok", "bool", "ts", "timestamp[us]", "d", "date32"}
	if generic {
		pairs = append([]string{"dec", "decimal128(6,2)"}, append(pairs, "n32", "int32")...)
	}
	sc := schemaOf(t, pairs...)
	fs := sc.Fields()
	for i := range fs {
		fs[i].Nullable = fs[i].Name != "i" // i: where a null is rejected
	}
	return arrow.NewSchema(fs, nil)
}

func TestRejectCSV(t *testing.T) {
	const good = "2024-01-01T00:00:00Z,2024-01-01"
	raw := []string{
		"i,f,s,b,ok,ts,d",
		"1,1.5,a,x,true," + good,                          // 2
		"2,oops,bb,y,false," + good,                       // 3: cast f
		"3,3.5,cc",                                        // 4: missing columns
		"4,4.5,dd,w,true," + good + ",extra",              // 5: too many
		"5,5.5,\xff\xfe,v,true," + good,                   // 6: invalid unicode
		",6.5,ee,u,true," + good,                          // 7: null in i
		"7,7.5,ff,t,maybe," + good,                        // 8: cast bool
		"8,8.5,gg,s,true,2024-13-01T00:00:00Z,2024-01-01", // 9: cast ts
		"9,9.5,hh,r,true,2024-01-01T00:00:00Z,2024-02-30", // 10: cast date
		"10,,,,,,", // 11: nulls everywhere nullable: loads
		"11,11.5,a longer string,q,false," + good, // 12
		"12,12.5,,,,,bad",                         // 13: nulls cleared, then a cast: rejected
		"13,13.5,ii,p,true," + good,               // 14: after it, every column valid
		"x14,14.5,jj,o,true," + good,              // 15: cast i
		"15,15.5,kk,n,false," + good,              // 16
		"16,16.5,ll,m,maybe," + good,              // 17: cast bool, s and b written, last
	}
	data := strings.Join(raw, "\n") + "\n"
	// Binary renders as base64: x is eA==.
	wantRows := []string{
		"1|1.5|a|eA==|true|2024-01-01T00:00:00Z|2024-01-01",
		"10|null|null|null|null|null|null",
		"11|11.5|a longer string|cQ==|false|2024-01-01T00:00:00Z|2024-01-01",
		"13|13.5|ii|cA==|true|2024-01-01T00:00:00Z|2024-01-01",
		"15|15.5|kk|bg==|false|2024-01-01T00:00:00Z|2024-01-01",
	}
	wantRejects := []rejected{
		{3, "f", RejectCast, raw[2]},
		{4, "", RejectMissingColumns, raw[3]},
		{5, "", RejectTooManyColumns, raw[4]},
		{6, "s", RejectInvalidUnicode, raw[5]},
		{7, "i", RejectNull, raw[6]},
		{8, "ok", RejectCast, raw[7]},
		{9, "ts", RejectCast, raw[8]},
		{10, "d", RejectCast, raw[9]},
		{13, "d", RejectCast, raw[12]},
		{15, "i", RejectCast, raw[14]},
		{17, "ok", RejectCast, raw[16]},
	}
	// With builder columns (a decimal first, an int32 last) the row is
	// written further before it fails, and cut out of the builders.
	genRaw := []string{
		"dec,i,f,s,b,ok,ts,d,n32",
		"1.25,1,1.5,a,x,true," + good + ",1",            // 2
		"2.50,2,2.5,bb,y,false," + good + ",big",        // 3: cast n32, dec written
		"x,3,3.5,cc,z,true," + good + ",3",              // 4: cast dec
		"4.00,4,4.5,dd,w,true," + good + ",4",           // 5
		"5.00,,5.5,ee,v,true," + good + ",5",            // 6: null i, dec written
		",6,,,,,,,",                                     // 7: nulls: loads
		"7.00,7,7.5,\xff,u,true," + good + ",7",         // 8: invalid unicode, dec written
		"8.00,8,8.5,ff,t,true," + good + ",99999999999", // 9: n32 out of range
		"9.99,9,9.5,gg,s,false," + good + ",9",          // 10
	}
	genData := strings.Join(genRaw, "\r\n") + "\r\n"
	genRows := []string{
		"1.25|1|1.5|a|eA==|true|2024-01-01T00:00:00Z|2024-01-01|1",
		"4|4|4.5|dd|dw==|true|2024-01-01T00:00:00Z|2024-01-01|4",
		"null|6|null|null|null|null|null|null|null",
		"9.99|9|9.5|gg|cw==|false|2024-01-01T00:00:00Z|2024-01-01|9",
	}
	genRejects := []rejected{
		{3, "n32", RejectCast, genRaw[2]},
		{4, "dec", RejectCast, genRaw[3]},
		{6, "i", RejectNull, genRaw[5]},
		{8, "s", RejectInvalidUnicode, genRaw[7]},
		{9, "n32", RejectCast, genRaw[8]},
	}
	cases := []struct {
		name    string
		data    string
		generic bool
		rows    []string
		rejects []rejected
	}{
		{"raw columns", data, false, wantRows, wantRejects},
		{"builder columns", genData, true, genRows, genRejects},
	}
	for _, tc := range cases {
		for _, batch := range []int{0, 1, 2, 3} {
			for _, general := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/batch=%d/general=%v", tc.name, batch, general), func(t *testing.T) {
					opts := Options{Format: FormatCSV, CSV: CSVOptions{Header: true}, Schema: rejectSchema(t, tc.generic), BatchRows: batch}
					rows, rejects, _, err := decodeRejecting(t, "r.csv", tc.data, opts, general)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(rows, tc.rows) {
						t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(tc.rows, "\n"))
					}
					if !slices.Equal(rejects, tc.rejects) {
						t.Errorf("rejects:\n%v\nwant:\n%v", rejects, tc.rejects)
					}
				})
			}
		}
	}
}

// TestRejectCSVLines checks DuckDB's line numbers: skipped rows, the
// header, comment and blank lines and a record's extra lines all count.
func TestRejectCSVLines(t *testing.T) {
	data := "junk\nmore junk\na,b\n1,x\n# note\nbad,y\n\n2,\"two\nlines\"\n3\n4,z\n"
	for _, general := range []bool{false, true} {
		opts := Options{Format: FormatCSV, CSV: CSVOptions{Header: true, SkipRows: 2, Comment: '#'}, Schema: schemaOf(t, "a", "int64", "b", "string")}
		rows, rejects, _, err := decodeRejecting(t, "l.csv", data, opts, general)
		if err != nil {
			t.Fatal(err)
		}
		want := []rejected{{6, "a", RejectCast, "bad,y"}, {10, "", RejectMissingColumns, "3"}}
		if !slices.Equal(rejects, want) {
			t.Errorf("general=%v: rejects %v, want %v", general, rejects, want)
		}
		if wantRows := []string{"1|x", "2|two\nlines", "4|z"}; !slices.Equal(rows, wantRows) {
			t.Errorf("general=%v: rows %q, want %q", general, rows, wantRows)
		}
	}
}

// TestRejectCSVInferred rejects ragged rows of the sample, which infers
// the types from the rows that fit, in line order with the rows rejected
// once decoded.
func TestRejectCSVInferred(t *testing.T) {
	data := "a,b\n1,x\n2,y,extra\n3\n4,z\n"
	rows, rejects, _, err := decodeRejecting(t, "i.csv", data, Options{CSV: CSVOptions{Header: true}}, false)
	if err != nil {
		t.Fatal(err)
	}
	want := []rejected{{3, "", RejectTooManyColumns, "2,y,extra"}, {4, "", RejectMissingColumns, "3"}}
	if !slices.Equal(rejects, want) {
		t.Errorf("rejects %v, want %v", rejects, want)
	}
	if wantRows := []string{"1|x", "4|z"}; !slices.Equal(rows, wantRows) {
		t.Errorf("rows %q, want %q", rows, wantRows)
	}
	// Infer too takes the sample without the ragged rows.
	schema, err := Infer(context.Background(), &memObject{name: "i.csv", data: []byte(data)},
		Options{CSV: CSVOptions{Header: true}, OnReject: func(Reject) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if got := typesOf(schema); got != "a:int64,b:utf8" {
		t.Errorf("inferred %s", got)
	}
}

func TestRejectRawClipped(t *testing.T) {
	long := strings.Repeat("y", 5000)
	for _, tc := range []struct {
		name, data string
		line       int // the bad row's line, from 1
	}{
		{"r.csv", "a,b\n1,x\nbad," + long + "\r\n2,z\n", 3},
		{"r.jsonl", "{\"a\":1,\"b\":\"x\"}\n{\"a\":\"bad\",\"b\":\"" + long + "\"}\n{\"a\":2,\"b\":\"z\"}\n", 2},
		{"m.jsonl", "{\"a\":1,\"b\":\"x\"}\n{\"a\":1,\"b\":\"" + long + "\",}\n{\"a\":2,\"b\":\"z\"}\n", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{CSV: CSVOptions{Header: true}, Schema: schemaOf(t, "a", "int64", "b", "string")}
			rows, rejects, _, err := decodeRejecting(t, tc.name, tc.data, opts, false)
			if err != nil {
				t.Fatal(err)
			}
			line := strings.Split(tc.data, "\n")[tc.line-1]
			if len(rejects) != 1 || rejects[0].Line != int64(tc.line) || rejects[0].Raw != line[:MaxRejectRawBytes] {
				t.Errorf("rejects %v, want one at line %d with its first %d bytes", rejects, tc.line, MaxRejectRawBytes)
			}
			if want := []string{"1|x", "2|z"}; !slices.Equal(rows, want) {
				t.Errorf("rows %q, want %q", rows, want)
			}
		})
	}
}

// TestRejectStop checks that OnReject's error stops the decode and comes
// back from Decode unchanged, and that without OnReject the first bad row
// fails the file at the line a Reject names.
func TestRejectStop(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"s.csv", "a\n1\n2\nx\n3\ny\n4\n"},
		{"s.jsonl", "{\"a\":1}\n{\"a\":2}\n{\"a\":null}\n{\"a\":3}\n{}\n{\"a\":4}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obj := &memObject{name: tc.name, data: []byte(tc.data)}
			schema := arrowSchemaNonNull(schemaOf(t, "a", "int64"))
			stop := errors.New("too many rejects")
			var lines []int64
			opts := Options{CSV: CSVOptions{Header: true}, Schema: schema, BatchRows: 1, OnReject: func(r Reject) error {
				lines = append(lines, r.Line)
				if len(lines) == 2 {
					return stop
				}
				return nil
			}}
			res := decodeAll(t, obj, opts)
			if res.err != stop {
				t.Fatalf("error %v, want OnReject's own", res.err)
			}
			if want := []string{"1", "2", "3"}; !slices.Equal(res.rows, want) || res.n != 3 {
				t.Errorf("rows %q (n %d), want %q", res.rows, res.n, want)
			}
			opts.OnReject = nil
			res = decodeAll(t, obj, opts)
			de := mustErrAs[*DataError](t, res.err)
			if len(lines) == 0 || de.Line != lines[0] || de.Column != "a" {
				t.Errorf("error %v, want one at line %v column a", res.err, lines)
			}
		})
	}
}

// TestRejectStructural checks that what breaks a file's structure stays
// fatal with OnReject set, and that OnReject is not called for it.
func TestRejectStructural(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"q.csv", "a,b\n1,x\n2,\"open\n"},
		{"t.jsonl", "{\"a\":1}\n{\"a\":2,\"b\":"},
		{"arr.json", "[{\"a\":1},{\"a\":,},{\"a\":3}]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			called := false
			opts := Options{CSV: CSVOptions{Header: true}, Schema: schemaOf(t, "a", "int64", "b", "string"),
				OnReject: func(Reject) error { called = true; return nil }}
			res := decodeAll(t, &memObject{name: tc.name, data: []byte(tc.data)}, opts)
			mustErrAs[*DataError](t, res.err)
			if called {
				t.Error("OnReject called for a structural error")
			}
		})
	}
}

// TestRejectRange checks that a byte range's Reject names the line its
// DataError names.
func TestRejectRange(t *testing.T) {
	data := "a,b\n1,x\n2,y\n3,z\nbad,w\n5,v\n"
	r := &ByteRange{Start: int64(strings.Index(data, "3,z")), End: int64(len(data))}
	obj := &memObject{name: "g.csv", data: []byte(data)}
	var got []Reject
	opts := Options{Format: FormatCSV, CSV: CSVOptions{Header: true}, Schema: schemaOf(t, "a", "int64", "b", "string"), Range: r,
		OnReject: func(rj Reject) error { got = append(got, rj); return nil }}
	res := decodeAll(t, obj, opts)
	if res.err != nil {
		t.Fatal(res.err)
	}
	if want := []string{"3|z", "5|v"}; !slices.Equal(res.rows, want) {
		t.Errorf("rows %q, want %q", res.rows, want)
	}
	opts.OnReject = nil
	de := mustErrAs[*DataError](t, decodeAll(t, obj, opts).err)
	if len(got) != 1 || got[0].Line != de.Line || got[0].Column != "a" {
		t.Errorf("rejects %+v, want one at the DataError's line %d", got, de.Line)
	}
}

func TestRejectJSON(t *testing.T) {
	fields := rejectSchema(t, true).Fields()
	fields = append(fields,
		arrow.Field{Name: "st", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), Nullable: true},
		arrow.Field{Name: "l", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64), Nullable: true})
	schema := arrow.NewSchema(fields, nil)
	const rest = `"ts":"2024-01-01T00:00:00Z","d":"2024-01-01"`
	lines := []string{
		`{"dec":1.25,"i":1,"f":1.5,"s":"a","b":"x","ok":true,` + rest + `,"n32":1,"st":{"x":1},"l":[1,2]}`, // 1
		`{"dec":2.5,"i":"two","f":2.5}`,                    // 2: cast i
		`{"dec":3,"i":3,"s":"c","st":{"x":3},"l":[3,"x"]}`, // 3: cast in l after st written
		`{"i":4,"s":"d",}`,                                 // 4: invalid JSON
		`{"i":5,"s":"e` + "\xff" + `"}`,                    // 5: invalid unicode
		`{"dec":6,"f":6.5}`,                                // 6: missing i
		`{"i":7,"b":5}`,                                    // 7: cast b
		`42`,                                               // 8: not an object
		`{"i":9,"s":"nine","st":{"x":9},"l":[9]}`,          // 9
		`{"i":10,"s":"ten","dec":10,"st":{"x":"no"},"l":[10]}`, // 10: cast in st, dec written
		`{"i":null}`,      // 11: null i
		`{"i":12,"i":12}`, // 12: repeated key
		`{"i":13,"f":13.5,"s":"thirteen","b":"p","ok":false,` + rest + `,"n32":13,"dec":13,"st":{"x":13},"l":[]}`, // 13
		`{"i":14,"n32":"x","s":"fourteen","st":{"x":14},"l":[14]}`,                                                // 14: cast n32 after s written
		`{"i":15}`, // 15
	}
	data := strings.Join(lines, "\n") + "\n"
	const tail = "2024-01-01T00:00:00Z|2024-01-01"
	wantRows := []string{
		"1.25|1|1.5|a|eA==|true|" + tail + "|1|{\"x\":1}|[1,2]",
		"null|9|null|nine|null|null|null|null|null|{\"x\":9}|[9]",
		"13|13|13.5|thirteen|cA==|false|" + tail + "|13|{\"x\":13}|[]",
		"null|15|null|null|null|null|null|null|null|null|null",
	}
	wantRejects := []rejected{
		{2, "i", RejectCast, lines[1]},
		{3, "l", RejectCast, lines[2]},
		{4, "", RejectInvalidJSON, lines[3]},
		{5, "", RejectInvalidUnicode, lines[4]},
		{6, "i", RejectNull, lines[5]},
		{7, "b", RejectCast, lines[6]},
		{8, "", RejectInvalidJSON, lines[7]},
		{10, "st", RejectCast, lines[9]},
		{11, "i", RejectNull, lines[10]},
		{12, "i", RejectInvalidJSON, lines[11]},
		{14, "n32", RejectCast, lines[13]},
	}
	// After the sample the objects are decoded by the reader's loop, not
	// from the kept sample.
	var pre strings.Builder
	preRow := `{"i":0}`
	for range sampleRows {
		pre.WriteString(preRow + "\n")
	}
	for _, afterSample := range []bool{false, true} {
		for _, batch := range []int{0, 1, 2} {
			t.Run(fmt.Sprintf("after_sample=%v/batch=%d", afterSample, batch), func(t *testing.T) {
				in, want, wantRej := data, wantRows, wantRejects
				if afterSample {
					in = pre.String() + data
					want = append(slices.Repeat([]string{"null|0|null|null|null|null|null|null|null|null|null"}, sampleRows), wantRows...)
					wantRej = slices.Clone(wantRejects)
					for i := range wantRej {
						wantRej[i].Line += sampleRows
					}
				}
				rows, rejects, _, err := decodeRejecting(t, "r.jsonl", in, Options{Schema: schema, BatchRows: batch}, false)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(rows, want) {
					t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows[min(len(rows), len(rows)-4):], "\n"), strings.Join(want[len(want)-4:], "\n"))
				}
				if !slices.Equal(rejects, wantRej) {
					t.Errorf("rejects:\n%v\nwant:\n%v", rejects, wantRej)
				}
			})
		}
	}
}

// TestRejectJSONArray: in a top-level array a value that cannot load skips
// its object, but malformed JSON cannot be skipped.
func TestRejectJSONArray(t *testing.T) {
	schema := schemaOf(t, "a", "int64")
	rows, rejects, _, err := decodeRejecting(t, "a.json", `[{"a":1},`+"\n"+`{"a":"x"},{"a":3}]`, Options{Schema: schema}, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []rejected{{2, "a", RejectCast, `{"a":"x"}`}}; !slices.Equal(rejects, want) {
		t.Errorf("rejects %v, want %v", rejects, want)
	}
	if want := []string{"1", "3"}; !slices.Equal(rows, want) {
		t.Errorf("rows %q, want %q", rows, want)
	}
}

// TestRejectJSONUnknownKey: a key the table lacks is the file's schema
// when sampled (as without rejects), one row's fault after the sample.
func TestRejectJSONUnknownKey(t *testing.T) {
	schema := schemaOf(t, "a", "int64")
	data := `{"a":1}` + "\n" + `{"a":2,"zzz":1}` + "\n" + `{"a":3}` + "\n"
	_, _, _, err := decodeRejecting(t, "k.jsonl", data, Options{Schema: schema}, false)
	mustErrAs[*SchemaError](t, err)
	pre := strings.Repeat(`{"a":0}`+"\n", sampleRows)
	rows, rejects, _, err := decodeRejecting(t, "k.jsonl", pre+data, Options{Schema: schema}, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []rejected{{sampleRows + 2, "zzz", RejectTooManyColumns, `{"a":2,"zzz":1}`}}; !slices.Equal(rejects, want) {
		t.Errorf("rejects %v, want %v", rejects, want)
	}
	if len(rows) != sampleRows+2 {
		t.Errorf("%d rows, want %d", len(rows), sampleRows+2)
	}
}

// TestRejectJSONRestoresValidity: a rejected object's nulls (an explicit
// null, a missing key) cleared validity bits of the row the next object
// is written to, and the JSON decoder never sets a bit for a value (a row
// starts valid): rejectRow must set them back.
func TestRejectJSONRestoresValidity(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	lines := []string{
		`{"a":null,"s":null,"b":"no"}`, // 1: nulls written, then a cast fails
		`{"a":1,"s":"one","b":1}`,
		`{}`, // 3: a and s missing (null), then b missing: rejected
		`{"a":3,"s":"three","b":3}`,
	}
	var pre strings.Builder
	for range sampleRows {
		pre.WriteString(`{"a":0,"s":"","b":0}` + "\n")
	}
	for _, afterSample := range []bool{false, true} {
		t.Run(fmt.Sprintf("after_sample=%v", afterSample), func(t *testing.T) {
			in := strings.Join(lines, "\n") + "\n"
			if afterSample {
				in = pre.String() + in
			}
			rows, rejects, _, err := decodeRejecting(t, "v.jsonl", in, Options{Schema: schema}, false)
			if err != nil {
				t.Fatal(err)
			}
			if len(rejects) != 2 {
				t.Errorf("rejects: %v, want lines 1 and 3", rejects)
			}
			if got, want := rows[len(rows)-2:], []string{"1|one|1", "3|three|3"}; !slices.Equal(got, want) {
				t.Errorf("rows %q, want %q", got, want)
			}
		})
	}
}
