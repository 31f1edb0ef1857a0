package lake_test

import (
	"context"
	"slices"
	"testing"
)

// The splits a load is committed with are read back from the table's
// current snapshot alone; a table never committed, or a load committed
// without splits, has none.
func TestListSplitsFromTheCurrentSnapshot(t *testing.T) {
	e := newFSLake(t, 0)
	ctx := context.Background()
	if splits, err := e.c.ListSplits(ctx, "people"); err != nil || splits != nil {
		t.Fatalf("a table never committed: splits %q, %v; want none", splits, err)
	}
	l := e.prepare(t, "people", "load-1", peopleSchema)
	e.writePart(t, l, "part-0.parquet", `[{"id":1,"name":"a"}]`)
	req := l.request()
	req.ListSplits = []string{"t/0999.csv", "t/1999.csv"}
	if _, err := e.c.Commit(ctx, req); err != nil {
		t.Fatal(err)
	}
	if splits, err := e.c.ListSplits(ctx, "people"); err != nil || !slices.Equal(splits, req.ListSplits) {
		t.Fatalf("after a load with splits: %q, %v; want %q", splits, err, req.ListSplits)
	}
	l = e.prepare(t, "people", "load-2", peopleSchema)
	e.writePart(t, l, "part-0.parquet", `[{"id":2,"name":"b"}]`)
	e.commit(t, l)
	if splits, err := e.c.ListSplits(ctx, "people"); err != nil || splits != nil {
		t.Fatalf("after a load without splits: %q, %v; want none", splits, err)
	}
}
