package decode

import (
	"context"
	"errors"
	"testing"
)

// TestJSONEmpty: a JSON file of no object gives no schema (ErrEmpty, not a
// bad file) and decodes as no row into a table's schema.
func TestJSONEmpty(t *testing.T) {
	tests := []struct{ name, key, text string }{
		{"empty array", "k.json", "[]"},
		{"empty array with spaces", "k.json", " [ \n ] \n"},
		{"empty file", "k.json", ""},
		{"empty json lines", "k.jsonl", ""},
		{"whitespace only", "k.json", "  \n\t\r\n  "},
		{"whitespace only json lines", "k.jsonl", "\n\n\n"},
		{"BOM only", "k.json", "\xEF\xBB\xBF\n"},
		{"only empty objects", "k.jsonl", "{}\n{ }\n"},
	}
	table := schemaOf(t, "id", "int64", "name", "utf8")
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := func() *memObject { return &memObject{name: "s3://b/" + tc.key, data: []byte(tc.text)} }
			s, err := Infer(context.Background(), obj(), Options{})
			if !errors.Is(err, ErrEmpty) {
				t.Fatalf("Infer = %v, %v; want ErrEmpty", s, err)
			}
			if IsPermanent(err) {
				t.Errorf("an empty file is not a bad file: %v", err)
			}
			res := decodeAll(t, obj(), Options{Schema: table})
			if res.err != nil {
				t.Fatalf("Decode into the table's schema: %v", res.err)
			}
			if tc.name != "only empty objects" && len(res.rows) != 0 {
				t.Errorf("rows %q, want none", res.rows)
			}
		})
	}
}

// TestJSONNotObjects: a file of scalars or arrays fails, naming the line
// and the kind of value, whether inferred or decoded into a table.
func TestJSONNotObjects(t *testing.T) {
	const must = "; each line, or each element of a top-level array, must be an object"
	tests := []struct {
		name string
		text string
		line int64
		want string
	}{
		{"numbers as lines", "1\n2\n", 1, "s3://b/k.json: line 1: a JSON value that is not an object (number)" + must},
		{"array of arrays", "[[1,2],[3]]", 1, "s3://b/k.json: line 1: a JSON value that is not an object (array)" + must},
		{"array of numbers", "[\n 1, 2]", 2, "s3://b/k.json: line 2: a JSON value that is not an object (number)" + must},
		{"strings", "\"a\"\n", 1, "s3://b/k.json: line 1: a JSON value that is not an object (string)" + must},
		{"negative number", "-1", 1, "s3://b/k.json: line 1: a JSON value that is not an object (number)" + must},
		{"null after an object", "{\"v\":1}\nnull\n", 2, "s3://b/k.json: line 2: a JSON value that is not an object (null)" + must},
		{"boolean element", "[{\"v\":1}, true]", 1, "s3://b/k.json: line 1: a JSON value that is not an object (boolean)" + must},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Infer(context.Background(), jsonObj(tc.text), Options{})
			de := mustErrAs[*DataError](t, err)
			if de.Line != tc.line || err.Error() != tc.want {
				t.Errorf("Infer error\n got %v\nwant %s", err, tc.want)
			}
			res := decodeAll(t, jsonObj(tc.text), Options{Schema: schemaOf(t, "v", "int64")})
			if res.err == nil || res.err.Error() != tc.want {
				t.Errorf("Decode error\n got %v\nwant %s", res.err, tc.want)
			}
		})
	}
}
