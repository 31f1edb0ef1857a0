package lake_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/s3load/s3load/internal/lake"
)

// A load with no parts empties a table that had rows (an overwrite, once),
// and leaves a new table without a snapshot for the next load to fill.
func TestCommitEmptyLoad(t *testing.T) {
	t.Run("overwrite", func(t *testing.T) {
		e := newFSLake(t, 0)
		l := e.prepare(t, "people", "load-1", peopleSchema)
		e.writePart(t, l, "p.parquet", `[{"id":1,"name":"a"}]`)
		e.commit(t, l)
		empty := e.prepare(t, "people", "load-2", peopleSchema)
		res := e.commit(t, empty)
		again := e.commit(t, empty)
		got := e.check(t, e.tgt.TableLocation("people"))
		if got.Operation != "overwrite" || got.Rows != 0 || len(got.Snapshots) != 2 ||
			got.Summary[lake.LoadIDProperty] != "load-2" || again.Snapshot != res.Snapshot {
			t.Fatalf("after an empty load: %s of %s, %d rows, %d snapshots; retried commit names %s, first %s",
				got.Operation, got.Summary[lake.LoadIDProperty], got.Rows, len(got.Snapshots), again.Snapshot, res.Snapshot)
		}
		if rows := scanRows(t, e.loadTable(t, "people")); len(rows) != 0 {
			t.Errorf("iceberg-go reads %v", rows)
		}
	})
	t.Run("first", func(t *testing.T) {
		e := newFSLake(t, 0)
		empty := e.prepare(t, "people", "load-1", peopleSchema)
		for range 2 {
			if res, err := e.c.Commit(t.Context(), empty.request()); err != nil || res.Snapshot != "" {
				t.Fatalf("empty first load: snapshot %q, %v; want none, no error", res.Snapshot, err)
			}
		}
		l := e.prepare(t, "people", "load-2", peopleSchema)
		if l.prep.Base != "none" {
			t.Fatalf("base after an empty load is %q", l.prep.Base)
		}
		e.writePart(t, l, "p.parquet", `[{"id":1,"name":"a"}]`)
		e.commit(t, l)
	})
}

// Preparing a load again (a coordinator's retry) announces the same
// write schema and changes, so parts written after either commit.
func TestPrepareAgainSameWriteSchema(t *testing.T) {
	e := newFSLake(t, 0)
	l := e.prepare(t, "people", "load-1", peopleSchema)
	e.writePart(t, l, "p.parquet", `[{"id":1,"name":"a"}]`)
	e.commit(t, l)
	sc := schemaOf(field("id", arrow.PrimitiveTypes.Int64),
		field("st", arrow.StructOf(field("a", arrow.PrimitiveTypes.Int64))), field("name", arrow.BinaryTypes.String))
	a := e.prepare(t, "people", "load-2", sc)
	b := e.prepare(t, "people", "load-2", sc)
	if !bytes.Equal(a.prep.WriteSchema, b.prep.WriteSchema) || strings.Join(a.prep.Changes, ";") != strings.Join(b.prep.Changes, ";") {
		t.Fatalf("prepared twice: changes %q then %q, write schemas equal: %v",
			a.prep.Changes, b.prep.Changes, bytes.Equal(a.prep.WriteSchema, b.prep.WriteSchema))
	}
	// Written in the first answer's schema, committed with the second's.
	e.writePart(t, a, "p.parquet", `[{"id":1,"st":{"a":1},"name":"a"}]`)
	b.loaded = a.loaded
	if got := e.check(t, e.commit(t, b).MetadataLocation); got.Rows != 1 || got.Columns["st"].Count != 1 {
		t.Fatalf("table has %d rows, %d st values; want 1 and 1", got.Rows, got.Columns["st"].Count)
	}
}
