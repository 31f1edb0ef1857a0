package cli

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/lake"
	"github.com/s3load/s3load/internal/lake/lakecheck"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/testenv"
)

// icebergEnv is a load into Iceberg tables of namespace raw, on a local
// target or an s3:// one, with a reader of what was committed that does
// not share code with the writer.
type icebergEnv struct {
	*loadEnv
	location func(table string) string
	open     lakecheck.Opener
}

func newIcebergEnv(t *testing.T, onS3 bool) *icebergEnv {
	e := &icebergEnv{loadEnv: newLoadEnv(t)}
	if !onS3 {
		e.location = func(table string) string { return "file://" + e.out + "/raw/" + table }
		e.open = lakecheck.LocalOpener()
		return e
	}
	e.s3.CreateBucket(t, "lake")
	st, err := s3store.New(context.Background(), e.s3.Config())
	if err != nil {
		t.Fatal(err)
	}
	e.location = func(table string) string { return "s3://lake/warehouse/raw/" + table }
	e.open = lakecheck.S3Opener(st.Get)
	return e
}

func (e *icebergEnv) config(tables, extra string) string {
	e.t.Helper()
	cfg := e.writeConfig(tables, "table_format: iceberg\nnamespace: raw\n"+extra)
	if strings.HasPrefix(e.location("t"), "s3://") {
		raw, err := os.ReadFile(cfg)
		if err != nil {
			e.t.Fatal(err)
		}
		if err := os.WriteFile(cfg, []byte(strings.Replace(string(raw), "target: file://"+e.out, "target: s3://lake/warehouse", 1)), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	return cfg
}

func (e *icebergEnv) read(t *testing.T, table string, opts ...lakecheck.Option) *lakecheck.Table {
	t.Helper()
	tbl, err := lakecheck.ReadTable(context.Background(), e.open, e.location(table), opts...)
	if err != nil {
		t.Fatalf("reading %s back: %v", table, err)
	}
	return tbl
}

func runOK(t *testing.T, cfg string) string {
	t.Helper()
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("s3load run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	return stdout
}

// A full load becomes an Iceberg table that an independent reader reads
// back exactly; the next full load replaces every row in one overwrite
// snapshot, and the first stays readable by time travel.
func TestIcebergLoad(t *testing.T) {
	for _, where := range []string{"local", "s3"} {
		t.Run(where, func(t *testing.T) {
			e := newIcebergEnv(t, where == "s3")
			e.putCSVs("t/", 3, 100) // ids 0..299
			e.put("j/a.jsonl", jsonLines(0, 40))
			cfg := e.config("  - { name: t, prefix: t/ }\n  - { name: j, prefix: j/ }", "")
			out := runOK(t, cfg)
			first := e.read(t, "t")
			if first.Rows != 300 || first.Operation != "append" || first.Columns["id"].Sum != 299*300/2 {
				t.Fatalf("first load: %d rows, %q, sum(id) %v; want 300 rows appended, sum 44850", first.Rows, first.Operation, first.Columns["id"].Sum)
			}
			if first.Summary[lake.LoadIDProperty] == "" {
				t.Errorf("snapshot summary has no %s: %v", lake.LoadIDProperty, first.Summary)
			}
			if !strings.Contains(out, "t: snapshot ") || !strings.Contains(out, first.MetadataLocation) {
				t.Errorf("the report does not name t's snapshot and metadata %s:\n%s", first.MetadataLocation, out)
			}
			if j := e.read(t, "j"); j.Rows != 40 {
				t.Errorf("table j: %d rows, want 40", j.Rows)
			}
			for _, f := range first.DataFiles {
				if !strings.HasPrefix(f.Path, e.location("t")+"/data/") {
					t.Errorf("data file %s is not under the table's data/", f.Path)
				}
			}

			// The folder changes: one file gone, one new (ids 300..349).
			e.s3.Delete(t, e.bucket, "t/f00.csv")
			e.put("t/f09.csv", csvRows(300, 50, ",", true))
			runOK(t, cfg)
			second := e.read(t, "t")
			wantSum := float64(299*300/2 - 99*100/2 + (300+349)*50/2)
			if second.Rows != 250 || second.Operation != "overwrite" || second.Columns["id"].Sum != wantSum {
				t.Fatalf("second load: %d rows, %q, sum(id) %v; want 250 rows overwritten, sum %v", second.Rows, second.Operation, second.Columns["id"].Sum, wantSum)
			}
			if len(second.Snapshots) != 2 {
				t.Errorf("%d snapshots, want 2", len(second.Snapshots))
			}
			if old := e.read(t, "t", lakecheck.AtSnapshot(first.SnapshotID)); old.Rows != 300 {
				t.Errorf("time travel to the first snapshot reads %d rows, want 300", old.Rows)
			}
		})
	}
}

// A load with a failed file (over max_failed_files) adds no snapshot: the
// table keeps its previous one.
func TestIcebergFailedLoadAddsNoSnapshot(t *testing.T) {
	e := newIcebergEnv(t, false)
	e.putCSVs("t/", 2, 10)
	cfg := e.config("  - { name: t, prefix: t/ }", "")
	runOK(t, cfg)
	before := e.read(t, "t")
	e.put("t/bad.csv", []byte("id,name,amount,at,ok\nnot-a-number,x,1,2024-01-01T00:00:00Z,true\n"))
	if code, stdout, stderr := runCLI(t, "run", "--config", cfg); code == ExitOK {
		t.Fatalf("a load with a bad file exited OK\n%s\n%s", stdout, stderr)
	}
	after := e.read(t, "t")
	if after.SnapshotID != before.SnapshotID || len(after.Snapshots) != 1 || after.Rows != 20 {
		t.Fatalf("after a failed load: snapshot %d (was %d), %d snapshots, %d rows; want the first one untouched",
			after.SnapshotID, before.SnapshotID, len(after.Snapshots), after.Rows)
	}
}

// lostReply commits, then reports a passing failure, as a coordinator
// that died (or lost the catalog's reply) between the catalog's commit and
// its own record of it would see.
type lostReply struct {
	coordinator.Committer
	lost int
}

func (l *lostReply) Prepare(ctx context.Context, req coordinator.PrepareRequest) (coordinator.Prepared, error) {
	return l.Committer.(coordinator.Preparer).Prepare(ctx, req)
}

func (l *lostReply) Commit(ctx context.Context, req coordinator.CommitRequest) (coordinator.CommitResult, error) {
	r, err := l.Committer.Commit(ctx, req)
	if err == nil && l.lost > 0 {
		l.lost--
		return coordinator.CommitResult{}, errors.New("connection reset by peer")
	}
	return r, err
}

// The commit is idempotent: trying again after the catalog accepted it
// finds the load's snapshot and commits nothing more.
func TestIcebergCommitOutcomeLost(t *testing.T) {
	e := newIcebergEnv(t, false)
	e.putCSVs("t/", 2, 10)
	p := e.inProcess(e.config("  - { name: t, prefix: t/ }", ""))
	stop := p.startWorker("w1", nil)
	defer stop(true)
	co := p.coordinator(nil, func(_ *coordinator.Config, ports *coordinator.Ports) {
		ports.Committer = &lostReply{Committer: ports.Committer, lost: 1}
	})
	r, err := co.Run(context.Background())
	mustCommit(t, r, err)
	got := e.read(t, "t")
	if len(got.Snapshots) != 1 || got.Rows != 20 {
		t.Fatalf("%d snapshots, %d rows: want the one commit of 20 rows", len(got.Snapshots), got.Rows)
	}
}

var _ = testenv.IsPut
