package lakecheck_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/s3load/s3load/internal/lake/lakecheck"
)

// readFixture reads a fixture's table with a checked allocator.
func readFixture(t *testing.T, location string, opts ...lakecheck.Option) (*lakecheck.Table, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	return lakecheck.ReadTable(context.Background(), lakecheck.LocalOpener(), location,
		append(opts, lakecheck.WithAllocator(mem))...)
}

// want is what a table read should find.
type want struct {
	rows      int64
	operation string
	loadID    string
	files     int
	cols      map[string]lakecheck.Agg
}

var wantSecond = want{
	rows: 4, operation: "overwrite", loadID: "load-2", files: 1,
	cols: map[string]lakecheck.Agg{
		"id":    {Type: "long", Count: 4, Sum: 100, Min: int64(10), Max: int64(40)},
		"name":  {Type: "string", Count: 3, Nulls: 1, Min: "x", Max: "z"},
		"price": {Type: "double", Count: 3, Nulls: 1, Sum: 9.25, Min: -1.0, Max: 10.0},
		"day":   {Type: "date", Count: 4, Min: int64(day0 - 3), Max: int64(day0 + 5)},
		"at":    {Type: "timestamp", Count: 4, Min: int64(ts0 - 1), Max: int64(ts0 + 7)},
	},
}

var wantFirst = want{
	rows: 3, operation: "append", loadID: "load-1", files: 1,
	cols: map[string]lakecheck.Agg{
		"id":    {Type: "long", Count: 3, Sum: 6, Min: int64(1), Max: int64(3)},
		"name":  {Type: "string", Count: 2, Nulls: 1, Min: "a", Max: "b"},
		"price": {Type: "double", Count: 2, Nulls: 1, Sum: 4, Min: 1.5, Max: 2.5},
		"day":   {Type: "date", Count: 3, Min: int64(day0), Max: int64(day0 + 2)},
		"at":    {Type: "timestamp", Count: 3, Min: int64(ts0), Max: int64(ts0 + 2)},
	},
}

func checkTable(t *testing.T, got *lakecheck.Table, w want) {
	t.Helper()
	if got.Rows != w.rows {
		t.Errorf("Rows = %d, want %d", got.Rows, w.rows)
	}
	if got.Operation != w.operation {
		t.Errorf("Operation = %q, want %q", got.Operation, w.operation)
	}
	if id := got.Summary["s3load.load-id"]; id != w.loadID {
		t.Errorf("summary load id = %q, want %q", id, w.loadID)
	}
	if len(got.DataFiles) != w.files {
		t.Errorf("%d data files, want %d", len(got.DataFiles), w.files)
	}
	var listed int64
	for _, df := range got.DataFiles {
		listed += df.RecordCount
	}
	if listed != w.rows {
		t.Errorf("data files list %d records, want %d", listed, w.rows)
	}
	if len(got.Columns) != len(w.cols) {
		t.Errorf("%d columns, want %d", len(got.Columns), len(w.cols))
	}
	for name, wc := range w.cols {
		gc, ok := got.Columns[name]
		if !ok {
			t.Errorf("column %q missing", name)
			continue
		}
		if *gc != wc {
			t.Errorf("column %q = %+v, want %+v", name, *gc, wc)
		}
	}
}

func TestReadTable(t *testing.T) {
	for _, version := range []int{1, 2} {
		f := newFixture(t, version)
		for _, loc := range []struct{ name, location string }{
			{"metadata path", f.metadata},
			{"metadata file URL", "file://" + f.metadata},
			{"table directory", f.tableDir},
		} {
			t.Run(loc.name+" v"+string(rune('0'+version)), func(t *testing.T) {
				got, err := readFixture(t, loc.location)
				if err != nil {
					t.Fatalf("ReadTable: %v", err)
				}
				checkTable(t, got, wantSecond)
				if got.MetadataLocation != f.metadata && got.MetadataLocation != "file://"+f.metadata {
					t.Errorf("MetadataLocation = %q, want %q", got.MetadataLocation, f.metadata)
				}
				if got.FormatVersion != version {
					t.Errorf("FormatVersion = %d, want %d", got.FormatVersion, version)
				}
				if got.SnapshotID != f.second {
					t.Errorf("SnapshotID = %d, want %d", got.SnapshotID, f.second)
				}
				if len(got.Snapshots) != 2 {
					t.Fatalf("%d snapshots, want 2", len(got.Snapshots))
				}
				if s := got.Snapshots[1]; s.ID != f.second || s.ParentID != f.first || s.Operation != "overwrite" || s.Timestamp.IsZero() {
					t.Errorf("second snapshot = %+v", s)
				}
				if len(got.Schema) != 5 || !reflect.DeepEqual(got.Schema[0], lakecheck.Field{ID: 1, Name: "id", Type: "long", Required: true}) {
					t.Errorf("Schema = %+v", got.Schema)
				}
				df := got.DataFiles[0]
				if df.ValueCounts[1] != 4 || df.NullValueCounts[2] != 1 || len(df.LowerBounds[1]) != 8 {
					t.Errorf("data file stats = %+v", df)
				}
			})
		}
	}
}

func TestAtSnapshot(t *testing.T) {
	f := newFixture(t, 2)
	got, err := readFixture(t, f.tableDir, lakecheck.AtSnapshot(f.first))
	if err != nil {
		t.Fatalf("ReadTable: %v", err)
	}
	if got.SnapshotID != f.first {
		t.Errorf("SnapshotID = %d, want %d", got.SnapshotID, f.first)
	}
	checkTable(t, got, wantFirst)
}
