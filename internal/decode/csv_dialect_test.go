package decode

import (
	"context"
	"strings"
	"testing"
)

// TestCSVDialect checks each dialect option and header rule through
// inference, the fast path, the general path and a given schema.
func TestCSVDialect(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		csv   CSVOptions
		types string // inferred schema
		rows  []string
	}{
		{
			name:  "quote off: a stray quote is data",
			text:  "a,b\n1,say \"hi\n\"2\",x\"y\n",
			csv:   CSVOptions{Header: true, NoQuote: true},
			types: "a:utf8,b:utf8",
			rows:  []string{`1|say "hi`, `"2"|x"y`},
		},
		{
			name:  "quote off: numbers still typed",
			text:  "a,b\n1,\"\n2,\"\"\n",
			csv:   CSVOptions{Header: true, NoQuote: true},
			types: "a:int64,b:utf8",
			rows:  []string{`1|"`, `2|""`},
		},
		{
			name:  "backslash escape of quote, escape and delimiter",
			text:  "a,b\n\"x\\\"y\",\"c\\\\d\"\n\"e,f\",\"g\\nh\"\n3,\"say \"\"hi\"\"\"\n",
			csv:   CSVOptions{Header: true, Escape: '\\'},
			types: "a:utf8,b:utf8",
			rows:  []string{`x"y|c\d`, `e,f|g\nh`, `3|say "hi"`},
		},
		{
			name:  "escape across lines in a quoted field",
			text:  "a\n\"l1\\\"\nl2\"\n",
			csv:   CSVOptions{Header: true, Escape: '\\'},
			types: "a:utf8",
			rows:  []string{"l1\"\nl2"},
		},
		{
			name:  "no escape: a backslash is data",
			text:  "a\n\"x\\\"\n",
			csv:   CSVOptions{Header: true},
			types: "a:utf8",
			rows:  []string{`x\`},
		},
		{
			name:  "skip_rows 2 with garbage lines",
			text:  "garbage \"unclosed, ;;\nmore,garbage,here,x\nid,v\n1,a\n2,b\n",
			csv:   CSVOptions{Header: true, SkipRows: 2},
			types: "id:int64,v:utf8",
			rows:  []string{"1|a", "2|b"},
		},
		{
			name:  "skip_rows without header",
			text:  "junk\n1,a\n",
			csv:   CSVOptions{SkipRows: 1},
			types: "column0:int64,column1:utf8",
			rows:  []string{"1|a"},
		},
		{
			name:  "skip_rows past the end",
			text:  "x\ny\n",
			csv:   CSVOptions{Header: true, SkipRows: 5},
			types: "",
		},
		{
			name:  "comment lines anywhere",
			text:  "# top\nid,v\n#mid,\"x\n1,a\n# between\n2,b\n#end",
			csv:   CSVOptions{Header: true, Comment: '#'},
			types: "id:int64,v:utf8",
			rows:  []string{"1|a", "2|b"},
		},
		{
			name:  "comment with CRLF and skip_rows",
			text:  "junk\r\n;c\r\nid\r\n;c\r\n7\r\n",
			csv:   CSVOptions{Header: true, Comment: ';', SkipRows: 1},
			types: "id:int64",
			rows:  []string{"7"},
		},
		{
			name:  "trailing delimiter on every line",
			text:  "a,b,\n1,x,\n2,y,\n",
			csv:   CSVOptions{Header: true},
			types: "a:int64,b:utf8",
			rows:  []string{"1|x", "2|y"},
		},
		{
			name:  "trailing delimiter with CRLF, and a row without it",
			text:  "a,b,\r\n1,x,\r\n2,y\r\n",
			csv:   CSVOptions{Header: true},
			types: "a:int64,b:utf8",
			rows:  []string{"1|x", "2|y"},
		},
		{
			name:  "bare CR line ends",
			text:  "a,b\r1,x\r2,y\r3,z\r",
			csv:   CSVOptions{Header: true},
			types: "a:int64,b:utf8",
			rows:  []string{"1|x", "2|y", "3|z"},
		},
		{
			name:  "bare CR without a final line end",
			text:  "a\r1\r2\r3",
			csv:   CSVOptions{Header: true},
			types: "a:int64",
			rows:  []string{"1", "2", "3"},
		},
		{
			name:  "header names trimmed, duplicates and empties",
			text:  " a ,a,,a\n1,2,3,4\n",
			csv:   CSVOptions{Header: true},
			types: "a:int64,a_1:int64,column2:int64,a_2:int64",
			rows:  []string{"1|2|3|4"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			name := "s3://b/t.csv"
			opts := Options{CSV: tc.csv}
			s, err := Infer(context.Background(), csvObj(name, tc.text), opts)
			if err != nil {
				t.Fatalf("Infer: %v", err)
			}
			if got := typesOf(s); got != tc.types {
				t.Errorf("Infer types\n got %s\nwant %s", got, tc.types)
			}
			for _, general := range []bool{false, true} {
				rows, err := decodeDirect(t, name, []byte(tc.text), opts, general)
				if err != nil {
					t.Fatalf("decode (general only %t): %v", general, err)
				}
				if strings.Join(rows, "\n") != strings.Join(tc.rows, "\n") {
					t.Errorf("general only %t: rows\n got %q\nwant %q", general, rows, tc.rows)
				}
			}
			if s.NumFields() == 0 {
				return
			}
			withSchema := opts
			withSchema.Schema = s
			res := decodeAll(t, csvObj(name, tc.text), withSchema)
			if res.err != nil || strings.Join(res.rows, "\n") != strings.Join(tc.rows, "\n") {
				t.Errorf("with schema: rows %q, err %v", res.rows, res.err)
			}
		})
	}
}

// TestCSVDialectFastPath decodes many rows, so most take the fast path,
// and compares with the general path.
func TestCSVDialectFastPath(t *testing.T) {
	var b strings.Builder
	b.WriteString("# a comment\nid,name,\n")
	for i := range 5000 {
		if i%100 == 0 {
			b.WriteString("# comment\n")
		}
		b.WriteString("12345,alice,\n")
	}
	opts := Options{CSV: CSVOptions{Header: true, Comment: '#'}}
	fast, err := decodeDirect(t, "s3://b/t.csv", []byte(b.String()), opts, false)
	if err != nil {
		t.Fatal(err)
	}
	general, err := decodeDirect(t, "s3://b/t.csv", []byte(b.String()), opts, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(fast) != 5000 || strings.Join(fast, "\n") != strings.Join(general, "\n") {
		t.Fatalf("fast path %d rows, general %d; first %q", len(fast), len(general), fast[:1])
	}
}

func TestCSVDialectErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		csv  CSVOptions
		msg  string
	}{
		{"escape at the end of the file", "a\n\"x\\", CSVOptions{Header: true, Escape: '\\'}, "quoted field not closed"},
		{"escaped closing quote", "a\n\"x\\\"\n", CSVOptions{Header: true, Escape: '\\'}, "quoted field not closed"},
		{"negative skip_rows", "a\n", CSVOptions{Header: true, SkipRows: -1}, "skip_rows"},
		{"escape is the delimiter", "a\n", CSVOptions{Header: true, Escape: ','}, "escape"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := decodeAll(t, csvObj("s3://b/k.csv", tc.text), Options{CSV: tc.csv})
			if res.err == nil || !strings.Contains(res.err.Error(), tc.msg) {
				t.Fatalf("error %v, want one containing %q", res.err, tc.msg)
			}
		})
	}
}

func TestCSVSplittableDialect(t *testing.T) {
	tests := []struct {
		csv  CSVOptions
		want bool
	}{
		{CSVOptions{Header: true}, true},
		{CSVOptions{NoQuote: true}, true},
		{CSVOptions{SkipRows: 1}, false},
		{CSVOptions{Comment: '#'}, false},
		{CSVOptions{Escape: '\\'}, false},
		{CSVOptions{Escape: '"'}, true}, // the quote: doubled quotes, the default
	}
	for _, tc := range tests {
		if got := Splittable("t.csv", Options{CSV: tc.csv}); got != tc.want {
			t.Errorf("Splittable(%+v) = %t, want %t", tc.csv, got, tc.want)
		}
	}
}

// TestCSVBareCRLong reads a bare-CR file longer than the first read, and a
// CRLF file whose first line outlasts it with its CR as the read's last
// byte, which must not be taken for a bare-CR file.
func TestCSVBareCRLong(t *testing.T) {
	tests := []struct {
		name, text string
		rows       int
		first      string
	}{
		{"bare CR", "n\r" + strings.Repeat("12345\r", 20000), 20000, "12345"},
		{"CRLF, long first line", strings.Repeat("x", firstRead-1) + "\r\n1\r\n2\r\n", 2, "1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, general := range []bool{false, true} {
				rows, err := decodeDirect(t, "s3://b/t.csv", []byte(tc.text), Options{CSV: CSVOptions{Header: true}}, general)
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != tc.rows || rows[0] != tc.first {
					t.Fatalf("general only %t: %d rows, first %.20q; want %d", general, len(rows), rows[0], tc.rows)
				}
			}
		})
	}
}
