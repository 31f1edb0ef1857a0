package lake_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"

	"github.com/s3load/s3load/internal/lake"
	"github.com/s3load/s3load/internal/lake/lakeio"
	"github.com/s3load/s3load/internal/target"
	"github.com/s3load/s3load/internal/testenv/icebergrest"
)

const restToken = "test-bearer-token"

// hookCatalog runs before, once, just ahead of the next table commit: the
// moment another writer's commit can land in between.
type hookCatalog struct {
	catalog.Catalog
	before func()
}

func (h *hookCatalog) CommitTable(ctx context.Context, ident table.Identifier, reqs []table.Requirement, updates []table.Update) (table.Metadata, string, error) {
	if f := h.before; f != nil {
		h.before = nil
		f()
	}
	return h.Catalog.CommitTable(ctx, ident, reqs, updates)
}

// newRESTLake is a committer over the REST catalog at srv, with a bearer
// token, its files through s3load's IO.
func newRESTLake(t *testing.T, srv *icebergrest.Server, dir string, tgt *target.Target) (*lakeEnv, *hookCatalog) {
	t.Helper()
	cat, err := lake.OpenREST(context.Background(), lake.RESTConfig{URI: srv.URL, Token: restToken})
	if err != nil {
		t.Fatal(err)
	}
	hook := &hookCatalog{Catalog: cat}
	return newLake(t, dir, tgt, lake.WithIO(hook, lakeio.New(nil).IOFunc()), 0), hook
}

// The committer over a real REST catalog: commits, conflicts settled as
// stale, failed and lost commits retried without committing twice.
func TestRESTCatalog(t *testing.T) {
	srv := icebergrest.Start(t, icebergrest.WithToken(restToken))
	dir, tgt := newTarget(t)
	e, hook := newRESTLake(t, srv, dir, tgt)
	other, _ := newRESTLake(t, srv, dir, tgt) // another coordinator
	ctx := context.Background()

	// current reads the table as the catalog has it, with both readers.
	current := func(t *testing.T, name string) (snaps int, loadID string, rows []string) {
		t.Helper()
		tbl := e.loadTable(t, name)
		got := e.check(t, tbl.MetadataLocation())
		return len(got.Snapshots), got.Summary[lake.LoadIDProperty], scanRows(t, tbl)
	}

	t.Run("commit", func(t *testing.T) {
		for i, rows := range []string{`[{"id":1,"name":"a"}]`, `[{"id":2,"name":"b"},{"id":3,"name":"c"}]`} {
			l := e.prepare(t, "plain", "load-"+strconv.Itoa(i), peopleSchema)
			e.writePart(t, l, "p.parquet", rows)
			res := e.commit(t, l)
			if got := e.check(t, res.MetadataLocation); got.Summary[lake.LoadIDProperty] != l.id {
				t.Errorf("snapshot of load %q, want %s", got.Summary[lake.LoadIDProperty], l.id)
			}
			if n, id, got := current(t, "plain"); n != i+1 || id != l.id || !slices.Equal(got, canonRows(t, rows)) {
				t.Errorf("after %s: %d snapshots, current of %s, rows %v", l.id, n, id, got)
			}
		}
	})

	for _, scripted := range []bool{false, true} {
		name := map[bool]string{false: "conflict", true: "scripted-conflict"}[scripted]
		t.Run(name, func(t *testing.T) {
			first := e.prepare(t, name, "load-0", peopleSchema)
			e.writePart(t, first, "p.parquet", `[{"id":0,"name":"z"}]`)
			e.commit(t, first)
			a := e.prepare(t, name, "load-a", peopleSchema)
			e.writePart(t, a, "p.parquet", `[{"id":1,"name":"a"}]`)
			b := other.prepare(t, name, "load-b", peopleSchema)
			other.writePart(t, b, "p.parquet", `[{"id":2,"name":"b"}]`)
			// b lands between a's check of its base and a's commit: the
			// catalog's compare-and-set refuses a (a real 409), or the
			// catalog answers a scripted 409.
			hook.before = func() {
				other.commit(t, b)
				if scripted {
					srv.FailNextCommits(1, 409)
				}
			}
			_, err := e.c.Commit(ctx, a.request())
			if !errors.Is(err, lake.ErrStale) || !e.c.IsPermanent(err) {
				t.Fatalf("commit racing another load: %v; want a permanent ErrStale", err)
			}
			if n, id, rows := current(t, name); n != 2 || id != "load-b" || !slices.Equal(rows, []string{`{"id":2,"name":"b"}`}) {
				t.Errorf("table after the stale commit: %d snapshots, current of %s, rows %v", n, id, rows)
			}
		})
	}

	t.Run("failed commit retried", func(t *testing.T) {
		l := e.prepare(t, "failed", "load-1", peopleSchema)
		e.writePart(t, l, "p.parquet", `[{"id":1,"name":"a"}]`)
		before := srv.Commits()
		srv.FailNextCommits(1, 503)
		_, err := e.c.Commit(ctx, l.request())
		if err == nil || e.c.IsPermanent(err) || errors.Is(err, lake.ErrStale) {
			t.Fatalf("commit answered 503: %v; want a passing error", err)
		}
		if srv.Commits() != before {
			t.Fatalf("a refused commit was applied")
		}
		if n, _, _ := current(t, "failed"); n != 0 {
			t.Fatalf("table has %d snapshots after a failed commit", n)
		}
		res := e.commit(t, l)
		if srv.Commits() != before+1 {
			t.Errorf("%d commits applied, want 1", srv.Commits()-before)
		}
		if n, id, _ := current(t, "failed"); n != 1 || id != l.id || res.Snapshot == "" {
			t.Errorf("after the retry: %d snapshots, current of %s", n, id)
		}
	})

	t.Run("lost reply retried", func(t *testing.T) {
		l := e.prepare(t, "lost", "load-1", peopleSchema)
		e.writePart(t, l, "p.parquet", `[{"id":1,"name":"a"}]`)
		before := srv.Commits()
		srv.LoseNextCommitReply(1, 503)
		if _, err := e.c.Commit(ctx, l.request()); err == nil || e.c.IsPermanent(err) {
			t.Fatalf("commit whose reply was lost: %v; want a passing error", err)
		}
		res := e.commit(t, l)
		if srv.Commits() != before+1 {
			t.Errorf("%d commits applied for one load, want 1", srv.Commits()-before)
		}
		tbl := e.loadTable(t, "lost")
		if snap := tbl.CurrentSnapshot(); snap == nil || strconv.FormatInt(snap.SnapshotID, 10) != res.Snapshot {
			t.Errorf("retried commit names snapshot %s, table is at %v", res.Snapshot, snap)
		}
		if n, id, rows := current(t, "lost"); n != 1 || id != l.id || len(rows) != 1 {
			t.Errorf("after the retry: %d snapshots, current of %s, rows %v", n, id, rows)
		}
	})
}
