package cli

import (
	"fmt"
	"strings"
	"testing"

	"github.com/s3load/s3load/internal/lake/lakecheck"
)

// JSON objects, arrays, dates and timestamps load into an Iceberg table
// as struct, list, date and timestamptz columns.
func TestJSONTypesIntoIceberg(t *testing.T) {
	e := newIcebergEnv(t, false)
	var b strings.Builder
	for i := range 30 {
		fmt.Fprintf(&b, `{"id":%d,"addr":{"city":"c%d","zip":%d},"tags":["a","b%d"],"day":"2024-01-%02d","at":"2024-01-02T03:04:%02d+02:00"}`+"\n",
			i, i, 1000+i, i, i%28+1, i%60)
	}
	e.put("j/a.jsonl", []byte(b.String()))
	runOK(t, e.config("  - { name: j, prefix: j/ }", ""))
	tbl := e.read(t, "j")
	if tbl.Rows != 30 {
		t.Errorf("%d rows, want 30", tbl.Rows)
	}
	if n := e.scanRows(t, "j"); n != 30 {
		t.Errorf("iceberg-go scans %d rows, want 30", n)
	}
	want := "id:long, addr:struct<city:string, zip:long>, tags:list<element:string>, day:date, at:timestamptz"
	if got := schemaString(tbl.Schema); got != want {
		t.Errorf("schema\n got %s\nwant %s", got, want)
	}
}

func schemaString(fields []lakecheck.Field) string {
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Name + ":" + f.Type
		if len(f.Fields) > 0 {
			parts[i] += "<" + schemaString(f.Fields) + ">"
		}
	}
	return strings.Join(parts, ", ")
}
