package lake_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/s3load/s3load/internal/lake"
)

// With KeepSnapshots 2, four loads leave two snapshots; the expired
// loads' parts are removed and the kept ones stay. Sweep keeps what the
// snapshots reference and removes a load no snapshot names.
func TestKeepSnapshotsAndSweep(t *testing.T) {
	e := newFSLake(t, 2)
	var ids []string
	for i := range 4 {
		l := e.prepare(t, "kept", "load-"+strconv.Itoa(i), peopleSchema)
		e.writePart(t, l, "p.parquet", `[{"id":`+strconv.Itoa(i)+`,"name":"n"}]`)
		e.commit(t, l)
		ids = append(ids, l.id)
	}
	if e.logs.Len() > 0 {
		t.Errorf("committer warned:\n%s", e.logs)
	}
	got := e.check(t, e.tgt.TableLocation("kept"))
	if len(got.Snapshots) != 2 {
		t.Fatalf("%d snapshots remain, want 2", len(got.Snapshots))
	}
	for i, s := range got.Snapshots {
		if want := ids[2+i]; s.Summary[lake.LoadIDProperty] != want {
			t.Errorf("snapshot %d is of load %q, want %s", i, s.Summary[lake.LoadIDProperty], want)
		}
	}
	meta := filepath.Join(strings.TrimPrefix(got.Location, "file://"), "metadata")
	for i, id := range ids {
		kept := i >= 2
		_, err := os.Stat(e.partPath("kept", id, "p.parquet"))
		if kept != (err == nil) {
			t.Errorf("part of %s: stat says %v; want it there: %v", id, err, kept)
		}
		// The files manifest goes with its load's snapshot.
		if _, err := os.Stat(filepath.Join(meta, "s3load-files-"+id+".json")); kept != (err == nil) {
			t.Errorf("files manifest of %s: stat says %v; want it there: %v", id, err, kept)
		}
	}

	stray := filepath.Dir(e.partPath("kept", "load-abandoned", "x"))
	if err := os.MkdirAll(stray, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stray, "x.parquet"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := e.c.Sweep(context.Background(), "kept"); err != nil {
		t.Fatalf("sweep: %v", err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Errorf("abandoned load's directory after Sweep: %v; want it gone", err)
	}
	for _, id := range ids[2:] {
		if _, err := os.Stat(e.partPath("kept", id, "p.parquet")); err != nil {
			t.Errorf("Sweep removed a referenced part: %v", err)
		}
	}
	// Both readers still read the table and its older kept snapshot.
	e.check(t, e.tgt.TableLocation("kept"))
	if rows := scanRows(t, e.loadTable(t, "kept")); len(rows) != 1 || rows[0] != `{"id":3,"name":"n"}` {
		t.Errorf("iceberg-go reads %v", rows)
	}
}
