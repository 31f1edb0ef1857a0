package decode

import (
	"context"
	"strings"
	"testing"
)

func csvObj(name, text string) *memObject { return &memObject{name: name, data: []byte(text)} }

func TestCSVDecode(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		text  string
		csv   CSVOptions
		types string // inferred schema
		rows  []string
	}{
		{
			name:  "header and types",
			file:  "s3://b/t.csv",
			text:  "id,name,amount,ok,day,at\n1,alice,1.5,true,2024-01-02,2024-01-02 03:04:05\n2,bob,2,FALSE,2024-02-03,2024-02-03T04:05:06.5Z\n",
			csv:   CSVOptions{Header: true},
			types: "id:int64,name:utf8,amount:float64,ok:bool,day:date32,at:timestamp[us, tz=UTC]",
			rows: []string{
				"1|alice|1.5|true|2024-01-02|2024-01-02T03:04:05Z",
				"2|bob|2|false|2024-02-03|2024-02-03T04:05:06.5Z",
			},
		},
		{
			name:  "quoted fields with delimiters, doubled quotes and newlines",
			file:  "s3://b/t.csv",
			text:  "a,b\n\"x, y\",\"say \"\"hi\"\"\"\n\"line1\nline2\",plain\n",
			csv:   CSVOptions{Header: true},
			types: "a:utf8,b:utf8",
			rows:  []string{`x, y|say "hi"`, "line1\nline2|plain"},
		},
		{
			name:  "CRLF and BOM",
			file:  "s3://b/t.csv",
			text:  "\xEF\xBB\xBFid,v\r\n1,a\r\n2,\"b\r\nc\"\r\n",
			csv:   CSVOptions{Header: true},
			types: "id:int64,v:utf8",
			rows:  []string{"1|a", "2|b\r\nc"},
		},
		{
			name:  "tab delimiter from .tsv, no header",
			file:  "s3://b/t.tsv",
			text:  "1\ta,b\n2\tc\n",
			types: "column0:int64,column1:utf8",
			rows:  []string{"1|a,b", "2|c"},
		},
		{
			name:  "explicit tab and single quote",
			file:  "s3://b/t.txt",
			text:  "k\tv\n'a\tb'\t'it''s'\n",
			csv:   CSVOptions{Header: true, Delimiter: '\t', Quote: '\''},
			types: "k:utf8,v:utf8",
			rows:  []string{"a\tb|it's"},
		},
		{
			name:  "null values; quoted empty is not null",
			file:  "s3://b/t.csv",
			text:  "a,b\nNA,\"\"\n1,x\n,\n",
			csv:   CSVOptions{Header: true, NullValues: []string{"NA", ""}},
			types: "a:int64,b:utf8",
			rows:  []string{"null|", "1|x", "null|null"},
		},
		{
			name:  "widening and all-null column",
			file:  "s3://b/t.csv",
			text:  "i,f,s,n,d\n1,1,1,,2024-01-01\n2,2.5,x,,2024-01-01 10:00:00\n",
			csv:   CSVOptions{Header: true},
			types: "i:int64,f:float64,s:utf8,n:utf8,d:timestamp[us, tz=UTC]",
			rows:  []string{"1|1|1|null|2024-01-01T00:00:00Z", "2|2.5|x|null|2024-01-01T10:00:00Z"},
		},
		{
			name:  "leading zeros stay text; blank lines skipped; no final newline",
			file:  "s3://b/t.csv",
			text:  "zip\n00501\n\n10001",
			csv:   CSVOptions{Header: true},
			types: "zip:utf8",
			rows:  []string{"00501", "10001"},
		},
		{
			name:  "empty and duplicate header names",
			file:  "s3://b/t.csv",
			text:  "a,,a\n1,2,3\n",
			csv:   CSVOptions{Header: true},
			types: "a:int64,column1:int64,a_1:int64",
			rows:  []string{"1|2|3"},
		},
		{
			name:  "header only",
			file:  "s3://b/t.csv",
			text:  "a,b\n",
			csv:   CSVOptions{Header: true},
			types: "a:utf8,b:utf8",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{CSV: tc.csv, BatchRows: 1}
			s, err := Infer(context.Background(), csvObj(tc.file, tc.text), opts)
			if err != nil {
				t.Fatalf("Infer: %v", err)
			}
			if got := typesOf(s); got != tc.types {
				t.Errorf("Infer types\n got %s\nwant %s", got, tc.types)
			}
			res := decodeAll(t, csvObj(tc.file, tc.text), opts)
			if res.err != nil {
				t.Fatalf("Decode: %v", res.err)
			}
			if strings.Join(res.rows, "\n") != strings.Join(tc.rows, "\n") {
				t.Errorf("rows\n got %q\nwant %q", res.rows, tc.rows)
			}
			// Decoding into the inferred schema gives the same rows.
			opts.Schema = s
			again := decodeAll(t, csvObj(tc.file, tc.text), opts)
			if again.err != nil || strings.Join(again.rows, "\n") != strings.Join(tc.rows, "\n") {
				t.Errorf("with schema: rows %q, err %v", again.rows, again.err)
			}
		})
	}
}

func TestCSVDataErrors(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		schema []string
		line   int64
		column string
		msg    string
	}{
		{"ragged row", "a,b\n1,2\n3\n", nil, 3, "", `s3://b/k.csv: line 3: expected 2 fields, found 1`},
		{"ragged row after multiline field", "a,b\n\"x\ny\",2\n3,4,5\n", nil, 4, "", "line 4: expected 2 fields, found 3"},
		{"bad int", "id,amount\n1,5\n2,abc\n", []string{"id", "int64", "amount", "int64"}, 3, "amount",
			`s3://b/k.csv: line 3, column "amount": parsing "abc" as int64: invalid syntax`},
		{"int overflow", "v\n99999999999999999999\n", []string{"v", "int64"}, 2, "v", "value out of range"},
		{"int8 range", "v\n200\n", []string{"v", "int8"}, 2, "v", `parsing "200" as int8: value out of range`},
		{"bad date", "d\n2024-02-30\n", []string{"d", "date32"}, 2, "d", `parsing "2024-02-30" as date32`},
		{"invalid UTF-8", "s\nok\nbad\xff\n", nil, 3, "s", "invalid UTF-8"},
		{"invalid UTF-8 in header", "a\xff\n1\n", nil, 1, "", "invalid UTF-8"},
		{"unterminated quote", "a\n\"open\n1\n", nil, 2, "", "quoted field not closed"},
		{"text after closing quote", "a,b\n\"x\"y,1\n", nil, 2, "", "after closing quote"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{CSV: CSVOptions{Header: true}}
			if tc.schema != nil {
				opts.Schema = schemaOf(t, tc.schema...)
			}
			res := decodeAll(t, csvObj("s3://b/k.csv", tc.text), opts)
			de := mustErrAs[*DataError](t, res.err)
			if de.Line != tc.line || de.Column != tc.column || de.File != "s3://b/k.csv" || de.RowGroup != -1 {
				t.Errorf("DataError{Line %d, Column %q, File %q, RowGroup %d}, want line %d column %q",
					de.Line, de.Column, de.File, de.RowGroup, tc.line, tc.column)
			}
			if !strings.Contains(res.err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", res.err, tc.msg)
			}
			if !IsPermanent(res.err) {
				t.Error("not permanent")
			}
		})
	}
}

func TestCSVSchemaMismatch(t *testing.T) {
	table := schemaOf(t, "id", "int64", "amount", "int64", "note", "utf8")
	tests := []struct {
		name   string
		text   string
		header bool
		want   string
	}{
		{
			name:   "renamed and extra columns",
			text:   "id,amt,note,extra\n1,2,x,3\n",
			header: true,
			want: `s3://b/k.csv: schema differs from the table: column "amount": expected int64, found (absent); ` +
				`column "amt": expected (absent), found int64; column "extra": expected (absent), found int64`,
		},
		{
			name: "no header, too few columns",
			text: "1,2\n",
			want: `s3://b/k.csv: schema differs from the table: column "note": expected utf8, found (absent)`,
		},
		{
			name: "no header, too many columns",
			text: "1,2,x,2024-01-01\n",
			want: `s3://b/k.csv: schema differs from the table: column "column3": expected (absent), found date32`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := decodeAll(t, csvObj("s3://b/k.csv", tc.text), Options{Schema: table, CSV: CSVOptions{Header: tc.header}})
			mustErrAs[*SchemaError](t, res.err)
			if res.err.Error() != tc.want {
				t.Errorf("error\n got %s\nwant %s", res.err, tc.want)
			}
			if !IsPermanent(res.err) {
				t.Error("not permanent")
			}
		})
	}
}

func TestCSVHeaderInAnyOrder(t *testing.T) {
	table := schemaOf(t, "id", "int64", "name", "utf8")
	res := decodeAll(t, csvObj("s3://b/k.csv", "name,id\nx,1\ny,2\n"), Options{Schema: table, CSV: CSVOptions{Header: true}})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if got := strings.Join(res.rows, ","); got != "1|x,2|y" {
		t.Errorf("rows %s", got)
	}
}

func TestCSVDeclaredTypes(t *testing.T) {
	table := schemaOf(t, "u", "uint16", "f", "float32", "d", "decimal128(6,2)", "ts", "timestamp[ms]",
		"b", "binary", "i", "int32", "ok", "bool", "t2", "timestamp[s, tz=UTC]")
	text := "u,f,d,ts,b,i,ok,t2\n65535,1.25,1234.5,2024-01-02T03:04:05.678+01:00,\xff\xfe, -7 ,1,2024-01-02\n"
	res := decodeAll(t, csvObj("s3://b/k.csv", text), Options{Schema: table, CSV: CSVOptions{Header: true}})
	if res.err != nil {
		t.Fatal(res.err)
	}
	// Binary renders as base64; the decimal is 123450 at scale 2.
	want := "65535|1.25|1234.5|2024-01-02T02:04:05.678Z|//4=|-7|true|2024-01-02T00:00:00Z"
	if len(res.rows) != 1 || res.rows[0] != want {
		t.Errorf("rows %q\nwant %q", res.rows, want)
	}
}

func TestCSVNonNullable(t *testing.T) {
	table := schemaOf(t, "a", "int64")
	table = arrowSchemaNonNull(table)
	res := decodeAll(t, csvObj("s3://b/k.csv", "a\n1\n\n,\n"), Options{Schema: table, CSV: CSVOptions{Header: false}})
	// "a" is a value in a non-header file: it does not parse as int64.
	de := mustErrAs[*DataError](t, res.err)
	if de.Line != 1 {
		t.Errorf("line %d", de.Line)
	}
	res = decodeAll(t, csvObj("s3://b/k.csv", "a\n1\n\"\"\n\n"), Options{Schema: table, CSV: CSVOptions{Header: true, NullValues: []string{"1"}}})
	de = mustErrAs[*DataError](t, res.err)
	if de.Line != 2 || !strings.Contains(de.Error(), "null value in a non-nullable column") {
		t.Errorf("got %v", de)
	}
}

func TestCSVBatching(t *testing.T) {
	var b strings.Builder
	b.WriteString("n\n")
	for i := range 2500 {
		b.WriteString(strings.Repeat("x", i%7))
		b.WriteString("1\n")
	}
	for _, batch := range []int{0, 1, 999, 5000} {
		res := decodeAll(t, csvObj("s3://b/k.csv", b.String()), Options{CSV: CSVOptions{Header: true}, BatchRows: batch})
		if res.err != nil || res.n != 2500 {
			t.Fatalf("batch %d: n %d err %v", batch, res.n, res.err)
		}
	}
}

func TestCSVLongField(t *testing.T) {
	// Longer than the stream buffer, inside and outside quotes.
	long := strings.Repeat("y", 3*streamBuffer)
	text := "a,b\n" + long + ",\"" + long + "\n" + long + "\"\n"
	res := decodeAll(t, csvObj("s3://b/k.csv", text), Options{CSV: CSVOptions{Header: true}})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.rows) != 1 || res.rows[0] != long+"|"+long+"\n"+long {
		t.Errorf("long fields mangled")
	}
}
