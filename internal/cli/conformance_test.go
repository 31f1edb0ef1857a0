package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/lake/fscatalog"
	"github.com/s3load/s3load/internal/lake/lakecheck"
	"github.com/s3load/s3load/internal/testenv"
)

// conformanceExpected reads expected.tsv: file → DuckDB's row count, or
// -1 where DuckDB refuses the file.
func conformanceExpected(t *testing.T, corpus string) map[string]int64 {
	t.Helper()
	f, err := os.Open(filepath.Join(corpus, "expected.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) < 2 {
			continue
		}
		n := int64(-1)
		if cols[1] != "error" {
			if n, err = strconv.ParseInt(cols[1], 10, 64); err != nil {
				t.Fatalf("expected.tsv: %s: %v", cols[0], err)
			}
		}
		out[cols[0]] = n
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// conformanceTable names a corpus file's table: its base name with every
// character a table name cannot hold as '_'.
func conformanceTable(rel string) string {
	name := strings.TrimSuffix(filepath.Base(rel), ".parquet")
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			return r
		}
		return '_'
	}, name)
}

func readReport(t *testing.T, path string) coordinator.Report {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r coordinator.Report
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

// icebergOutcomes is what loading each corpus file as its own Iceberg
// table gives: "rows" (committed with DuckDB's row count), "rows N" (a
// count DuckDB does not give, and why), or "fails: <part of the error>".
var icebergOutcomes = map[string]string{
	// Columns of only nulls (Parquet's UNKNOWN) become all-null string
	// columns (internal/lake/types.go), so these files reach the decoder,
	// which refuses them as stock arrow does (DuckDB refuses them too).
	"bad_data/ARROW-GH-41317.parquet":          "fails: ARROW-GH-41317.parquet: row group 0: parquet: deserializing page header failed",
	"bad_data/ARROW-GH-41321.parquet":          "fails: ARROW-GH-41321.parquet: row group 0: parquet: invalid or corrupted bit width",
	"bad_data/ARROW-RS-GH-6229-LEVELS.parquet": "fails: ARROW-RS-GH-6229-LEVELS.parquet: row group 0: unexpected EOF",
	// The decoder's own differences (internal/decode conformanceMisses).
	"data/int96_from_spark.parquet":        `fails: int96_from_spark.parquet: row group 0: column "a": invalid INT96 timestamp`,
	"data/large_string_map.brotli.parquet": "fails: large_string_map.brotli.parquet: row group 0: parquet: uncompressed page size 1073741828 exceeds configured limit",
	"data/map_no_value.parquet":            "rows 3", // DuckDB refuses a MAP without values; arrow reads 3 rows
	// Files DuckDB reads and the decoder refuses, each with why.
	"bad_data/ARROW-GH-45185.parquet":              "fails: ARROW-GH-45185.parquet: row group 0: parquet: record starts with a nonzero repetition level",
	"bad_data/ARROW-GH-47662.parquet":              "fails: ARROW-GH-47662.parquet: row group 0: parquet: eof exception",
	"bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet": "fails: ARROW-RS-GH-6229-DICTHEADER.parquet: corrupt Parquet footer: row group 0, column 2: its 125 bytes at offset 466 lie outside",
	// DuckDB refuses it too: the footer check names the column.
	"bad_data/PARQUET-1481.parquet": `fails: PARQUET-1481.parquet: corrupt Parquet footer: column "Handle" has physical type -7, which is not a Parquet type`,
}

// TestParquetConformanceIceberg loads every file of the corpus (data/ and
// bad_data/) as its own Iceberg table, all in one s3load run: each table
// commits exactly DuckDB's row count as an independent reader counts it,
// or fails as icebergOutcomes says, without stopping the others.
func TestParquetConformanceIceberg(t *testing.T) {
	corpus := testenv.ParquetConformanceDir(t)
	expected := conformanceExpected(t, corpus)
	e := newLoadEnv(t)
	var files []string
	for rel := range expected {
		files = append(files, rel)
	}
	sort.Strings(files)
	var tables strings.Builder
	for _, rel := range files {
		data, err := os.ReadFile(filepath.Join(corpus, rel))
		if err != nil {
			t.Fatal(err)
		}
		name := conformanceTable(rel)
		e.put(name+"/"+filepath.Base(rel), data)
		fmt.Fprintf(&tables, "  - { name: %s, prefix: %s/ }\n", name, name)
	}
	// max_failed_files 0: a file that fails keeps its table uncommitted, so
	// the report shows it as that table's failure.
	cfg := e.writeConfig(tables.String(), "table_format: iceberg\nnamespace: conf\nmax_failed_files: 0")
	reportPath := filepath.Join(t.TempDir(), "report.json")
	start := time.Now()
	code, stdout, stderr := runCLI(t, "run", "--config", cfg, "--report-json", reportPath)
	t.Logf("s3load run of %d tables: exit %d in %v", len(files), code, time.Since(start).Round(time.Millisecond))
	if code == ExitOK {
		t.Errorf("s3load run exited OK though tables failed\nstdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	r := readReport(t, reportPath)
	byName := map[string]coordinator.TableReport{}
	for _, tr := range r.Tables {
		byName[tr.Name] = tr
	}
	if len(byName) != len(files) {
		t.Errorf("the report has %d tables, want %d", len(byName), len(files))
	}
	cat := mustCatalog(t, "file://"+e.out, nil)
	var committed int
	for _, rel := range files {
		name := conformanceTable(rel)
		tr, ok := byName[name]
		if !ok {
			t.Errorf("%s: table %s is not in the report", rel, name)
			continue
		}
		want, listed := icebergOutcomes[rel]
		if !listed {
			want = "rows"
		}
		var got string
		if tr.Committed {
			committed++
			tbl, err := lakecheck.ReadTable(context.Background(), lakecheck.LocalOpener(), "file://"+e.out+"/conf/"+name)
			switch {
			case err != nil:
				got = "reading it back: " + err.Error()
			case tbl.Rows != tr.Rows:
				got = fmt.Sprintf("rows %d read back, the report says %d", tbl.Rows, tr.Rows)
			case icebergGoRows(cat, name) != tbl.Rows:
				got = fmt.Sprintf("rows %d read back, iceberg-go: %s", tbl.Rows, icebergGoScan(cat, name))
			case tbl.Rows == expected[rel]:
				got = "rows"
			default:
				got = fmt.Sprintf("rows %d", tbl.Rows)
			}
		} else {
			got = "fails: " + tr.Error
			for _, f := range tr.Failures {
				got += " | " + f.Error
			}
		}
		t.Logf("%-50s DuckDB %-6d %s", rel, expected[rel], got)
		if strings.HasPrefix(want, "fails: ") && strings.HasPrefix(got, "fails: ") {
			if !strings.Contains(got, strings.TrimPrefix(want, "fails: ")) {
				t.Errorf("%s: the error %q lacks %q", rel, got, strings.TrimPrefix(want, "fails: "))
			}
			continue
		}
		if got != want {
			t.Errorf("%s: got %q, want %q (DuckDB counts %d)", rel, got, want, expected[rel])
		}
	}
	t.Logf("%d of %d tables committed", committed, len(files))
}

// TestParquetConformanceIcebergBadData loads all of bad_data/ into one
// table with max_failed_files: 8: the table commits, and every file is
// accounted for, loaded or failed with an error that names it.
func TestParquetConformanceIcebergBadData(t *testing.T) {
	corpus := testenv.ParquetConformanceDir(t)
	expected := conformanceExpected(t, corpus)
	e := newLoadEnv(t)
	var files int
	for rel := range expected {
		if !strings.HasPrefix(rel, "bad_data/") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(corpus, rel))
		if err != nil {
			t.Fatal(err)
		}
		e.put("bad/"+filepath.Base(rel), data)
		files++
	}
	if files != 8 {
		t.Fatalf("expected.tsv lists %d bad_data files, want 8", files)
	}
	cfg := e.writeConfig("  - { name: bad, prefix: bad/ }", "table_format: iceberg\nnamespace: conf\nmax_failed_files: 8")
	reportPath := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr := runCLI(t, "run", "--config", cfg, "--report-json", reportPath)
	if code != ExitOK {
		t.Fatalf("s3load run exited %d: the table must commit under max_failed_files: 8\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	r := readReport(t, reportPath)
	if len(r.Tables) != 1 {
		t.Fatalf("report has %d tables, want 1: %+v", len(r.Tables), r)
	}
	tr := r.Tables[0]
	// Every file is accounted for: loaded, or failed with an error that
	// names it.
	if !tr.Committed || tr.Files != files || tr.Loaded+tr.Failed+tr.Changed != files || len(tr.Failures) != tr.Failed+tr.Changed {
		t.Fatalf("table bad: committed %v, files %d, loaded %d, failed %d, changed %d, %d failures listed; want all %d accounted for",
			tr.Committed, tr.Files, tr.Loaded, tr.Failed, tr.Changed, len(tr.Failures), files)
	}
	for _, f := range tr.Failures {
		if !strings.Contains(f.Error, f.Source.Key) {
			t.Errorf("the failure of %s does not name it: %s", f.Source.Key, f.Error)
		}
		t.Logf("failed: %s", f.Error)
	}
	got, err := lakecheck.ReadTable(context.Background(), lakecheck.LocalOpener(), "file://"+e.out+"/conf/bad")
	if err != nil {
		t.Fatalf("reading the committed table: %v", err)
	}
	if got.Rows != tr.Rows {
		t.Errorf("lakecheck reads %d rows, the report says %d", got.Rows, tr.Rows)
	}
	t.Logf("%d of %d bad_data files loaded (%d rows), %d failed", tr.Loaded, files, tr.Rows, tr.Failed+tr.Changed)
}

// icebergGoScan counts a table's rows through iceberg-go's own scan, the
// writer's library: its types must read back there too.
func icebergGoScan(cat *fscatalog.Catalog, table string) (out string) {
	defer func() {
		if r := recover(); r != nil {
			out = fmt.Sprintf("iceberg-go panics scanning: %v", r)
		}
	}()
	ctx := context.Background()
	tbl, err := cat.LoadTable(ctx, []string{"conf", table})
	if err != nil {
		return "loading: " + err.Error()
	}
	scan, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		return "scanning: " + err.Error()
	}
	defer scan.Release()
	return fmt.Sprintf("rows %d", scan.NumRows())
}

func icebergGoRows(cat *fscatalog.Catalog, table string) int64 {
	var n int64 = -1
	fmt.Sscanf(icebergGoScan(cat, table), "rows %d", &n)
	return n
}
