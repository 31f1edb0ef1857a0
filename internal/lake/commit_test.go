package lake_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/s3load/s3load/internal/lake"
	"github.com/s3load/s3load/internal/lake/lakecheck"
)

var peopleSchema = schemaOf(field("id", arrow.PrimitiveTypes.Int64), field("name", arrow.BinaryTypes.String))

// A first load appends, a second replaces every row; both readers agree
// with what was written, and each snapshot names its load.
func TestCommitThenOverwrite(t *testing.T) {
	e := newFSLake(t, 0)
	loads := []struct {
		id, op string
		parts  []string // one JSON array of rows per part
	}{
		{"load-1", "append", []string{`[{"id":1,"name":"a"},{"id":2,"name":"b"}]`, `[{"id":3,"name":null}]`}},
		{"load-2", "overwrite", []string{`[{"id":10,"name":"x"}]`}},
	}
	var snaps []int64
	for _, ld := range loads {
		l := e.prepare(t, "people", ld.id, peopleSchema)
		var want []string
		for i, rows := range ld.parts {
			e.writePart(t, l, "part-"+strconv.Itoa(i)+".parquet", rows)
			want = append(want, canonRows(t, rows)...)
		}
		slices.Sort(want)
		res := e.commit(t, l)

		got := e.check(t, res.MetadataLocation)
		if got.Operation != ld.op {
			t.Errorf("%s: operation %q, want %q", ld.id, got.Operation, ld.op)
		}
		if got.Summary[lake.LoadIDProperty] != ld.id {
			t.Errorf("%s: summary %s = %q", ld.id, lake.LoadIDProperty, got.Summary[lake.LoadIDProperty])
		}
		if strconv.FormatInt(got.SnapshotID, 10) != res.Snapshot {
			t.Errorf("%s: lakecheck reads snapshot %d, commit says %s", ld.id, got.SnapshotID, res.Snapshot)
		}
		if got.Rows != int64(len(want)) || len(got.DataFiles) != len(ld.parts) {
			t.Errorf("%s: lakecheck reads %d rows in %d files, want %d in %d", ld.id, got.Rows, len(got.DataFiles), len(want), len(ld.parts))
		}
		if res.Manifest.Rows != int64(len(want)) {
			t.Errorf("%s: manifest says %d rows, want %d", ld.id, res.Manifest.Rows, len(want))
		}
		if rows := scanRows(t, e.loadTable(t, "people")); !slices.Equal(rows, want) {
			t.Errorf("%s: iceberg-go reads\n%v\nwant\n%v", ld.id, rows, want)
		}
		snaps = append(snaps, got.SnapshotID)
	}
	// The table location's version hint leads to the same table.
	got := e.check(t, e.tgt.TableLocation("people"))
	if len(got.Snapshots) != 2 || got.SnapshotID != snaps[1] {
		t.Fatalf("table has snapshots %+v, current %d; want 2, current %d", got.Snapshots, got.SnapshotID, snaps[1])
	}
	for _, s := range got.Snapshots {
		if s.Summary[lake.LoadIDProperty] == "" || s.Summary[lake.JobProperty] != "test-job" {
			t.Errorf("snapshot %d summary %v lacks the load or job", s.ID, s.Summary)
		}
	}
	// Time travel: the first snapshot still reads its own rows.
	old, err := lakecheck.ReadTable(context.Background(), lakecheck.LocalOpener(), got.MetadataLocation,
		lakecheck.AtSnapshot(snaps[0]), lakecheck.WithAllocator(e.mem))
	if err != nil {
		t.Fatal(err)
	}
	if old.Rows != 3 {
		t.Errorf("first snapshot reads %d rows, want 3", old.Rows)
	}
}

// Committing the same request twice makes one snapshot; both results name it.
func TestCommitIdempotent(t *testing.T) {
	e := newFSLake(t, 0)
	l := e.prepare(t, "people", "load-1", peopleSchema)
	e.writePart(t, l, "p.parquet", `[{"id":1,"name":"a"}]`)
	first := e.commit(t, l)
	second := e.commit(t, l)
	if first.Snapshot != second.Snapshot {
		t.Errorf("second commit names snapshot %s, first %s", second.Snapshot, first.Snapshot)
	}
	if second.Manifest.Rows != 1 {
		t.Errorf("second result's manifest has %d rows", second.Manifest.Rows)
	}
	got := e.check(t, e.tgt.TableLocation("people"))
	if len(got.Snapshots) != 1 || got.Rows != 1 {
		t.Fatalf("table has %d snapshots and %d rows, want 1 and 1", len(got.Snapshots), got.Rows)
	}
}

// A load that began before another committed is refused, permanently,
// and the table keeps the newer rows.
func TestCommitStaleLoadRefused(t *testing.T) {
	e := newFSLake(t, 0)
	a := e.prepare(t, "people", "load-a", peopleSchema)
	if a.prep.Base != "none" {
		t.Fatalf("a new table's base is %q, want none", a.prep.Base)
	}
	e.writePart(t, a, "a.parquet", `[{"id":1,"name":"old"}]`)
	b := e.prepare(t, "people", "load-b", peopleSchema)
	e.writePart(t, b, "b.parquet", `[{"id":2,"name":"new"},{"id":3,"name":"new"}]`)
	resB := e.commit(t, b)
	before := e.check(t, e.tgt.TableLocation("people"))

	_, err := e.c.Commit(context.Background(), a.request())
	if !errors.Is(err, lake.ErrStale) || !e.c.IsPermanent(err) {
		t.Fatalf("stale commit: err %v (stale %v, permanent %v); want a permanent ErrStale",
			err, errors.Is(err, lake.ErrStale), e.c.IsPermanent(err))
	}
	after := e.check(t, e.tgt.TableLocation("people"))
	if after.MetadataLocation != before.MetadataLocation || strconv.FormatInt(after.SnapshotID, 10) != resB.Snapshot ||
		after.Rows != 2 || len(after.Snapshots) != 1 {
		t.Fatalf("table changed by a refused commit: %s snapshot %d rows %d, was %s snapshot %s",
			after.MetadataLocation, after.SnapshotID, after.Rows, before.MetadataLocation, resB.Snapshot)
	}

	// A load prepared on top of b commits.
	c := e.prepare(t, "people", "load-c", peopleSchema)
	if c.prep.Base != resB.Snapshot {
		t.Fatalf("base after b is %q, want %s", c.prep.Base, resB.Snapshot)
	}
	e.writePart(t, c, "c.parquet", `[{"id":4,"name":"newer"}]`)
	e.commit(t, c)
}
