package decode

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestJSONTypesInferAndDecode(t *testing.T) {
	tests := []struct {
		name  string
		text  string
		types string
		rows  []string
	}{
		{
			name:  "nested object: union of keys in first-seen order, missing key null",
			text:  `{"o":{"a":1,"b":"x"}}` + "\n" + `{"o":{"c":true,"a":2}}` + "\n" + `{"o":null}`,
			types: "o:struct<a: int64, b: utf8, c: bool>",
			rows:  []string{`{"a":1,"b":"x","c":null}`, `{"a":2,"b":null,"c":true}`, "null"},
		},
		{
			name:  "object nested twice",
			text:  `{"o":{"p":{"q":1.5}}}`,
			types: "o:struct<p: struct<q: float64>>",
			rows:  []string{`{"p":{"q":1.5}}`},
		},
		{
			name:  "array of ints",
			text:  `{"l":[1,2,3]}` + "\n" + `{"l":[]}` + "\n" + `{"l":null}`,
			types: "l:list<item: int64>",
			rows:  []string{"[1,2,3]", "[]", "null"},
		},
		{
			name:  "array of ints and floats widens to float64",
			text:  `{"l":[1,2.5]}` + "\n" + `{"l":[3]}`,
			types: "l:list<item: float64>",
			rows:  []string{"[1,2.5]", "[3]"},
		},
		{
			name:  "array of strings with nulls",
			text:  `{"l":["a",null,"b"]}`,
			types: "l:list<item: utf8>",
			rows:  []string{`["a",null,"b"]`},
		},
		{
			name:  "array of objects",
			text:  `{"l":[{"x":1},{"y":"z"}]}`,
			types: "l:list<item: struct<x: int64, y: utf8>>",
			rows:  []string{`[{"x":1,"y":null},{"x":null,"y":"z"}]`},
		},
		{
			name:  "array of mixed kinds falls back to JSON text",
			text:  `{"l":[1,"a",{"b":2}]}` + "\n" + `{"l":[ ]}`,
			types: "l:utf8",
			rows:  []string{`[1,"a",{"b":2}]`, "[]"},
		},
		{
			name:  "arrays only ever empty are lists of strings",
			text:  `{"l":[]}`,
			types: "l:list<item: utf8>",
			rows:  []string{"[]"},
		},
		{
			name:  "object beside a scalar falls back to JSON text",
			text:  `{"v":{"a":1}}` + "\n" + `{"v":3}`,
			types: "v:utf8",
			rows:  []string{`{"a":1}`, "3"},
		},
		{
			name:  "only ever empty objects are JSON text",
			text:  `{"v":{}}`,
			types: "v:utf8",
			rows:  []string{`{}`},
		},
		{
			name:  "dates",
			text:  `{"d":"2024-01-02"}` + "\n" + `{"d":null}`,
			types: "d:date32",
			rows:  []string{"2024-01-02", "null"},
		},
		{
			name:  "timestamp with Z",
			text:  `{"t":"2024-01-02T03:04:05Z"}`,
			types: "t:timestamp[us, tz=UTC]",
			rows:  []string{"2024-01-02T03:04:05Z"},
		},
		{
			name:  "timestamp with an offset is converted to UTC",
			text:  `{"t":"2024-01-02T03:04:05.123456+02:00"}`,
			types: "t:timestamp[us, tz=UTC]",
			rows:  []string{"2024-01-02T01:04:05.123456Z"},
		},
		{
			name:  "timestamp without offset is wall-clock",
			text:  `{"t":"2024-01-02T03:04:05"}`,
			types: "t:timestamp[us]",
			rows:  []string{"2024-01-02T03:04:05Z"},
		},
		{
			name:  "dates beside timestamps widen to timestamps",
			text:  `{"t":"2024-01-02"}` + "\n" + `{"t":"2024-01-02T03:04:05Z"}`,
			types: "t:timestamp[us, tz=UTC]",
			rows:  []string{"2024-01-02T00:00:00Z", "2024-01-02T03:04:05Z"},
		},
		{
			name:  "timestamps inside structs and lists",
			text:  `{"o":{"at":"2024-01-02T03:04:05+01:00","on":"2024-03-04"},"l":["2024-01-02T00:00:00Z"]}`,
			types: "o:struct<at: timestamp[us, tz=UTC], on: date32>,l:list<item: timestamp[us, tz=UTC]>",
			rows:  []string{`{"at":"2024-01-02T02:04:05Z","on":"2024-03-04"}|["2024-01-02T00:00:00Z"]`},
		},
		{
			name:  "not-quite dates stay strings",
			text:  `{"s":"2024-13-01"}` + "\n" + `{"s":"2024-01-02 junk"}`,
			types: "s:utf8",
			rows:  []string{"2024-13-01", "2024-01-02 junk"},
		},
		{
			name:  "int then float widens to float64",
			text:  `{"v":1}` + "\n" + `{"v":2.5}`,
			types: "v:float64",
			rows:  []string{"1", "2.5"},
		},
		{
			name:  "number then string widens to string",
			text:  `{"v":1.5}` + "\n" + `{"v":"x"}`,
			types: "v:utf8",
			rows:  []string{"1.5", "x"},
		},
		{
			name:  "struct field widens like a column",
			text:  `{"o":{"v":1}}` + "\n" + `{"o":{"v":"x"}}` + "\n" + `{"o":{"v":{"deep":true}}}`,
			types: "o:struct<v: utf8>",
			rows:  []string{`{"v":"1"}`, `{"v":"x"}`, `{"v":"{\"deep\":true}"}`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Infer(context.Background(), jsonObj(tc.text), Options{})
			if err != nil {
				t.Fatalf("Infer: %v", err)
			}
			if got := compactTypes(typesOf(s)); got != tc.types {
				t.Errorf("types\n got %s\nwant %s", got, tc.types)
			}
			// Inferred while decoding, and decoded into the inferred schema
			// as a declared one.
			for _, opts := range []Options{{BatchRows: 2}, {BatchRows: 2, Schema: s}} {
				res := decodeAll(t, jsonObj(tc.text), opts)
				if res.err != nil {
					t.Fatalf("Decode: %v", res.err)
				}
				if strings.Join(res.rows, "\n") != strings.Join(tc.rows, "\n") {
					t.Errorf("rows\n got %q\nwant %q", res.rows, tc.rows)
				}
			}
		})
	}
}

// compactTypes drops the nullable markers of struct fields, which every
// inferred field has.
func compactTypes(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, ", nullable", ""), " nullable", "")
}

func TestJSONTypesDecodeErrors(t *testing.T) {
	after := strings.Repeat(`{"v":null}`+"\n", sampleRows)
	tests := []struct {
		name, text string
		dt         arrow.DataType
		line       int64
		column     string
		msg        string
	}{
		{"object where a list is expected", `{"v":{"a":1}}`, arrow.ListOf(arrow.PrimitiveTypes.Int64), 1, "v", "expected list<item: int64, nullable>, found object"},
		{"list where a struct is expected", `{"v":[1]}`, arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), 1, "v", "found array [1]"},
		{"wrong element after the sample", after + `{"v":[1,"x"]}`, arrow.ListOf(arrow.PrimitiveTypes.Int64), sampleRows + 1, "v", `element 1: expected int64, found string "x"`},
		{"wrong field kind", `{"v":{"a":"x"}}`, arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), 1, "v", `field a: expected int64, found string "x"`},
		{"unknown struct key", `{"v":{"a":1,"b":2}}`, arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), 1, "v", `key "b" is not a field`},
		{"duplicate struct key", `{"v":{"a":1,"a":2}}`, arrow.StructOf(arrow.Field{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true}), 1, "v", "key appears twice"},
		{"bad timestamp in a struct", `{"v":{"a":"soon"}}`, arrow.StructOf(arrow.Field{Name: "a", Type: timestampType, Nullable: true}), 1, "v", `parsing "soon"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := decodeAll(t, jsonObj(tc.text), Options{Schema: arrow.NewSchema([]arrow.Field{{Name: "v", Type: tc.dt, Nullable: true}}, nil)})
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
