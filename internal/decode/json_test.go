package decode

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func jsonObj(text string) *memObject { return &memObject{name: "s3://b/k.json", data: []byte(text)} }

func TestJSONDecode(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		types string
		rows  []string
	}{
		{
			name:  "json lines",
			text:  `{"id":1,"name":"a","score":1.5,"ok":true}` + "\n" + `{"id":2,"name":"b\u00e9\n","score":2,"ok":false}` + "\n",
			types: "id:int64,name:utf8,score:float64,ok:bool",
			rows:  []string{"1|a|1.5|true", "2|bé\n|2|false"},
		},
		{
			name:  "top-level array with whitespace, BOM and CRLF",
			text:  "\xEF\xBB\xBF \r\n[ {\"id\": 1},\r\n {\"id\": 2, \"extra\": null} ]\r\n",
			types: "id:int64,extra:utf8",
			rows:  []string{"1|null", "2|null"},
		},
		{
			name:  "missing fields are null; keys in any order",
			text:  `{"a":1}` + "\n" + `{"b":"x"}` + "\n" + `{"b":"y","a":3}`,
			types: "a:int64,b:utf8",
			rows:  []string{"1|null", "null|x", "3|y"},
		},
		{
			name:  "nested values become structs and lists",
			text:  `{"o":{"k": [1, 2]},"l":[{"x":null}]}`,
			types: "o:struct<k: list<item: int64, nullable> nullable>,l:list<item: struct<x: utf8 nullable>, nullable>",
			rows:  []string{`{"k":[1,2]}|[{"x":null}]`},
		},
		{
			name:  "mixed kinds widen to text",
			text:  `{"v":1}` + "\n" + `{"v":"two"}` + "\n" + `{"v":true}`,
			types: "v:utf8",
			rows:  []string{"1", "two", "true"},
		},
		{
			name:  "escaped keys and strings",
			text:  `{"a\"b":"\ud83d\ude00\t\/"}`,
			types: `a"b:utf8`,
			rows:  []string{"😀\t/"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Infer(context.Background(), jsonObj(tc.text), Options{})
			if err != nil {
				t.Fatalf("Infer: %v", err)
			}
			if got := typesOf(s); got != tc.types {
				t.Errorf("types\n got %s\nwant %s", got, tc.types)
			}
			res := decodeAll(t, jsonObj(tc.text), Options{BatchRows: 2})
			if res.err != nil {
				t.Fatalf("Decode: %v", res.err)
			}
			if strings.Join(res.rows, "\n") != strings.Join(tc.rows, "\n") {
				t.Errorf("rows\n got %q\nwant %q", res.rows, tc.rows)
			}
		})
	}
}

func TestJSONIntoTableSchema(t *testing.T) {
	table := schemaOf(t, "id", "int32", "at", "timestamp[us, tz=UTC]", "amount", "decimal128(10,2)", "f", "float64", "note", "utf8")
	text := `{"id":1,"at":"2024-01-02T03:04:05Z","amount":12.5,"f":3,"note":{"a":1}}` + "\n" + `{"id":2,"amount":"7"}`
	res := decodeAll(t, jsonObj(text), Options{Schema: table})
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []string{`1|2024-01-02T03:04:05Z|12.5|3|{"a":1}`, "2|null|7|null|null"}
	if strings.Join(res.rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows %q", res.rows)
	}
}

func TestJSONNestedTableTypes(t *testing.T) {
	// A table whose schema came from elsewhere (e.g. Parquet) can hold
	// real nested types.
	table := schemaFromJSONTypes(t)
	res := decodeAll(t, jsonObj(`{"s":{"x":1},"l":[1,2,null]}`+"\n"+`{"s":null}`), Options{Schema: table})
	if res.err != nil {
		t.Fatal(res.err)
	}
	want := []string{`{"x":1}|[1,2,null]`, "null|null"}
	if strings.Join(res.rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows %q", res.rows)
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		table  []string
		line   int64
		column string
		msg    string
	}{
		{"conflict after the sample", strings.Repeat(`{"v":1}`+"\n", sampleRows) + `{"v":"x"}`, []string{"v", "int64"}, sampleRows + 1, "v",
			`line 10001, column "v": expected int64, found string "x"`},
		{"fraction into int after the sample", strings.Repeat(`{"v":1}`+"\n", sampleRows) + `{"v":1.5}`, []string{"v", "int64"}, sampleRows + 1, "v", `parsing "1.5" as int64`},
		{"invalid JSON", "{\"v\":1}\n\n{\"v\":}\n", nil, 3, "", "invalid JSON"},
		{"not an object", "{\"v\":1}\n[1]\n", nil, 2, "", "a JSON value that is not an object (array)"},
		{"invalid UTF-8", "{\"v\":\"a\"}\n{\"v\":\"\xff\"}\n", nil, 2, "", "invalid UTF-8"},
		{"duplicate key", `{"v":1,"v":2}`, nil, 1, "v", "key appears twice"},
		{"truncated", `{"v":1}` + "\n" + `{"v":`, nil, 2, "", "file ends inside a JSON value"},
		{"unclosed array", `[{"v":1}`, nil, 1, "", "top-level array not closed"},
		{"junk after array", `[{"v":1}] x`, nil, 1, "", "after the top-level array"},
		{"new key after the sample", strings.Repeat(`{"v":1}`+"\n", sampleRows) + `{"w":1}`, nil, sampleRows + 1, "w", "not a column of the table"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts := Options{}
			if tc.table != nil {
				opts.Schema = schemaOf(t, tc.table...)
			}
			res := decodeAll(t, jsonObj(tc.text), opts)
			de := mustErrAs[*DataError](t, res.err)
			if de.Line != tc.line || de.Column != tc.column {
				t.Errorf("line %d column %q, want %d %q (%v)", de.Line, de.Column, tc.line, tc.column, de)
			}
			if !strings.Contains(res.err.Error(), tc.msg) {
				t.Errorf("error %q does not contain %q", res.err, tc.msg)
			}
		})
	}
}

func TestJSONSchemaMismatch(t *testing.T) {
	table := schemaOf(t, "id", "int64", "amount", "int64", "name", "utf8", "when", "date32")
	text := `{"id":1,"amount":"abc","extra":5,"name":7,"when":"2024-01-01"}`
	res := decodeAll(t, jsonObj(text), Options{Schema: table})
	mustErrAs[*SchemaError](t, res.err)
	want := `s3://b/k.json: schema differs from the table: column "amount": expected int64, found utf8; column "extra": expected (absent), found int64`
	if res.err.Error() != want {
		t.Errorf("error\n got %s\nwant %s", res.err, want)
	}
}

// TestJSONExpectedKeys covers the keys object compares in place (the key
// the row before had next) against those it scans: the same key escaped,
// a name that needs escaping, keys out of the last row's order, a key that
// only starts like the expected one, and a duplicate seen the fast way.
func TestJSONExpectedKeys(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: `a"b`, Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "idx", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	for _, tc := range []struct {
		name, data string
		want       []string
		err        string // in the error, if one is wanted
	}{
		{"in order", `{"id":1,"a\"b":"x","idx":2}` + "\n" + `{"id":3,"a\"b":"y","idx":4}`, []string{"1|x|2", "3|y|4"}, ""},
		{"escaped expected key", `{"id":1,"a\"b":"x","idx":2}` + "\n" + `{"i\u0064":3,"a\"b":"y","id\u0078":4}`, []string{"1|x|2", "3|y|4"}, ""},
		{"out of order", `{"id":1,"a\"b":"x","idx":2}` + "\n" + `{"idx":4,"id":3}` + "\n" + `{"id":5,"idx":6}`, []string{"1|x|2", "3|null|4", "5|null|6"}, ""},
		{"prefix of the expected key", `{"id":1,"idx":2}` + "\n" + `{"i":3}`, nil, `column "i"`},
		{"duplicate", `{"id":1,"idx":2}` + "\n" + `{"id":3,"idx":4,"idx":5}`, nil, `line 2, column "idx": key appears twice`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, err := decodeDirect(t, "s3://b/k.jsonl", []byte(tc.data), Options{Schema: schema}, false)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one with %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(rows, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("rows\n%s\nwant\n%s", strings.Join(rows, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestJSONErrorLinesAfterRefills checks the lines errors and rejects name
// deep into files whose objects span lines: they are counted only when
// asked for and before each refill drops bytes (jsonReader.lineAt), so a
// bad object is placed after the sample and after many refills, in JSON
// lines and in a top-level array, and the want is counted here from the
// text itself.
func TestJSONErrorLinesAfterRefills(t *testing.T) {
	// Objects of 1 to 4 lines, some blank lines between them.
	good := func(i int) string {
		switch i % 4 {
		case 0:
			return fmt.Sprintf(`{"v":%d}`+"\n", i)
		case 1:
			return fmt.Sprintf("{\n  \"v\": %d\n}\n", i)
		case 2:
			return fmt.Sprintf("{\"v\":\n%d}\n\n", i)
		default:
			return fmt.Sprintf("\n{\n\"v\"\n:%d}\n", i)
		}
	}
	const before = sampleRows + 2345
	tests := []struct {
		name      string
		bad       string // the object at index before
		array     bool
		truncated bool // bad ends the file, and the error names its last line
		msg       string
	}{
		{"type conflict", "{\n\"v\": \"x\"}\n", false, false, "expected int64"},
		{"unknown key", "{\n\n\"w\": 1}\n", false, false, "not a column of the table"},
		{"invalid JSON", "{\"v\":\n}\n", false, false, "invalid JSON"},
		{"not an object", "[1]\n", false, false, "not an object"},
		{"type conflict in an array", "{\n\"v\": \"x\"}", true, false, "expected int64"},
		{"truncated", "{\n\"v\":\n", false, true, "file ends inside a JSON value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			sep := ""
			if tc.array {
				b.WriteString("[\n")
				sep = ","
			}
			for i := range before {
				b.WriteString(good(i) + sep)
			}
			// The line of the bad object's first byte, or of the file's end.
			want := int64(strings.Count(b.String(), "\n")+strings.Count(tc.bad[:strings.IndexAny(tc.bad, "{[")], "\n")) + 1
			if tc.truncated {
				want = int64(strings.Count(b.String()+tc.bad, "\n")) + 1
			}
			b.WriteString(tc.bad)
			if !tc.truncated {
				b.WriteString(sep + good(1))
				if tc.array {
					b.WriteString(good(2) + "]")
				}
			}
			res := decodeAll(t, jsonObj(b.String()), Options{Schema: schemaOf(t, "v", "int64")})
			de := mustErrAs[*DataError](t, res.err)
			if de.Line != want || !strings.Contains(res.err.Error(), tc.msg) {
				t.Errorf("error %q at line %d, want %q at line %d", res.err, de.Line, tc.msg, want)
			}
		})
	}

	t.Run("rejects", func(t *testing.T) {
		var b strings.Builder
		var want []int64
		for i := range before {
			if i > sampleRows && i%997 == 0 {
				want = append(want, int64(strings.Count(b.String(), "\n"))+1)
				b.WriteString(`{"v":"x"}` + "\n")
				continue
			}
			b.WriteString(good(i))
		}
		_, rejects, _, err := decodeRejecting(t, "r.jsonl", b.String(), Options{Schema: schemaOf(t, "v", "int64")}, false)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, r := range rejects {
			got = append(got, r.Line)
		}
		if !slices.Equal(got, want) {
			t.Errorf("rejects at lines %v, want %v", got, want)
		}
	})
}
