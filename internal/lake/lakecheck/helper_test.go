package lakecheck_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/hadoop"
	"github.com/apache/iceberg-go/table"
)

// testSchema has one column of each kind the checker aggregates.
func testSchema() *iceberg.Schema {
	return iceberg.NewSchema(0,
		iceberg.NestedField{ID: 1, Name: "id", Type: iceberg.PrimitiveTypes.Int64, Required: true},
		iceberg.NestedField{ID: 2, Name: "name", Type: iceberg.PrimitiveTypes.String},
		iceberg.NestedField{ID: 3, Name: "price", Type: iceberg.PrimitiveTypes.Float64},
		iceberg.NestedField{ID: 4, Name: "day", Type: iceberg.PrimitiveTypes.Date},
		iceberg.NestedField{ID: 5, Name: "at", Type: iceberg.PrimitiveTypes.Timestamp},
	)
}

// row is one input row; a nil pointer is a null.
type row struct {
	id    int64
	name  *string
	price *float64
	day   arrow.Date32
	at    arrow.Timestamp
}

func ptr[T any](v T) *T { return &v }

// arrowTable builds an arrow table of rows matching testSchema.
func arrowTable(t *testing.T, mem memory.Allocator, rows []row) arrow.Table {
	t.Helper()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, sc)
	defer b.Release()
	for _, r := range rows {
		b.Field(0).(*array.Int64Builder).Append(r.id)
		if r.name == nil {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.StringBuilder).Append(*r.name)
		}
		if r.price == nil {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Float64Builder).Append(*r.price)
		}
		b.Field(3).(*array.Date32Builder).Append(r.day)
		b.Field(4).(*array.TimestampBuilder).Append(r.at)
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
}

// fixture is a table written by iceberg-go: one append, then one overwrite.
type fixture struct {
	dir      string // warehouse directory
	tableDir string // the table's directory
	metadata string // location of the current metadata.json
	first    int64  // snapshot id of the append
	second   int64  // snapshot id of the overwrite
	tbl      *table.Table
}

var (
	day0 = arrow.Date32FromTime(time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC))
	ts0  = arrow.Timestamp(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixMicro())
)

var firstRows = []row{
	{id: 1, name: ptr("a"), price: ptr(1.5), day: day0, at: ts0},
	{id: 2, name: ptr("b"), price: nil, day: day0 + 1, at: ts0 + 1},
	{id: 3, name: nil, price: ptr(2.5), day: day0 + 2, at: ts0 + 2},
}

var secondRows = []row{
	{id: 10, name: ptr("x"), price: ptr(10.0), day: day0, at: ts0},
	{id: 20, name: ptr("z"), price: ptr(-1.0), day: day0 + 5, at: ts0 + 7},
	{id: 30, name: ptr("y"), price: ptr(0.25), day: day0 - 3, at: ts0 - 1},
	{id: 40, name: nil, price: nil, day: day0, at: ts0},
}

// newFixture writes a table of the given format version with iceberg-go's hadoop catalog in a temporary directory.
func newFixture(t *testing.T, formatVersion int) fixture {
	t.Helper()
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)

	dir := t.TempDir()
	cat, err := hadoop.NewCatalog("t", "file://"+dir, nil)
	if err != nil {
		t.Fatalf("creating catalog: %v", err)
	}
	t.Cleanup(func() { _ = cat.Close() })
	if err := cat.CreateNamespace(ctx, table.Identifier{"db"}, nil); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	tbl, err := cat.CreateTable(ctx, table.Identifier{"db", "items"}, testSchema(),
		catalog.WithProperties(iceberg.Properties{"format-version": strconv.Itoa(formatVersion)}))
	if err != nil {
		t.Fatalf("creating table: %v", err)
	}

	at1 := arrowTable(t, mem, firstRows)
	defer at1.Release()
	tbl, err = tbl.AppendTable(ctx, at1, 1024, iceberg.Properties{"s3load.load-id": "load-1"})
	if err != nil {
		t.Fatalf("appending: %v", err)
	}
	first := tbl.CurrentSnapshot().SnapshotID

	at2 := arrowTable(t, mem, secondRows)
	defer at2.Release()
	tbl, err = tbl.OverwriteTable(ctx, at2, 1024, iceberg.Properties{"s3load.load-id": "load-2"})
	if err != nil {
		t.Fatalf("overwriting: %v", err)
	}
	return fixture{
		dir:      dir,
		tableDir: tbl.Location(),
		metadata: tbl.MetadataLocation(),
		first:    first,
		second:   tbl.CurrentSnapshot().SnapshotID,
		tbl:      tbl,
	}
}
