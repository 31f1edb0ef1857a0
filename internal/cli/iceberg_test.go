package cli

import (
	"context"
	"errors"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/lake"
	"github.com/s3load/s3load/internal/lake/fscatalog"
	"github.com/s3load/s3load/internal/lake/lakecheck"
	"github.com/s3load/s3load/internal/lake/lakeio"
	"github.com/s3load/s3load/internal/s3store"
	"github.com/s3load/s3load/internal/testenv/icebergrest"
)

// icebergEnv is a load into Iceberg tables of namespace raw, on a local
// target or an s3:// one, with a reader of what was committed that does
// not share code with the writer.
type icebergEnv struct {
	*loadEnv
	location func(table string) string
	open     lakecheck.Opener
	// catalog reads the tables through iceberg-go, the writer's library.
	catalog *fscatalog.Catalog
}

func newIcebergEnv(t *testing.T, onS3 bool) *icebergEnv {
	e := &icebergEnv{loadEnv: newLoadEnv(t)}
	if !onS3 {
		e.location = func(table string) string { return "file://" + e.out + "/raw/" + table }
		e.open = lakecheck.LocalOpener()
		e.catalog = mustCatalog(t, "file://"+e.out, nil)
		return e
	}
	e.s3.CreateBucket(t, "lake")
	st, err := s3store.New(context.Background(), e.s3.Config())
	if err != nil {
		t.Fatal(err)
	}
	e.location = func(table string) string { return "s3://lake/warehouse/raw/" + table }
	e.open = lakecheck.S3Opener(st.Get)
	e.catalog = mustCatalog(t, "s3://lake/warehouse", st)
	return e
}

func mustCatalog(t *testing.T, warehouse string, st *s3store.Store) *fscatalog.Catalog {
	var store lakeio.ObjectStore
	if st != nil {
		store = st
	}
	cat, err := fscatalog.New(warehouse, lakeio.New(store))
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// scanRows counts a table's rows through iceberg-go's own scan.
func (e *icebergEnv) scanRows(t *testing.T, table string) int64 {
	t.Helper()
	ctx := context.Background()
	tbl, err := e.catalog.LoadTable(ctx, []string{"raw", table})
	if err != nil {
		t.Fatalf("iceberg-go loading raw.%s: %v", table, err)
	}
	scan, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("iceberg-go scanning raw.%s: %v", table, err)
	}
	defer scan.Release()
	return scan.NumRows()
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
// back exactly. The next load keeps the batch part of the unchanged files,
// masking the deleted file's rows (a delete snapshot, then the load's own
// append of the new file, in one catalog commit); a full reload replaces
// every row in one overwrite snapshot. The first stays readable by time
// travel.
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
			if n := e.scanRows(t, "t"); n != 300 {
				t.Errorf("iceberg-go scans %d rows of t, want 300", n)
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
			if second.Rows != 250 || second.Deleted != 100 || second.Operation != "append" || second.Columns["id"].Sum != wantSum {
				t.Fatalf("second load: %d rows (%d masked), %q, sum(id) %v; want 250 rows (f00's 100 masked), the new file appended, sum %v",
					second.Rows, second.Deleted, second.Operation, second.Columns["id"].Sum, wantSum)
			}
			if n := e.scanRows(t, "t"); n != 250 {
				t.Errorf("iceberg-go scans %d rows after the second load, want 250", n)
			}
			if len(second.Snapshots) != 3 {
				t.Fatalf("%d snapshots, want 3", len(second.Snapshots))
			}
			if m := second.Snapshots[1]; m.Operation != "delete" || m.Summary[lake.MaskingLoadProperty] != second.Summary[lake.LoadIDProperty] || m.Summary[lake.LoadIDProperty] != "" {
				t.Errorf("the snapshot before the second load's: %q, summary %v; want the load's masks, a delete", m.Operation, m.Summary)
			}
			if old := e.read(t, "t", lakecheck.AtSnapshot(first.SnapshotID)); old.Rows != 300 {
				t.Errorf("time travel to the first snapshot reads %d rows, want 300", old.Rows)
			}

			if code, stdout, stderr := runCLI(t, "run", "--config", cfg, "--full-reload"); code != ExitOK {
				t.Fatalf("s3load run --full-reload exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			full := e.read(t, "t")
			if full.Rows != 250 || full.Deleted != 0 || len(full.DeleteFiles) != 0 || full.Operation != "overwrite" || full.Columns["id"].Sum != wantSum {
				t.Errorf("full reload: %d rows (%d masked by %d files), %q, sum(id) %v; want 250 rows overwritten, no masks, sum %v",
					full.Rows, full.Deleted, len(full.DeleteFiles), full.Operation, full.Columns["id"].Sum, wantSum)
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
	e.put("t/bad.csv", []byte("id,name,amount,at,ok\n1,x\n")) // ragged
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

// unsignedParquet is a Parquet file whose types Iceberg has no twin for:
// uint64 (as decimal(20,0)), uint32 (as long) and nanosecond timestamps
// (as microseconds). subMicro puts a nanosecond digit in the last row.
func unsignedParquet(t *testing.T, first, n int, subMicro bool) []byte {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "big", Type: arrow.PrimitiveTypes.Uint64, Nullable: true},
		{Name: "u32", Type: arrow.PrimitiveTypes.Uint32, Nullable: true},
		{Name: "at", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	for i := first; i < first+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.Uint64Builder).Append(math.MaxUint64 - uint64(i))
		b.Field(2).(*array.Uint32Builder).Append(math.MaxUint32 - uint32(i))
		ns := int64(1_700_000_000_000_000_000) + int64(i)*1000
		if subMicro && i == first+n-1 {
			ns++
		}
		b.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(ns))
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	return parquetBytes(t, rec, parquet.NewWriterProperties(), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
}

// Types without an Iceberg twin are converted on purpose (uint64 to
// decimal(20,0), never a long that turns big values negative; nanoseconds
// to microseconds) and a value that cannot convert exactly fails its file,
// naming the column, instead of being rounded.
func TestIcebergConvertsTypes(t *testing.T) {
	e := newIcebergEnv(t, false)
	e.put("w/a.parquet", unsignedParquet(t, 0, 50, false))
	e.put("w/b.parquet", unsignedParquet(t, 50, 50, false))
	cfg := e.config("  - { name: w, prefix: w/ }", "")
	runOK(t, cfg)
	got := e.read(t, "w")
	types := map[string]string{}
	for _, f := range got.Schema {
		types[f.Name] = f.Type
	}
	if types["big"] != "decimal(20, 0)" || types["u32"] != "long" || types["at"] != "timestamp" {
		t.Fatalf("table types %v: want big decimal(20, 0), u32 long, at timestamp", types)
	}
	wantBig := 100*float64(math.MaxUint64) - 99*100/2
	if got.Rows != 100 || math.Abs(got.Columns["big"].Sum-wantBig) > wantBig*1e-12 {
		t.Fatalf("%d rows, sum(big) %g: want 100 rows, %g (uint64 kept, not wrapped negative)", got.Rows, got.Columns["big"].Sum, wantBig)
	}
	if min, ok := got.Columns["at"].Min.(int64); !ok || min != 1_700_000_000_000_000 {
		t.Errorf("min(at) %v: want 1700000000000000 µs", got.Columns["at"].Min)
	}

	e.put("w/c.parquet", unsignedParquet(t, 100, 10, true))
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	if code == ExitOK {
		t.Fatalf("a nanosecond that microseconds cannot hold was loaded\n%s", stdout)
	}
	if !strings.Contains(stdout, "w/c.parquet") || !strings.Contains(stdout, `"at"`) || !strings.Contains(stdout, "lose data") {
		t.Errorf("the failure does not name the file, the column and the loss:\n%s\n%s", stdout, stderr)
	}
	if after := e.read(t, "w"); after.SnapshotID != got.SnapshotID {
		t.Errorf("the failed load moved the table to snapshot %d", after.SnapshotID)
	}
}

// On an s3:// target, throttling and server errors on part uploads and on
// the commit's metadata writes are retried, and the table ends exact.
func TestIcebergS3Faults(t *testing.T) {
	e := newIcebergEnv(t, true)
	proxy := e.viaProxy()
	e.putCSVs("t/", 4, 25)
	cfg := e.config("  - { name: t, prefix: t/ }", "")
	underData := func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/raw/t/data/")
	}
	underMeta := func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/raw/t/metadata/")
	}
	proxy.Fail(3, 503, "SlowDown", underData)
	proxy.Fail(7, 500, "InternalError", underMeta) // more than the S3 client's own 5 tries
	runOK(t, cfg)
	if n := proxy.Injected.Load(); n != 10 {
		t.Fatalf("%d faults injected, want 10: the faults were not exercised", n)
	}
	got := e.read(t, "t")
	if got.Rows != 100 || got.Columns["id"].Sum != 99*100/2 || len(got.Snapshots) != 1 {
		t.Fatalf("%d rows, sum(id) %v, %d snapshots: want 100 rows once, sum 4950, one snapshot", got.Rows, got.Columns["id"].Sum, len(got.Snapshots))
	}
}

// killAfterCommit commits, then stops its coordinator dead, as a kill
// between the catalog's commit and the coordinator's record of it would.
type killAfterCommit struct {
	coordinator.Committer
	kill context.CancelFunc
}

func (k killAfterCommit) Commit(ctx context.Context, req coordinator.CommitRequest) (coordinator.CommitResult, error) {
	r, err := k.Committer.Commit(ctx, req)
	if err == nil {
		k.kill()
		return coordinator.CommitResult{}, context.Canceled
	}
	return r, err
}

// A coordinator killed after the catalog accepted its commit, before it
// recorded it: the next coordinator resumes the load, finds the snapshot
// by its load id, and commits nothing more.
func TestIcebergKilledAfterCatalogCommit(t *testing.T) {
	e := newIcebergEnv(t, false)
	e.putCSVs("t/", 3, 10)
	p := e.inProcess(e.config("  - { name: t, prefix: t/ }", "coordinator: { lease_ttl: 1s }"))
	stop := p.startWorker("w1", nil)
	defer stop(true)
	ctx, kill := context.WithCancel(context.Background())
	co := p.coordinator(nil, func(_ *coordinator.Config, ports *coordinator.Ports) {
		ports.Committer = killAfterCommit{Committer: ports.Committer, kill: kill}
	})
	if r, err := co.Run(ctx); err == nil && r.OK() {
		t.Fatalf("the killed coordinator reports a committed load: %+v", r)
	}
	if got := e.read(t, "t"); len(got.Snapshots) != 1 {
		t.Fatalf("%d snapshots after the kill, want the one the catalog accepted", len(got.Snapshots))
	}
	r, err := p.coordinator(nil).Run(context.Background())
	mustCommit(t, r, err)
	got := e.read(t, "t")
	if len(got.Snapshots) != 1 || got.Rows != 30 {
		t.Fatalf("after the restart: %d snapshots, %d rows; want the one commit of 30 rows", len(got.Snapshots), got.Rows)
	}
	if r.LoadID != got.Summary[lake.LoadIDProperty] {
		t.Errorf("the restart ran load %s, the snapshot holds %s: it did not resume", r.LoadID, got.Summary[lake.LoadIDProperty])
	}
}

// The SQL catalog (SQLite) registers the tables of an s3:// target; the
// files stay the same as with the filesystem catalog.
func TestIcebergSQLCatalog(t *testing.T) {
	e := newIcebergEnv(t, true)
	e.putCSVs("t/", 2, 30)
	db := filepath.Join(t.TempDir(), "catalog.db")
	cfg := e.config("  - { name: t, prefix: t/ }", "catalog: { type: sql, uri: \"sqlite://"+db+"\" }")
	runOK(t, cfg)
	e.put("t/f02.csv", csvRows(60, 15, ",", true))
	out := runOK(t, cfg)
	cat, closeDB, err := lake.OpenSQL(context.Background(), "sqlite://"+db,
		lake.S3IOProps(e.s3.Region, e.s3.Endpoint, e.s3.AccessKeyID, e.s3.SecretAccessKey, true))
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	tbl, err := cat.LoadTable(context.Background(), []string{"raw", "t"})
	if err != nil {
		t.Fatalf("the SQL catalog does not hold raw.t: %v", err)
	}
	if !strings.Contains(out, tbl.MetadataLocation()) {
		t.Errorf("the report does not name the catalog's metadata %s:\n%s", tbl.MetadataLocation(), out)
	}
	got, err := lakecheck.ReadTable(context.Background(), e.open, tbl.MetadataLocation())
	if err != nil {
		t.Fatal(err)
	}
	// The second load keeps the first two files' parts and adds one: an
	// append.
	if got.Rows != 75 || got.Operation != "append" || len(got.Snapshots) != 2 {
		t.Fatalf("%d rows, %q, %d snapshots: want 75 rows, the new file appended, 2 snapshots", got.Rows, got.Operation, len(got.Snapshots))
	}
}

// A REST catalog over real HTTP, with OAuth2 client credentials: the
// tables are registered there, and a commit the catalog answers with 503
// (its outcome unknown to s3load) is settled by reading the table back.
func TestIcebergRESTCatalog(t *testing.T) {
	e := newIcebergEnv(t, false)
	srv := icebergrest.Start(t, icebergrest.WithClientCredentials("loader", "s3cr3t-client"))
	t.Setenv("TEST_CATALOG_SECRET", "s3cr3t-client")
	e.putCSVs("t/", 2, 20)
	cfg := e.config("  - { name: t, prefix: t/ }",
		"catalog:\n  type: rest\n  uri: "+srv.URL+"\n  client_id: loader\n  client_secret: ${TEST_CATALOG_SECRET}\n")
	out := runOK(t, cfg)
	if strings.Contains(out, "s3cr3t-client") {
		t.Errorf("the client secret appears in the report:\n%s", out)
	}
	srv.LoseNextCommitReply(1, 503)
	e.put("t/f02.csv", csvRows(40, 5, ",", true))
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "load already committed") {
		t.Errorf("the commit whose reply was lost was not settled by reading the table back:\n%s", stderr)
	}
	tbl, err := srv.Backend().LoadTable(context.Background(), []string{"raw", "t"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := lakecheck.ReadTable(context.Background(), e.open, tbl.MetadataLocation())
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows != 45 || len(got.Snapshots) != 2 {
		t.Fatalf("%d rows, %d snapshots: want 45 rows, one snapshot per load (the lost reply committed once)", got.Rows, len(got.Snapshots))
	}

	// f00 changes: its batch part stays, its rows masked. The delete and
	// the load's own snapshot go to the catalog in one commit, whose lost
	// reply is settled the same way.
	srv.LoseNextCommitReply(1, 503)
	e.put("t/f00.csv", csvRows(100, 20, ",", true))
	if code, stdout, stderr = runCLI(t, "run", "--config", cfg); code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "load already committed") {
		t.Errorf("the masking commit whose reply was lost was not settled by reading the table back:\n%s", stderr)
	}
	if tbl, err = srv.Backend().LoadTable(context.Background(), []string{"raw", "t"}); err != nil {
		t.Fatal(err)
	}
	if got, err = lakecheck.ReadTable(context.Background(), e.open, tbl.MetadataLocation()); err != nil {
		t.Fatal(err)
	}
	if got.Rows != 45 || got.Deleted != 20 || len(got.Snapshots) != 4 || got.Columns["id"].Sum != float64((20+39)*20/2+(40+44)*5/2+(100+119)*20/2) {
		t.Fatalf("%d rows (%d masked), %d snapshots, sum(id) %v: want 45 rows (f00's old 20 masked), the mask's and the load's snapshots added",
			got.Rows, got.Deleted, len(got.Snapshots), got.Columns["id"].Sum)
	}
}

// killBeforeCommit stops its coordinator dead just before the commit.
type killBeforeCommit struct {
	coordinator.Committer
	kill context.CancelFunc
}

func (k killBeforeCommit) Commit(context.Context, coordinator.CommitRequest) (coordinator.CommitResult, error) {
	k.kill()
	return coordinator.CommitResult{}, context.Canceled
}

// A load left unfinished, then another load (another config) commits the
// table: when the first is resumed, it is a new run that lists the bucket
// again, so it replaces the table as a new load would; it is not refused
// as stale forever.
func TestIcebergResumedLoadAfterAnotherCommitted(t *testing.T) {
	e := newIcebergEnv(t, false)
	e.putCSVs("t/", 3, 10)
	cfg1 := e.config("  - { name: t, prefix: t/ }", "")
	cfg2 := e.config("  - { name: t, prefix: t/, glob: \"f00.csv\" }", "")
	p := e.inProcess(cfg1)
	stop := p.startWorker("w1", nil)
	ctx, kill := context.WithCancel(context.Background())
	co := p.coordinator(nil, func(_ *coordinator.Config, ports *coordinator.Ports) {
		ports.Committer = killBeforeCommit{Committer: ports.Committer, kill: kill}
	})
	if r, err := co.Run(ctx); err == nil && r.OK() {
		t.Fatalf("the killed coordinator reports a committed load: %+v", r)
	}
	stop(true)
	runOK(t, cfg2)
	if got := e.read(t, "t"); got.Rows != 10 {
		t.Fatalf("the other load committed %d rows, want 10", got.Rows)
	}
	p = e.inProcess(cfg1)
	defer p.startWorker("w2", nil)(true)
	r, err := p.coordinator(nil).Run(context.Background())
	mustCommit(t, r, err)
	got := e.read(t, "t")
	if got.Rows != 30 || got.Summary[lake.LoadIDProperty] != r.LoadID || len(got.Snapshots) != 2 {
		t.Fatalf("after the resumed load: %d rows, load %s (resumed %s), %d snapshots; want its 30 rows in a second snapshot",
			got.Rows, got.Summary[lake.LoadIDProperty], r.LoadID, len(got.Snapshots))
	}
}

// allow_empty with a prefix that now matches nothing empties the table in
// one overwrite snapshot; the previous rows stay readable by time travel.
func TestIcebergAllowEmpty(t *testing.T) {
	e := newIcebergEnv(t, false)
	e.putCSVs("t/", 2, 10)
	runOK(t, e.config("  - { name: t, prefix: t/ }", ""))
	before := e.read(t, "t")
	runOK(t, e.config("  - { name: t, prefix: gone/, allow_empty: true }\n  - { name: never, prefix: none/, allow_empty: true }", ""))
	after := e.read(t, "t")
	if after.Rows != 0 || after.Operation != "overwrite" || len(after.Snapshots) != 2 {
		t.Fatalf("after an empty load: %d rows, %q, %d snapshots; want 0 rows overwritten, 2 snapshots", after.Rows, after.Operation, len(after.Snapshots))
	}
	if old := e.read(t, "t", lakecheck.AtSnapshot(before.SnapshotID)); old.Rows != 20 {
		t.Errorf("the previous snapshot reads %d rows, want 20", old.Rows)
	}
}
