package lakecheck_test

import (
	"context"
	"testing"

	"github.com/apache/iceberg-go"

	"github.com/s3load/s3load/internal/lake/lakecheck"
)

// TestSchemaEvolution checks that columns are resolved by field id: a
// renamed column keeps its values and a column added after the data was
// written reads as nulls.
func TestSchemaEvolution(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 2)
	txn := f.tbl.NewTransaction()
	if err := txn.UpdateSchema(true, false).
		RenameColumn([]string{"name"}, "label").
		AddColumn([]string{"extra"}, iceberg.PrimitiveTypes.Int64, "", false, nil).
		Commit(); err != nil {
		t.Fatalf("updating schema: %v", err)
	}
	if _, err := txn.Commit(ctx); err != nil {
		t.Fatalf("committing schema: %v", err)
	}

	got, err := readFixture(t, f.tableDir)
	if err != nil {
		t.Fatalf("ReadTable: %v", err)
	}
	if _, ok := got.Columns["name"]; ok {
		t.Error("old column name still listed")
	}
	if c, want := *got.Columns["label"], wantSecond.cols["name"]; c != want {
		t.Errorf("label = %+v, want %+v", c, want)
	}
	if c, want := *got.Columns["extra"], (lakecheck.Agg{Type: "long", Nulls: 4}); c != want {
		t.Errorf("extra = %+v, want %+v", c, want)
	}
	if n := len(got.Schema); n != 6 {
		t.Errorf("schema has %d fields, want 6", n)
	}
}
