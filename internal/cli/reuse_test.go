package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/lake"
	"github.com/s3load/s3load/internal/lake/lakecheck"
)

// scanSorted reads every row of an Iceberg table through iceberg-go's
// scan, each row its values joined, sorted: two loads of the same files
// read the same.
func (e *icebergEnv) scanSorted(t *testing.T, table string) []string {
	t.Helper()
	ctx := context.Background()
	tbl, err := e.catalog.LoadTable(ctx, []string{"raw", table})
	if err != nil {
		t.Fatalf("loading raw.%s: %v", table, err)
	}
	scan, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("scanning raw.%s: %v", table, err)
	}
	defer scan.Release()
	rows := tableRows(scan)
	slices.Sort(rows)
	return rows
}

// tableRows are an Arrow table's rows, each its values joined.
func tableRows(tbl arrow.Table) []string {
	rd := array.NewTableReader(tbl, 1024)
	defer rd.Release()
	var rows []string
	for rd.Next() {
		rec := rd.RecordBatch()
		for i := range int(rec.NumRows()) {
			vals := make([]string, rec.NumCols())
			for c := range vals {
				vals[c] = rec.Column(c).ValueStr(i)
			}
			rows = append(rows, strings.Join(vals, "|"))
		}
	}
	return rows
}

// plainSorted reads every row of a committed plain table, from the parts
// its manifest lists, sorted.
func plainSorted(t *testing.T, out, table string, wantRows int64, wantFiles int) []string {
	t.Helper()
	m := verifyTable(t, out, table, wantRows, wantFiles)
	var rows []string
	for _, p := range m.Parts {
		tbl := readPart(t, filepath.Join(out, table, p.Path))
		rows = append(rows, tableRows(tbl)...)
		tbl.Release()
	}
	slices.Sort(rows)
	return rows
}

// gets counts the source's GetObject requests per key since mark.
func (e *loadEnv) gets(t *testing.T, mark int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, a := range e.s3.AccessLog(t)[mark:] {
		if a.Operation == "GetObject" && a.Bucket == e.bucket {
			got[a.Key]++
		}
	}
	return got
}

// runReport runs a load that must commit and returns its JSON report's
// one table, and the source's reads per key during it.
func (e *loadEnv) runReport(t *testing.T, cfg string, args ...string) (reused, loaded int, reads map[string]int) {
	t.Helper()
	mark := len(e.s3.AccessLog(t))
	path := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr := runCLI(t, append([]string{"run", "--config", cfg, "--report-json", path}, args...)...)
	if code != ExitOK {
		t.Fatalf("s3load run %v exited %d\nstdout:\n%s\nstderr:\n%s", args, code, stdout, stderr)
	}
	r := readReport(t, path)
	if len(r.Tables) != 1 || !r.Tables[0].Committed {
		t.Fatalf("report: %+v", r.Tables)
	}
	return r.Tables[0].Reused, r.Tables[0].Loaded, e.gets(t, mark)
}

func keysOf(m map[string]int) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// A repeated load of an Iceberg table reads only the files that changed
// or appeared: the parts of unchanged files stay in the new snapshot, and
// the table equals a full reload row for row. A changed decode option
// reuses nothing.
func TestReuseIceberg(t *testing.T) {
	const n = 8
	e := newIcebergEnv(t, false)
	e.putCSVs("t/", n, 20) // ids 0..159, one part each
	cfg := e.config("  - { name: t, prefix: t/ }", "batch: { files: 1 }")
	if reused, _, _ := e.runReport(t, cfg); reused != 0 {
		t.Fatalf("the first load reused %d files", reused)
	}

	e.put("t/f01.csv", csvRows(1000, 20, ",", true)) // changed
	e.s3.Delete(t, e.bucket, "t/f02.csv")            // gone
	e.put("t/f08.csv", csvRows(2000, 20, ",", true)) // new
	reused, loaded, reads := e.runReport(t, cfg)
	if reused != n-2 || loaded != n {
		t.Errorf("second load: %d reused, %d loaded; want %d reused of %d", reused, loaded, n-2, n)
	}
	if got, want := keysOf(reads), []string{"t/f01.csv", "t/f08.csv"}; !slices.Equal(got, want) {
		t.Errorf("second load read %v from the source, want only %v", reads, want)
	}
	second := e.read(t, "t")
	if second.Rows != n*20 || second.Summary[lake.ReusedFilesProperty] != "6" {
		t.Errorf("second snapshot: %d rows, summary %v", second.Rows, second.Summary)
	}
	rowsReused := e.scanSorted(t, "t")

	reused, _, reads = e.runReport(t, cfg, "--full-reload")
	if reused != 0 || len(reads) < n {
		t.Errorf("a full reload reused %d files and read %v; want none reused, every file read", reused, reads)
	}
	if rowsFull := e.scanSorted(t, "t"); !slices.Equal(rowsReused, rowsFull) {
		t.Errorf("the reusing load's table (%d rows) differs from a full reload's (%d rows)", len(rowsReused), len(rowsFull))
	}

	// Nothing changed: every part stays, nothing is read.
	reused, _, reads = e.runReport(t, cfg)
	if reused != n || len(reads) != 0 {
		t.Errorf("an unchanged load reused %d files and read %v; want all %d reused, nothing read", reused, reads, n)
	}
	if rows := e.scanSorted(t, "t"); !slices.Equal(rowsReused, rows) {
		t.Errorf("after an unchanged load the table has %d rows, differing from before", len(rows))
	}
	if c := e.read(t, "t"); c.Rows != n*20 || len(c.Snapshots) != 4 || len(c.DataFiles) != n || c.Operation != "append" {
		// Nothing to delete or add: an append of nothing, so the load has
		// its snapshot.
		t.Errorf("after an unchanged load: %d rows in %d files, %d snapshots, %q; want %d rows in %d files, a 4th snapshot appending nothing",
			c.Rows, len(c.DataFiles), len(c.Snapshots), c.Operation, n*20, n)
	}

	// A decode option changed: every row may differ, nothing is reused.
	cfg2 := e.config("  - name: t\n    prefix: t/\n    csv: { null_values: [\"NA\"] }", "batch: { files: 1 }")
	reused, _, reads = e.runReport(t, cfg2)
	if reused != 0 || len(reads) < n {
		t.Errorf("after csv.null_values changed: %d reused, read %v; want nothing reused, every file read", reused, reads)
	}
}

// The same for plain Parquet: the parts of unchanged files are linked into
// the new load, and stay when the committed load is removed.
func TestReusePlain(t *testing.T) {
	const n = 8
	e := newLoadEnv(t)
	e.putCSVs("t/", n, 20)
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 1 }")
	if reused, _, _ := e.runReport(t, cfg); reused != 0 {
		t.Fatalf("the first load reused %d files", reused)
	}
	first := plainSorted(t, e.out, "t", n*20, n)

	e.put("t/f01.csv", csvRows(1000, 20, ",", true))
	e.s3.Delete(t, e.bucket, "t/f02.csv")
	e.put("t/f08.csv", csvRows(2000, 20, ",", true))
	reused, loaded, reads := e.runReport(t, cfg)
	if reused != n-2 || loaded != n {
		t.Errorf("second load: %d reused, %d loaded; want %d reused of %d", reused, loaded, n-2, n)
	}
	if got, want := keysOf(reads), []string{"t/f01.csv", "t/f08.csv"}; !slices.Equal(got, want) {
		t.Errorf("second load read %v from the source, want only %v", reads, want)
	}
	rowsReused := plainSorted(t, e.out, "t", n*20, n)
	if slices.Equal(first, rowsReused) {
		t.Fatal("the second load's table equals the first's")
	}

	reused, _, reads = e.runReport(t, cfg, "--full-reload")
	if reused != 0 || len(reads) < n {
		t.Errorf("a full reload reused %d files and read %v; want none reused, every file read", reused, reads)
	}
	if rowsFull := plainSorted(t, e.out, "t", n*20, n); !slices.Equal(rowsReused, rowsFull) {
		t.Errorf("the reusing load's table (%d rows) differs from a full reload's (%d rows)", len(rowsReused), len(rowsFull))
	}

	reused, _, reads = e.runReport(t, cfg)
	if reused != n || len(reads) != 0 {
		t.Errorf("an unchanged load reused %d files and read %v; want all %d reused, nothing read", reused, reads, n)
	}
	if rows := plainSorted(t, e.out, "t", n*20, n); !slices.Equal(rowsReused, rows) {
		t.Errorf("after an unchanged load the table has %d rows, differing from before", len(rows))
	}

	// A declared schema: the decided schema changes, nothing is reused.
	cfg2 := e.writeConfig("  - name: t\n    prefix: t/\n    schema:\n      - { name: id, type: int64 }\n      - { name: name, type: string }\n      - { name: amount, type: float64 }\n      - { name: at, type: string }\n      - { name: ok, type: bool }", "batch: { files: 1 }")
	reused, _, reads = e.runReport(t, cfg2)
	if reused != 0 || len(reads) < n {
		t.Errorf("after the schema changed: %d reused, read %v; want nothing reused, every file read", reused, reads)
	}
}

// A batch part that holds a changed or deleted file keeps its unchanged
// files' rows without reading them from the source again: in Iceberg the
// part stays and a position delete file masks the other files' rows, until
// more than half its rows would be masked; then, and always in plain
// Parquet, the part is rewritten from its own rows. The table equals a
// full reload row for row. Iceberg (local and on S3) and plain Parquet.
func TestReuseBatchPartWithChangedFile(t *testing.T) {
	for _, c := range []struct {
		name    string
		iceberg bool
		onS3    bool
	}{{"iceberg", true, false}, {"iceberg on s3", true, true}, {"plain", false, false}} {
		t.Run(c.name, func(t *testing.T) {
			var e *loadEnv
			var ie *icebergEnv
			var cfg string
			var rows func(wantRows int64, wantParts int) []string
			// masks checks an Iceberg table's position delete files and the
			// rows they mask.
			masks := func(files int, rows int64) {}
			if c.iceberg {
				ie = newIcebergEnv(t, c.onS3)
				e, cfg = ie.loadEnv, ie.config("  - { name: t, prefix: t/ }", "batch: { files: 4 }")
				rows = func(wantRows int64, wantParts int) []string {
					if got := ie.read(t, "t"); got.Rows != wantRows || len(got.DataFiles) != wantParts {
						t.Errorf("the table has %d rows in %d parts, want %d in %d", got.Rows, len(got.DataFiles), wantRows, wantParts)
					}
					return ie.scanSorted(t, "t")
				}
				masks = func(files int, rows int64) {
					t.Helper()
					if got := ie.read(t, "t"); len(got.DeleteFiles) != files || got.Deleted != rows {
						t.Errorf("the table masks %d rows with %d delete files, want %d with %d", got.Deleted, len(got.DeleteFiles), rows, files)
					}
				}
			} else {
				e = newLoadEnv(t)
				cfg = e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 4 }")
				rows = func(wantRows int64, wantParts int) []string {
					m := verifyTable(t, e.out, "t", wantRows, 12)
					if len(m.Parts) != wantParts {
						t.Errorf("the table has %d parts, want %d", len(m.Parts), wantParts)
					}
					return plainSorted(t, e.out, "t", wantRows, 12)
				}
			}
			e.putCSVs("t/", 12, 20) // 3 batch parts: f00-f03, f04-f07, f08-f11
			e.runReport(t, cfg)
			rows(12*20, 3)

			e.put("t/f01.csv", csvRows(1000, 20, ",", true)) // changed, in the middle of the first part
			e.s3.Delete(t, e.bucket, "t/f06.csv")            // gone from the second
			e.put("t/f12.csv", csvRows(2000, 20, ",", true)) // new
			reused, loaded, reads := e.runReport(t, cfg)
			if got, want := keysOf(reads), []string{"t/f01.csv", "t/f12.csv"}; reused != 10 || loaded != 12 || !slices.Equal(got, want) {
				t.Errorf("second load: %d reused, %d loaded, read %v; want 10 reused of 12 loaded, only %v read", reused, loaded, got, want)
			}
			// The first two parts (masked in Iceberg, rewritten in plain
			// Parquet), the third kept, and one for f01 and f12.
			rowsReused := rows(12*20, 4)
			masks(1, 40) // f01's rows and f06's, in one file

			// A part masked or rewritten is reused in turn, and masked or
			// rewritten again.
			e.put("t/f05.csv", csvRows(3000, 20, ",", true))
			reused, _, reads = e.runReport(t, cfg)
			if got, want := keysOf(reads), []string{"t/f05.csv"}; reused != 11 || !slices.Equal(got, want) {
				t.Errorf("third load: %d reused, read %v; want 11 reused, only %v read", reused, got, want)
			}
			rowsAgain := rows(12*20, 5)
			masks(1, 60) // the second part's mask now covers f05 and f06: the file is replaced
			if slices.Equal(rowsReused, rowsAgain) {
				t.Error("the third load's table equals the second's: f05's change is missing")
			}
			if c.iceberg {
				// Nothing changed: the masks stay as they are, not written again.
				before := ie.read(t, "t").DeleteFiles
				reused, _, reads = e.runReport(t, cfg)
				after := ie.read(t, "t").DeleteFiles
				if reused != 12 || len(reads) != 0 || len(after) != 1 || len(before) != 1 || after[0].Path != before[0].Path {
					t.Errorf("a load with nothing changed: %d reused, read %v, delete files %v then %v; want 12 reused, none read, the same one file",
						reused, keysOf(reads), before, after)
				}
			}

			// With f04 changed too, three quarters of the second part would
			// be masked: it is rewritten from f07's rows, and its mask goes.
			e.put("t/f04.csv", csvRows(4000, 20, ",", true))
			reused, _, reads = e.runReport(t, cfg)
			if got, want := keysOf(reads), []string{"t/f04.csv"}; reused != 11 || !slices.Equal(got, want) {
				t.Errorf("fourth load: %d reused, read %v; want 11 reused, only %v read", reused, got, want)
			}
			rowsFourth := rows(12*20, 6)
			masks(1, 20) // f01's, in the first part

			reused, _, reads = e.runReport(t, cfg, "--full-reload")
			if reused != 0 || len(reads) != 12 {
				t.Errorf("a full reload reused %d files and read %v; want none reused, all 12 read", reused, keysOf(reads))
			}
			rowsFull := rows(12*20, 3)
			masks(0, 0)
			if !slices.Equal(rowsFourth, rowsFull) {
				t.Errorf("the reusing load's table (%d rows) differs from a full reload's (%d rows)", len(rowsFourth), len(rowsFull))
			}
		})
	}
}

// A committed batch part that cannot be read when it is to be rewritten
// (removed behind s3load's back) costs only the reuse: its unchanged files
// are read from the source again, and the table is still right.
func TestReuseRewriteFallsBackToSource(t *testing.T) {
	e := newIcebergEnv(t, false)
	e.putCSVs("t/", 8, 20)
	cfg := e.config("  - { name: t, prefix: t/ }", "batch: { files: 4 }")
	e.runReport(t, cfg)
	first := e.read(t, "t")
	if len(first.DataFiles) != 2 {
		t.Fatalf("the first load wrote %d parts, want 2 batches of 4", len(first.DataFiles))
	}
	// Remove the part holding f00-f03 (the one whose rows hold id 0).
	var gone string
	for _, f := range first.DataFiles {
		path := strings.TrimPrefix(f.Path, "file://")
		tbl := readPart(t, path)
		if slices.ContainsFunc(tableRows(tbl), func(r string) bool { return strings.HasPrefix(r, "0|") }) {
			gone = path
		}
		tbl.Release()
	}
	if gone == "" {
		t.Fatalf("no part of %v holds id 0", first.DataFiles)
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}

	e.put("t/f01.csv", csvRows(1000, 20, ",", true))
	reused, loaded, reads := e.runReport(t, cfg)
	if got, want := keysOf(reads), []string{"t/f00.csv", "t/f01.csv", "t/f02.csv", "t/f03.csv"}; loaded != 8 || !slices.Equal(got, want) {
		t.Errorf("second load: %d loaded, read %v; want 8 loaded, the removed part's files %v read", loaded, got, want)
	}
	// The report says so: only the other part's 4 files were reused.
	if reused != 4 {
		t.Errorf("second load: %d files reported reused; want 4 (the removed part's files were read from the source)", reused)
	}
	rows := e.scanSorted(t, "t")
	e.runReport(t, cfg, "--full-reload")
	if full := e.scanSorted(t, "t"); !slices.Equal(rows, full) {
		t.Errorf("the load that fell back (%d rows) differs from a full reload (%d rows)", len(rows), len(full))
	}
}

// keep_snapshots counts loads' snapshots, not the delete a masking load
// stages before its own: with 2, a masking load keeps the load before it
// readable by time travel. A part whose load's snapshot expired stays while
// the table holds it.
func TestReuseMaskKeepsSnapshots(t *testing.T) {
	e := newIcebergEnv(t, false)
	e.putCSVs("t/", 4, 10) // one batch part
	cfg := e.config("  - { name: t, prefix: t/ }", "keep_snapshots: 2")
	e.runReport(t, cfg)
	first := e.read(t, "t")
	e.put("t/f01.csv", csvRows(1000, 10, ",", true))
	e.runReport(t, cfg)
	second := e.read(t, "t")
	if second.Deleted != 10 || len(second.Snapshots) != 3 {
		t.Fatalf("after the masking load: %d rows masked, %d snapshots; want 10 masked, 3 snapshots (the first load's, the mask's, the load's)",
			second.Deleted, len(second.Snapshots))
	}
	if old := e.read(t, "t", lakecheck.AtSnapshot(first.SnapshotID)); old.Rows != 40 || old.Deleted != 0 {
		t.Errorf("time travel to the first load reads %d rows (%d masked), want its 40", old.Rows, old.Deleted)
	}
	// One more load: the first load's snapshot and the mask's expire.
	e.put("t/f02.csv", csvRows(2000, 10, ",", true))
	e.runReport(t, cfg)
	if third := e.read(t, "t"); len(third.Snapshots) != 3 || third.Snapshots[0].ID != second.SnapshotID || third.Rows != 40 {
		t.Errorf("after a third load: %d snapshots (oldest %d), %d rows; want 3, from the second load's (%d) on, 40 rows",
			len(third.Snapshots), third.Snapshots[0].ID, third.Rows, second.SnapshotID)
	}
	// A fourth load sweeps the staging area with the first load's snapshot
	// expired: the first load's part, which the table still holds (masked),
	// is found in the current snapshot's manifests and stays.
	e.runReport(t, cfg)
	if fourth := e.read(t, "t"); fourth.Rows != 40 || fourth.Deleted != 20 {
		t.Errorf("after a fourth load: %d rows, %d masked; want 40, 20", fourth.Rows, fourth.Deleted)
	}
}

// A repeated load that keeps committed parts whole (one kept record per
// part, not one per file) is stopped at its commit; before it resumes, a
// file of a kept part is deleted from the source. The resumed load lists
// again and must not commit the deleted file's rows: the table equals a
// full reload row for row.
func TestReuseResumedAfterKeptFileDeleted(t *testing.T) {
	e := newIcebergEnv(t, false)
	e.putCSVs("t/", 8, 20) // 2 batch parts: f00-f03, f04-f07
	cfg := e.config("  - { name: t, prefix: t/ }", "batch: { files: 4 }")
	e.runReport(t, cfg)

	p := e.inProcess(cfg)
	stop := p.startWorker("w1", nil)
	ctx, kill := context.WithCancel(context.Background())
	co := p.coordinator(nil, func(_ *coordinator.Config, ports *coordinator.Ports) {
		ports.Committer = killBeforeCommit{Committer: ports.Committer, kill: kill}
	})
	stopped, err := co.Run(ctx)
	if err == nil && stopped.OK() {
		t.Fatalf("the killed coordinator reports a committed load: %+v", stopped)
	}
	stop(true)
	files, err := p.session.conn.state.Files(context.Background(), stopped.LoadID, "t")
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, f := range files {
		if f.Kept != "" {
			kept++
		}
	}
	if kept != 8 {
		t.Fatalf("the stopped load holds %d files in kept records, want all 8", kept)
	}

	e.s3.Delete(t, e.bucket, "t/f05.csv")
	p = e.inProcess(cfg)
	defer p.startWorker("w2", nil)(true)
	r, err := p.coordinator(nil).Run(context.Background())
	mustCommit(t, r, err)
	if got := e.read(t, "t"); got.Rows != 7*20 {
		t.Errorf("the resumed load committed %d rows, want %d: f05 is gone", got.Rows, 7*20)
	}
	resumed := e.scanSorted(t, "t")
	e.runReport(t, cfg, "--full-reload")
	if full := e.scanSorted(t, "t"); !slices.Equal(resumed, full) {
		t.Errorf("the resumed load's table (%d rows) differs from a full reload's (%d rows)", len(resumed), len(full))
	}
}
