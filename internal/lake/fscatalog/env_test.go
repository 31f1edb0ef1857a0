package fscatalog

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/s3load/s3load/internal/lake/lakeio"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/testenv"
)

// kinds are the warehouses every behaviour is tested on.
var kinds = []string{"local", "s3"}

const bucket = "lake"

// opener opens the catalog again on the same warehouse, as another
// process would.
type opener func(t *testing.T) *Catalog

func newWarehouse(t *testing.T, kind string) opener {
	t.Helper()
	var warehouse string
	var fsys *lakeio.FS
	switch kind {
	case "local":
		warehouse, fsys = "file://"+t.TempDir()+"/warehouse", lakeio.New(nil)
	case "s3":
		srv := testenv.Versity(t)
		srv.CreateBucket(t, bucket)
		st, err := s3store.New(context.Background(), srv.Config())
		if err != nil {
			t.Fatal(err)
		}
		warehouse, fsys = "s3://"+bucket+"/warehouse", lakeio.New(st)
	default:
		t.Fatalf("unknown kind %q", kind)
	}
	return func(t *testing.T) *Catalog {
		t.Helper()
		c, err := New(warehouse, fsys)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
}

func testSchema() *iceberg.Schema {
	return iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
	)
}

// testCtx carries a checked allocator that iceberg-go's arrow code uses,
// and fails the test if anything allocated through it is not released.
func testCtx(t *testing.T) (context.Context, memory.Allocator) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	t.Cleanup(func() { mem.AssertSize(t, 0) })
	return compute.WithAllocator(context.Background(), mem), mem
}

// rows builds an arrow table of n rows whose ids start at first.
func rows(t *testing.T, mem memory.Allocator, first, n int) arrow.Table {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.StringBuilder).Append("row")
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
}

// appendRows commits n rows to tbl in one transaction of its own.
func appendRows(t *testing.T, ctx context.Context, mem memory.Allocator, tbl *table.Table, first, n int) (*table.Table, error) {
	t.Helper()
	data := rows(t, mem, first, n)
	defer data.Release()
	tx := tbl.NewTransaction()
	if err := tx.AppendTable(ctx, data, int64(n), nil); err != nil {
		t.Fatalf("appending: %v", err)
	}
	return tx.Commit(ctx)
}

// countRows scans the table with iceberg-go's own reader.
func countRows(t *testing.T, ctx context.Context, tbl *table.Table) int64 {
	t.Helper()
	got, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("scanning %s: %v", tbl.MetadataLocation(), err)
	}
	defer got.Release()
	return got.NumRows()
}
