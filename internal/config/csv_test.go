package config

import (
	"fmt"
	"strings"
	"testing"
)

func TestCSVDialectParse(t *testing.T) {
	vars := env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s"})
	withCSV := func(csv string) string {
		return strings.Replace(valid, `csv: { delimiter: "\t", quote: "\"", header: true, null_values: ["", "NULL"] }`, "csv: "+csv, 1)
	}
	tests := []struct {
		name, csv string
		want      CSV // Header and NullValues are not compared
	}{
		// Absent delimiter, quote or header are filled but marked detected.
		{"defaults", `{ header: true }`, CSV{Delimiter: ",", Quote: `"`, Detect: CSVDetect{Delimiter: true, Quote: true}}},
		{"quote null is the default", `{ quote: ~ }`, CSV{Delimiter: ",", Quote: `"`, Detect: CSVDetect{Delimiter: true, Quote: true, Header: true}}},
		{"quote off", `{ quote: "" }`, CSV{Delimiter: ",", NoQuote: true, Detect: CSVDetect{Delimiter: true, Header: true}}},
		{"explicit values are kept", `{ delimiter: ",", quote: "\"", header: false }`, CSV{Delimiter: ",", Quote: `"`}},
		{"all options", `{ delimiter: ";", quote: "'", escape: "\\", skip_rows: 2, comment: "#" }`,
			CSV{Delimiter: ";", Quote: "'", Escape: `\`, SkipRows: 2, Comment: "#", Detect: CSVDetect{Header: true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(withCSV(tt.csv)), vars)
			if err != nil {
				t.Fatal(err)
			}
			got := c.Tables[0].CSV
			got.Header, got.NullValues = nil, nil
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("csv = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestCSVDialectRejects(t *testing.T) {
	vars := env(map[string]string{"S3_KEY": "k", "S3_SECRET": "s"})
	withCSV := func(csv string) string {
		return strings.Replace(valid, `csv: { delimiter: "\t", quote: "\"", header: true, null_values: ["", "NULL"] }`, "csv: "+csv, 1)
	}
	tests := []struct{ name, csv, wantKey string }{
		{"long escape", `{ escape: "\\\\" }`, "tables[0].csv.escape: must be one character"},
		{"long comment", `{ comment: "//" }`, "tables[0].csv.comment: must be one character"},
		{"comment is the delimiter", `{ comment: "," }`, "tables[0].csv.comment: must not be the delimiter"},
		{"negative skip_rows", `{ skip_rows: -1 }`, "tables[0].csv.skip_rows"},
		{"escape without quoting", `{ quote: "", escape: "\\" }`, "tables[0].csv.escape"},
		{"long quote", `{ quote: "''" }`, "tables[0].csv.quote"},
		{"quote is the delimiter", `{ quote: "," }`, "tables[0].csv.quote: must differ"},
		{"unknown key", `{ escpae: "\\" }`, "tables[0].csv.escpae: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(withCSV(tt.csv)), vars)
			if err == nil || !strings.Contains(err.Error(), tt.wantKey) {
				t.Fatalf("err = %v, want it to name %q", err, tt.wantKey)
			}
		})
	}
}
