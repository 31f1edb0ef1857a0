package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/testenv"
)

// runReport runs `s3load run` and returns its exit code, its text report
// and its JSON report.
func runReport(t *testing.T, cfg string) (int, string, coordinator.Report) {
	t.Helper()
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr := runCLI(t, "run", "--config", cfg, "--report-json", jsonPath)
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatalf("no JSON report (exit %d): %v\n%s\n%s", code, err, stdout, stderr)
	}
	var rep coordinator.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	return code, stdout + stderr, rep
}

// partsHaveColumns checks every part of a committed table opens and has
// the table's columns: a part without columns is one no reader takes.
func partsHaveColumns(t *testing.T, out, table string, want int) {
	t.Helper()
	m := verifyTableFiles(t, out, table)
	for _, p := range m {
		r, err := file.OpenParquetFile(filepath.Join(out, table, p), false)
		if err != nil {
			t.Fatalf("table %s: part %s: %v", table, p, err)
		}
		if n := r.MetaData().Schema.NumColumns(); n != want {
			t.Errorf("table %s: part %s has %d columns, want %d", table, p, n, want)
		}
		r.Close()
	}
}

func verifyTableFiles(t *testing.T, out, table string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(out, table))
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, en := range entries {
		if strings.HasSuffix(en.Name(), ".parquet") {
			parts = append(parts, en.Name())
		}
	}
	return parts
}

// TestEmptyJSONBesideGoodFiles: an empty array, an empty JSON-lines file
// and a blank file load as files of no row into the schema the other files
// give, whichever is listed first; no part is without columns.
func TestEmptyJSONBesideGoodFiles(t *testing.T) {
	e := newLoadEnv(t)
	// Listed first, so the schema probe meets them before the good files.
	e.put("t/a-empty.json", []byte("[]"))
	e.put("t/b-blank.json", []byte("  \n\t\n"))
	e.put("t/c-empty.jsonl", nil)
	e.put("t/d-good.json", []byte(`[{"id":1,"name":"a"},{"id":2,"name":"b"}]`))
	e.put("t/e-good.jsonl", []byte(`{"id":3,"name":"c"}`+"\n"))
	e.put("t/f-empty.json", []byte(" [ ] "))
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "")
	code, out, rep := runReport(t, cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	tr := rep.Tables[0]
	// A file of 0 bytes is skipped at listing, as any empty object is.
	if tr.Files != 5 || tr.Skipped != 1 || tr.Loaded != 5 || tr.Empty != 3 || tr.Failed != 0 || tr.Rows != 3 || !tr.Committed {
		t.Errorf("report %+v, want 5 files loaded (3 of them empty), 1 skipped, 3 rows, committed", tr)
	}
	mustContain(t, "report", out, "t: 3 of the loaded files held no row (empty)")
	m := verifyTable(t, e.out, "t", 3, 5)
	for _, f := range m.Files {
		if strings.Contains(f.Source.Key, "empty") && f.Rows != 0 {
			t.Errorf("%s: %d rows, want 0", f.Source.Key, f.Rows)
		}
	}
	partsHaveColumns(t, e.out, "t", 2)
}

// TestAllEmptyJSON: a table of empty files has no schema: it fails saying
// all of them are empty, and accounts for each.
func TestAllEmptyJSON(t *testing.T) {
	e := newLoadEnv(t)
	e.put("t/a.json", []byte("[]"))
	e.put("t/b.json", []byte("\n\n"))
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "")
	code, out, rep := runReport(t, cfg)
	if code != ExitNotComplete {
		t.Fatalf("exit %d, want %d\n%s", code, ExitNotComplete, out)
	}
	tr := rep.Tables[0]
	if tr.Committed || tr.Files != 2 || tr.Failed != 2 || len(tr.Failures) != 2 {
		t.Errorf("report %+v, want 2 files, 2 failed", tr)
	}
	mustContain(t, "report", out, "all 2 files are empty", "t/a.json", "t/b.json", "no JSON object")
	if _, err := os.Stat(filepath.Join(e.out, "t")); err == nil && len(verifyTableFiles(t, e.out, "t")) > 0 {
		t.Errorf("parts written for a table of empty files")
	}
}

// TestAllBadFilesAccounted: a table whose files all fail reports each of
// them failed, with its error, in the report and the load record.
func TestAllBadFilesAccounted(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d bad", n), func(t *testing.T) {
			e := newLoadEnv(t)
			for i := range n {
				e.put(fmt.Sprintf("t/f%d.json", i), []byte("1\n2\n"))
			}
			cfg := e.writeConfig("  - { name: t, prefix: t/ }", "")
			code, out, rep := runReport(t, cfg)
			if code != ExitNotComplete {
				t.Fatalf("exit %d, want %d\n%s", code, ExitNotComplete, out)
			}
			tr := rep.Tables[0]
			if tr.Committed || tr.Files != n || tr.Failed != n || len(tr.Failures) != n {
				t.Errorf("report %+v, want %d files, %d failed", tr, n, n)
			}
			for i := range n {
				mustContain(t, "report", out, fmt.Sprintf("s3://src/t/f%d.json: line 1: a JSON value that is not an object (number); each line, or each element of a top-level array, must be an object", i))
			}
			rec := e.inProcess(cfg).loadSummary(t)
			if len(rec.Tables) != 1 || rec.Tables[0].Files != n || rec.Tables[0].Failed != n {
				t.Errorf("load record's tables %+v, want %d files, %d failed", rec.Tables, n, n)
			}
		})
	}
}

// TestDeniedFileAccounted: a file the store refuses to read (a permanent
// store error, which ends the schema search) is still accounted for.
func TestDeniedFileAccounted(t *testing.T) {
	e := newLoadEnv(t)
	proxy := e.viaProxy()
	e.put("t/f0.json", []byte(`{"id":1}`))
	proxy.Fail(1000, 403, "AccessDenied", testenv.IsGet("t/f0.json"))
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "")
	code, out, rep := runReport(t, cfg)
	if code != ExitNotComplete {
		t.Fatalf("exit %d, want %d\n%s", code, ExitNotComplete, out)
	}
	tr := rep.Tables[0]
	if tr.Committed || tr.Files != 1 || tr.Failed != 1 || len(tr.Failures) != 1 {
		t.Errorf("report %+v, want 1 file, 1 failed", tr)
	}
	mustContain(t, "report", out, "t/f0.json", "AccessDenied")
}

// TestEmptyJSONIceberg: into an Iceberg table, empty JSON files beside good
// ones load as files of no row; the table reads back whole, in the good
// files' columns.
func TestEmptyJSONIceberg(t *testing.T) {
	e := newIcebergEnv(t, false)
	e.put("t/a-empty.json", []byte("[]"))
	e.put("t/b-blank.jsonl", []byte("\n \n"))
	e.put("t/c-good.json", []byte(`[{"id":1,"name":"a"},{"id":2,"name":"b"}]`))
	cfg := e.config("  - { name: t, prefix: t/ }", "")
	code, out, rep := runReport(t, cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if tr := rep.Tables[0]; tr.Files != 3 || tr.Loaded != 3 || tr.Empty != 2 || tr.Rows != 2 {
		t.Errorf("report %+v, want 3 files loaded, 2 rows", tr)
	}
	tbl := e.read(t, "t")
	if tbl.Rows != 2 || len(tbl.Schema) != 2 || tbl.Columns["id"].Sum != 3 {
		t.Errorf("table: %d rows, schema %+v, sum(id) %v; want 2 rows of id, name", tbl.Rows, tbl.Schema, tbl.Columns["id"].Sum)
	}
	if n := e.scanRows(t, "t"); n != 2 {
		t.Errorf("iceberg-go scans %d rows, want 2", n)
	}
}
