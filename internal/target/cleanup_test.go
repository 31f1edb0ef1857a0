package target

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

// stagedLoads lists the loads staged for table, sorted, and whether
// s3load's own entries beside them (manifest, lease) are still there.
func stagedLoads(t *testing.T, tg *Target, table string) (loads []string, leaseKept bool) {
	t.Helper()
	seen := map[string]bool{}
	if tg.s3 != nil {
		prefix := tg.s3.tableKey(table) + "/"
		objects, err := tg.s3.store.ListKeys(context.Background(), tg.s3.bucket, prefix)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objects {
			first, _, _ := strings.Cut(strings.TrimPrefix(o.Key, prefix), "/")
			seen[first] = true
		}
	} else {
		entries, err := os.ReadDir(tg.local.tableDir(table))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range entries {
			seen[e.Name()] = true
		}
	}
	for name := range seen {
		if !strings.HasPrefix(name, "_") {
			loads = append(loads, name)
		}
	}
	slices.Sort(loads)
	return loads, seen[leaseDirName] || seen[leaseObjectName]
}

func commitLoad(t *testing.T, tg *Target, table, load string, recs ...messages.FileRecord) {
	t.Helper()
	if _, err := tg.CommitManifest(context.Background(), coordinator.CommitRequest{Table: table, LoadID: load, Schema: encodedSchema(t), Loaded: recs}); err != nil {
		t.Fatalf("committing %s: %v", load, err)
	}
}

func src(key string) messages.Source {
	return messages.Source{Bucket: "b", Key: key, ETag: "1", Size: 10}
}

// Two loads of one table at once without the lease (the coordinator did
// not take it, or an older one runs): the first commit must not destroy
// the other's parts.
func TestCommitLeavesOtherLoadsAloneWithoutTheLease(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			tg := newTarget(t, kind)(t)
			ctx := context.Background()
			rec1 := writePart(t, tg, "t", "load1", src("t/a.csv"), 3)
			rec2 := writePart(t, tg, "t", "load2", src("t/b.csv"), 4)
			commitLoad(t, tg, "t", "load1", rec1)
			if loads, _ := stagedLoads(t, tg, "t"); !slices.Equal(loads, []string{"load1", "load2"}) {
				t.Fatalf("after load1's commit the staged loads are %v, want load2 kept", loads)
			}
			commitLoad(t, tg, "t", "load2", rec2)
			if m, err := tg.ReadManifest(ctx, "t"); err != nil || m.LoadID != "load2" || m.Rows != 4 {
				t.Fatalf("manifest after load2: %+v, %v", m, err)
			}
			// The previous commit's load goes once it is replaced.
			if loads, _ := stagedLoads(t, tg, "t"); !slices.Equal(loads, []string{"load2"}) {
				t.Fatalf("after load2's commit the staged loads are %v, want load2 only", loads)
			}
		})
	}
}

// Holding the lease, a commit removes everything Sweep would: no other
// load of the table can be running.
func TestCommitUnderTheLeaseRemovesAbandonedLoads(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			tg := newTarget(t, kind)(t)
			ctx := context.Background()
			commitLoad(t, tg, "t", "load1", writePart(t, tg, "t", "load1", src("t/a.csv"), 3))
			writePart(t, tg, "t", "dead", src("t/a.csv"), 3) // a load that failed
			lease, err := tg.AcquireTable(ctx, "t", LeaseOwner{Job: "j", Load: "load2", Holder: "test"}, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			commitLoad(t, tg, "t", "load2", writePart(t, tg, "t", "load2", src("t/b.csv"), 4))
			loads, leaseKept := stagedLoads(t, tg, "t")
			if !slices.Equal(loads, []string{"load2"}) || !leaseKept {
				t.Fatalf("after a leased commit: loads %v (want [load2]), lease kept %v", loads, leaseKept)
			}
			if err := lease.Renew(ctx); err != nil {
				t.Fatalf("the commit disturbed the lease: %v", err)
			}
		})
	}
}

func TestSweepKeepsTheCommittedAndKeptLoads(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			tg := newTarget(t, kind)(t)
			ctx := context.Background()
			if err := tg.Sweep(ctx, "t"); err != nil {
				t.Fatalf("sweeping a table never loaded: %v", err)
			}
			commitLoad(t, tg, "t", "a", writePart(t, tg, "t", "a", src("t/a.csv"), 3))
			for _, load := range []string{"b", "c", "d"} {
				writePart(t, tg, "t", load, src("t/a.csv"), 3)
			}
			writePart(t, tg, "u", "b", src("u/a.csv"), 3) // another table
			if tg.local != nil {
				// A link a commit made and died before renaming.
				if err := os.Symlink("x", filepath.Join(tg.local.root, linkTmpPrefix("t")+"dead")); err != nil {
					t.Fatal(err)
				}
			}
			lease, err := tg.AcquireTable(ctx, "t", LeaseOwner{Job: "j", Load: "d", Holder: "test"}, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			// Load d holds the lease: a Sweep that would remove it refuses.
			if err := tg.Sweep(ctx, "t", "c"); !errors.Is(err, ErrTableBusy) {
				t.Fatalf("Sweep removing the lease holder's load: %v, want ErrTableBusy", err)
			}
			if loads, _ := stagedLoads(t, tg, "t"); len(loads) != 4 {
				t.Fatalf("a refused Sweep removed loads: %v", loads)
			}
			// A keep that cannot answer for a load stops the sweep, nothing
			// removed.
			errRead := errors.New("reading the snapshots")
			err = tg.SweepExcept(ctx, "t", func(load string) (bool, error) {
				if load == "b" {
					return false, errRead
				}
				return load == "d", nil
			})
			if !errors.Is(err, errRead) {
				t.Fatalf("SweepExcept whose keep fails: %v, want its error", err)
			}
			if loads, _ := stagedLoads(t, tg, "t"); len(loads) != 4 {
				t.Fatalf("a failed SweepExcept removed loads: %v", loads)
			}
			if err := tg.Sweep(ctx, "t", "d", "c"); err != nil {
				t.Fatal(err)
			}
			loads, leaseKept := stagedLoads(t, tg, "t")
			if !slices.Equal(loads, []string{"a", "c", "d"}) || !leaseKept {
				t.Fatalf("after Sweep: loads %v (want [a c d]), lease kept %v", loads, leaseKept)
			}
			if loads, _ := stagedLoads(t, tg, "u"); !slices.Equal(loads, []string{"b"}) {
				t.Errorf("sweeping t touched table u: %v", loads)
			}
			if m, err := tg.ReadManifest(ctx, "t"); err != nil || m.LoadID != "a" {
				t.Errorf("sweeping disturbed the committed table: %+v, %v", m, err)
			}
			if tg.local != nil {
				if names := dirNames(t, tg.local.root); slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, linkTmpPrefix("t")) }) {
					t.Errorf("a dead commit's link survived Sweep: %v", names)
				}
			}
			if err := lease.Renew(ctx); err != nil {
				t.Errorf("Sweep disturbed the lease: %v", err)
			}
		})
	}
}

// Sweep refuses to guess what is committed.
func TestLocalSweepRefusesAForeignTable(t *testing.T) {
	root := t.TempDir()
	tg, _ := Open("file://"+root, nil)
	writePart(t, tg, "t", "l", src("t/a.csv"), 3)
	if err := os.Mkdir(filepath.Join(root, "t"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := tg.Sweep(context.Background(), "t")
	if err == nil || !strings.Contains(err.Error(), "move it away") {
		t.Fatalf("Sweep beside a foreign directory: %v", err)
	}
	if loads, _ := stagedLoads(t, tg, "t"); !slices.Equal(loads, []string{"l"}) {
		t.Errorf("a refused Sweep removed loads: %v", loads)
	}
}
