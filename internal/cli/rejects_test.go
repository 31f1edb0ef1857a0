package cli

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// rejectsFiles are the files of the reject tests: rows that do not parse,
// a ragged row, and a file with more bad rows than max_rejected_rows.
func rejectsFiles(e *loadEnv) {
	e.put("r/a.csv", []byte("id,amount\n1,10\n2,x\n3,30\n"))        // line 3: amount "x"
	e.put("r/b.csv", []byte("id,amount\n4,40\n5,50,extra\n6,60\n")) // line 3: too many columns
	e.put("r/c.csv", []byte("id,amount\n7,a\n8,b\n9,c\n10,100\n"))  // 3 bad rows: over the limit of 2
}

const rejectsTable = "  - name: r\n    prefix: r/\n    columns: { amount: int64 }\n    on_error: skip_row\n    max_rejected_rows: 2\n"

// TestSkipRowRejects: with on_error: skip_row, bad rows are skipped into
// r__rejects (source, line numbered like DuckDB's, column, class, the raw
// line); a file past max_rejected_rows fails; the report counts the
// rejects, and the next load replaces them.
func TestSkipRowRejects(t *testing.T) {
	e := newLoadEnv(t)
	rejectsFiles(e)
	cfg := e.writeConfig(rejectsTable, "max_failed_files: 1")
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("s3load run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	mustContain(t, "report", stdout, "r: 2 rows rejected (on_error: skip_row), in r__rejects", "r/c.csv", "more than 2 rows rejected")
	m := verifyTableFilesLoaded(t, e.out, "r", 4)
	if got := strings.Join(columnValues(t, filepath.Join(e.out, "r"), m.Parts, "id"), "|"); got != "1|3|4|6" {
		t.Errorf("ids %s, want 1|3|4|6", got)
	}
	rejected := map[string]int64{}
	for _, f := range m.Files {
		rejected[f.Source.Key] = f.Rejected
	}
	if rejected["r/a.csv"] != 1 || rejected["r/b.csv"] != 1 {
		t.Errorf("the manifest counts rejects per file %v, want r/a.csv 1, r/b.csv 1", rejected)
	}
	rm := verifyTableFilesLoaded(t, e.out, "r__rejects", 2)
	dir := filepath.Join(e.out, "r__rejects")
	got := []string{}
	keys := columnValues(t, dir, rm.Parts, "source_key")
	lines := columnValues(t, dir, rm.Parts, "line")
	cols := columnValues(t, dir, rm.Parts, "column_name")
	classes := columnValues(t, dir, rm.Parts, "error_type")
	raws := columnValues(t, dir, rm.Parts, "raw_line")
	for i := range keys {
		got = append(got, strings.Join([]string{keys[i], lines[i], cols[i], classes[i], raws[i]}, " "))
	}
	sort.Strings(got) // parts come in no particular order
	want := "r/a.csv 3 amount cast 2,x|r/b.csv 3 (null) too_many_columns 5,50,extra"
	if strings.Join(got, "|") != want {
		t.Errorf("rejects\n got %s\nwant %s", strings.Join(got, "|"), want)
	}

	// Fixed files: the next load's reject table is empty.
	e.put("r/a.csv", []byte("id,amount\n1,10\n"))
	e.put("r/b.csv", []byte("id,amount\n4,40\n"))
	e.put("r/c.csv", []byte("id,amount\n7,70\n"))
	code, stdout, stderr = runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("second run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	verifyTableFilesLoaded(t, e.out, "r", 3)
	verifyTableFilesLoaded(t, e.out, "r__rejects", 0)
}

// TestSkipRowRejectsIceberg: the reject table is an Iceberg table beside
// the table, and the table's snapshot counts the rejected rows.
func TestSkipRowRejectsIceberg(t *testing.T) {
	e := newIcebergEnv(t, false)
	rejectsFiles(e.loadEnv)
	runOK(t, e.config(rejectsTable, "max_failed_files: 1"))
	tbl := e.read(t, "r")
	if tbl.Rows != 4 || tbl.Summary["s3load.rejected-rows"] != "2" {
		t.Errorf("table r: %d rows, summary %v; want 4 rows and s3load.rejected-rows 2", tbl.Rows, tbl.Summary)
	}
	if rej := e.read(t, "r__rejects"); rej.Rows != 2 {
		t.Errorf("r__rejects holds %d rows, want 2", rej.Rows)
	}
	if n := e.scanRows(t, "r__rejects"); n != 2 {
		t.Errorf("iceberg-go scans %d rejected rows, want 2", n)
	}
}
