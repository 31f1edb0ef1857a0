package decode

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

var detectAll = CSVOptions{Detect: CSVDetect{Delimiter: true, Quote: true, Header: true}}

// TestCSVDetect checks the dialect Infer detects, records in the schema's
// metadata, and the columns it gives.
func TestCSVDetect(t *testing.T) {
	tests := []struct {
		name, file, text string
		csv              CSVOptions
		delim, quote     string
		header           string
		types            string
	}{
		{"comma", "a.csv", "id,name\n1,x\n2,y\n", detectAll, ",", `"`, "true", "id:int64,name:utf8"},
		{"semicolon", "a.csv", "id;name\n1;x\n2;y\n", detectAll, ";", `"`, "true", "id:int64,name:utf8"},
		{"semicolon with decimal commas", "a.csv", "id;price\n1;1,5\n2;2,25\n3;7\n", detectAll, ";", `"`, "true", "id:int64,price:utf8"},
		{"tab", "a.txt", "id\tname\n1\tx\n2\ty\n", detectAll, "\t", `"`, "true", "id:int64,name:utf8"},
		{"pipe", "a.csv", "id|name\n1|x\n2|y\n", detectAll, "|", `"`, "true", "id:int64,name:utf8"},
		{"quoted fields hold other delimiters", "a.csv", "a;b\n\"x,y,z\";1\n\"p,q\";2\n\"r\";3\n", detectAll, ";", `"`, "true", "a:utf8,b:int64"},
		{"quoted delimiter needs the quote", "a.csv", "a,b\n\"x,y\",1\n\"p,q\",2\n", detectAll, ",", `"`, "true", "a:utf8,b:int64"},
		{"no header: numeric first line", "a.csv", "1;2.5;x\n2;3.5;y\n3;4;z\n", detectAll, ";", `"`, "false", "column0:int64,column1:float64,column2:utf8"},
		{"all text: header assumed", "a.csv", "a,b\nx,y\np,q\n", detectAll, ",", `"`, "true", "a:utf8,b:utf8"},
		{"no header: a text column first", "a.csv", "x,1\ny,2\nz,3\n", detectAll, ",", `"`, "false", "column0:utf8,column1:int64"},
		{"header told by the third column", "a.csv", "a,b,c\nx,p,1\ny,q,2\n", detectAll, ",", `"`, "true", "a:utf8,b:utf8,c:int64"},
		{"header told after a column turns to text", "a.csv", "n,m\n1,5\n2,6\nthree,7\n", detectAll, ",", `"`, "true", "n:utf8,m:int64"},
		{"no header: a null first value fits", "a.csv", "1,\n2,5\n3,6\n", detectAll, ",", `"`, "false", "column0:int64,column1:int64"},
		{"header: a quoted first value over numbers", "a.csv", "\"1\",\"2\"\n3,4\n5,6\n", detectAll, ",", `"`, "true", "1:int64,2:int64"},
		{"single column stays single", "a.csv", "name\nx\ny\n", detectAll, ",", `"`, "true", "name:utf8"},
		{"ambiguous falls back to comma", "a.csv", "a,b;c\nx,y;z\n", detectAll, ",", `"`, "true", "a:utf8,b;c:utf8"},
		{"one line", "a.csv", "a;b\n", detectAll, ";", `"`, "true", "a:utf8,b:utf8"},
		{"explicit delimiter is kept", "a.csv", "a;b\n1;2\n", CSVOptions{Delimiter: ',', Detect: CSVDetect{Quote: true, Header: true}}, ",", `"`, "true", "a;b:utf8"},
		{"explicit header is kept", "a.csv", "1;2\n3;4\n", CSVOptions{Header: true, Detect: CSVDetect{Delimiter: true, Quote: true}}, ";", `"`, "true", "1:int64,2:int64"},
		{"tsv name means tab", "a.tsv", "a;b\tc\n1;2\t3\n", detectAll, "\t", `"`, "true", "a;b:utf8,c:int64"},
		{"comments and skipped rows are not sampled", "a.csv", "junk,junk,junk\n#x,y,z\na;b\n1;2\n", CSVOptions{SkipRows: 1, Comment: '#', Detect: detectAll.Detect}, ";", `"`, "true", "a:int64,b:int64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schema, err := Infer(context.Background(), &memObject{name: tt.file, data: []byte(tt.text)}, Options{CSV: tt.csv})
			if err != nil {
				t.Fatal(err)
			}
			if got := typesOf(schema); got != tt.types {
				t.Errorf("types = %s, want %s", got, tt.types)
			}
			md := schema.Metadata()
			for k, want := range map[string]string{MetaCSVDelimiter: tt.delim, MetaCSVQuote: tt.quote, MetaCSVHeader: tt.header} {
				if got, _ := md.GetValue(k); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

// TestCSVDetectedDecode decodes files without any dialect option: alone,
// and with the schema (and dialect) Infer gave for their table.
func TestCSVDetectedDecode(t *testing.T) {
	first := &memObject{name: "a.csv", data: []byte("id;name\n1;x\n2;\"y;z\"\n")}
	res := decodeAll(t, first, Options{CSV: detectAll})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if got := typesOf(res.schema); got != "id:int64,name:utf8" {
		t.Errorf("types = %s", got)
	}
	if got := strings.Join(res.rows, " "); got != "1|x 2|y;z" {
		t.Errorf("rows = %s", got)
	}

	schema, err := Infer(context.Background(), first, Options{CSV: detectAll})
	if err != nil {
		t.Fatal(err)
	}
	// A headerless table: every file is read without a header, even one
	// whose own first line would look like one.
	noHeader, err := Infer(context.Background(), &memObject{name: "n.csv", data: []byte("1;2\n3;4\n")}, Options{CSV: detectAll})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		schema string
		text   string
		rows   string
	}{
		{"same dialect", "table", "name;id\nq;3\n", "3|q"},
		{"a range of a file", "table", "id;name\n5;a\n6;b\n", "5|a 6|b"},
		{"headerless table", "noheader", "5;6\n7;8\n", "5|6 7|8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{CSV: detectAll, Schema: schema}
			if tt.schema == "noheader" {
				opts.Schema = noHeader
			}
			obj := &memObject{name: "b.csv", data: []byte(tt.text)}
			if tt.name == "a range of a file" {
				opts.Range = &ByteRange{Start: 0, End: obj.Size()}
				opts.Range.Start = 1 // still owns every line after the header
			}
			res := decodeAll(t, obj, opts)
			if res.err != nil {
				t.Fatal(res.err)
			}
			if got := strings.Join(res.rows, " "); got != tt.rows {
				t.Errorf("rows = %s, want %s", got, tt.rows)
			}
		})
	}
}

// TestCSVDetectMismatch: a file that splits into one column in the
// table's detected dialect but into several in its own fails naming both.
func TestCSVDetectMismatch(t *testing.T) {
	schema, err := Infer(context.Background(), &memObject{name: "a.csv", data: []byte("id,name\n1,x\n")}, Options{CSV: detectAll})
	if err != nil {
		t.Fatal(err)
	}
	res := decodeAll(t, &memObject{name: "b.csv", data: []byte("id;name\n1;x\n2;y\n")}, Options{CSV: detectAll, Schema: schema})
	if !errors.Is(res.err, ErrDialectMismatch) {
		t.Fatalf("err = %v, want ErrDialectMismatch", res.err)
	}
	de := mustErrAs[*DataError](t, res.err)
	for _, want := range []string{"b.csv", "delimiter ';'", "delimiter ','"} {
		if !strings.Contains(res.err.Error(), want) {
			t.Errorf("err %q does not name %q (%v)", res.err, want, de.File)
		}
	}
}

// A split that stops once a field count holds a majority gives the same
// most common count as one that reads every record it may: on samples of
// runs of records of 1 to 4 fields, cut short or whole, including a
// majority reached on the last record and samples that never reach one.
func TestSettledScoreKeepsCols(t *testing.T) {
	s, err := resolve("t.csv", Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	samples := map[string]string{
		"51 of two, then one": strings.Repeat("a,b\n", 51) + strings.Repeat("a\n", 49),
		"exactly 51 of two":   strings.Repeat("a,b\n", 51),
		"50 of two, 50 of 3":  strings.Repeat("a,b\n", 50) + strings.Repeat("a,b,c\n", 50),
		"one column":          strings.Repeat("a\n", 120),
	}
	for i := range 300 {
		var b strings.Builder
		for b.Len() < 2000 {
			fields, run := 1+r.IntN(4), 1+r.IntN(60)
			for range run {
				b.WriteString(strings.Repeat("x,", fields-1) + "x\n")
			}
		}
		samples[fmt.Sprintf("random %d", i)] = b.String()
	}
	for name, sample := range samples {
		for _, atEOF := range []bool{true, false} {
			all := scoreCandidate([]byte(sample), atEOF, &s, ',', '"', scoreCount, nil)
			settled := scoreCandidate([]byte(sample), atEOF, &s, ',', '"', scoreSettle, nil)
			if all.cols != settled.cols {
				t.Errorf("%s (at EOF %t): %d columns settled, %d read through", name, atEOF, settled.cols, all.cols)
			}
		}
	}
}
