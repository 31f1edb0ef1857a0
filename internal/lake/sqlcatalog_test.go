package lake_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/s3load/s3load/internal/lake"
	"github.com/s3load/s3load/internal/lake/lakeio"
)

// A SQLite SQL catalog, its tables' files through s3load's IO: create,
// commit, overwrite, read back.
func TestSQLCatalogSQLite(t *testing.T) {
	ctx := context.Background()
	dir, tgt := newTarget(t)
	cat, closeDB, err := lake.OpenSQL(ctx, "sqlite://"+filepath.Join(t.TempDir(), "catalog.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = closeDB() })
	e := newLake(t, dir, tgt, lake.WithIO(cat, lakeio.New(nil).IOFunc()), 0)

	for i, rows := range []string{`[{"id":1,"name":"a"},{"id":2,"name":"b"}]`, `[{"id":3,"name":"c"}]`} {
		l := e.prepare(t, "people", []string{"load-1", "load-2"}[i], peopleSchema)
		e.writePart(t, l, "p.parquet", rows)
		res := e.commit(t, l)
		got := e.check(t, res.MetadataLocation)
		if want := []string{"append", "overwrite"}[i]; got.Operation != want || got.Summary[lake.LoadIDProperty] != l.id {
			t.Errorf("%s: operation %q load %q, want %q %s", l.id, got.Operation, got.Summary[lake.LoadIDProperty], want, l.id)
		}
		tbl := e.loadTable(t, "people")
		if tbl.MetadataLocation() != res.MetadataLocation {
			t.Errorf("catalog points at %s, commit said %s", tbl.MetadataLocation(), res.MetadataLocation)
		}
		if got, want := scanRows(t, tbl), canonRows(t, rows); !slices.Equal(got, want) {
			t.Errorf("%s: iceberg-go reads %v, want %v", l.id, got, want)
		}
	}
}
