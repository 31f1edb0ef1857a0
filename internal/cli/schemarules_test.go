package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/messages"
)

// TestSchemaRules: a folder's schema is decided from every file under the
// table's policy, through a real run (versitygw, NATS). Each case names the
// files, the table's settings, and what the committed table must be: its
// columns, its rows, and the files that fail with the words their errors
// must hold.
func TestSchemaRules(t *testing.T) {
	e := newLoadEnv(t)
	tests := []struct {
		name     string
		files    map[string][]byte
		table    string // YAML lines of the table after name and prefix
		extra    string
		columns  string            // name:type,... of the committed table
		rows     int64             // rows committed
		values   map[string]string // column -> its values in key order, joined by |
		failed   map[string][]string
		exitCode int
	}{
		{
			name: "consistent widens int to float across files",
			files: map[string][]byte{
				"a.csv": []byte("id,amount\n1,10\n2,20\n"),
				"b.csv": []byte("amount,id\n30.5,3\n"),
			},
			columns: "id:int64,amount:float64", rows: 3,
			values: map[string]string{"amount": "10|20|30.5"},
		},
		{
			name: "consistent widens date to timestamp and int to string",
			files: map[string][]byte{
				"a.csv": []byte("day,code\n2024-01-02,7\n"),
				"b.csv": []byte("day,code\n2024-01-03T04:05:06Z,x7\n"),
			},
			columns: "day:timestamp[us, tz=UTC],code:utf8", rows: 2,
			values: map[string]string{"code": "7|x7"},
		},
		{
			name: "consistent rejects a file with other columns, before loading, with the fix",
			files: map[string][]byte{
				"a.csv": []byte("id,name\n1,a\n"),
				"b.csv": []byte("id,name\n2,b\n"),
				"c.csv": []byte("id,name,extra\n3,c,x\n"),
			},
			extra:   "max_failed_files: 1",
			columns: "id:int64,name:utf8", rows: 2,
			failed: map[string][]string{"c.csv": {`"extra"`, "schema_policy: union"}},
		},
		{
			name: "union loads nulls where a file lacks a column",
			files: map[string][]byte{
				"a.csv": []byte("id,name\n1,a\n"),
				"b.csv": []byte("id,score\n2,9.5\n"),
			},
			table:   "schema_policy: union",
			columns: "id:int64,name:utf8,score:float64", rows: 2,
			values: map[string]string{"name": "a|(null)", "score": "(null)|9.5"},
		},
		{
			name: "a partial columns: block overrides one column's type",
			files: map[string][]byte{
				"a.csv": []byte("id,amount\n1,10.25\n2,3\n"),
			},
			table:   `columns: { amount: "decimal(18,2)" }`,
			columns: "id:int64,amount:decimal(18, 2)", rows: 2,
			values: map[string]string{"amount": "10.25|3.00"},
		},
		{
			name: "declared with extra_columns: ignore drops what it does not declare",
			files: map[string][]byte{
				"a.csv": []byte("id,name,noise\n1,a,x\n"),
				"b.csv": []byte("name,id\nb,2\n"),
			},
			table:   "schema: [{ name: id, type: int64 }, { name: name, type: string }]\n    extra_columns: ignore",
			columns: "id:int64,name:utf8", rows: 2,
			values: map[string]string{"name": "a|b"},
		},
		{
			name: "declared refuses an undeclared column by default",
			files: map[string][]byte{
				"a.csv": []byte("id\n1\n"),
				"b.csv": []byte("id,noise\n2,x\n"),
			},
			table:   "schema: [{ name: id, type: int64 }]",
			extra:   "max_failed_files: 1",
			columns: "id:int64", rows: 1,
			failed: map[string][]string{"b.csv": {`"noise"`, "extra_columns: ignore"}},
		},
		{
			name: "a file read in another dialect fails naming both",
			files: map[string][]byte{
				"a.csv": []byte("id,name\n1,a\n2,b\n"),
				"b.csv": []byte("id,name\n3,c\n"),
				"c.csv": []byte("id;name\n4;d\n5;e\n"),
			},
			extra:   "max_failed_files: 1",
			columns: "id:int64,name:utf8", rows: 3,
			failed: map[string][]string{"c.csv": {`delimiter ";"`, `delimiter ","`}},
		},
		{
			name: "a declared schema names nested types",
			files: map[string][]byte{
				"a.jsonl": []byte(`{"id":1,"addr":{"city":"x","zip":1},"tags":["a","b"]}` + "\n" + `{"id":2,"addr":null,"tags":[]}` + "\n"),
			},
			table:   `schema: [{ name: id, type: int64 }, { name: addr, type: "struct<city: string, zip: int64>" }, { name: tags, type: "list<string>" }]`,
			columns: "id:int64,addr:struct<city: utf8 nullable, zip: int64 nullable>,tags:list<item: utf8, nullable>", rows: 2,
			values: map[string]string{"tags": `["a","b"]|[]`},
		},
		{
			name: "European export: decimal comma, a date format, local timestamps",
			files: map[string][]byte{
				"a.csv": []byte("id;amount;day;at\n1;10,5;31.12.2024;2024-07-01 12:00:00\n2;3;01.01.2025;2024-01-01 12:00:00\n"),
			},
			table: `columns: { day: { type: date, format: "%d.%m.%Y" } }
    csv: { delimiter: ";", decimal_separator: ",", timezone: Europe/Berlin }`,
			columns: "id:int64,amount:float64,day:date32,at:timestamp[us, tz=UTC]", rows: 2,
			values: map[string]string{"amount": "10.5|3", "day": "2024-12-31|2025-01-01",
				"at": "2024-07-01 10:00:00Z|2024-01-01 11:00:00Z"},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := fmt.Sprintf("rules%d/", i)
			for k, data := range tt.files {
				e.put(prefix+k, data)
			}
			table := fmt.Sprintf("r%d", i)
			lines := fmt.Sprintf("  - name: %s\n    prefix: %s\n", table, prefix)
			if tt.table != "" {
				lines += "    " + tt.table + "\n"
			}
			code, stdout, stderr := runCLI(t, "run", "--config", e.writeConfig(lines, tt.extra))
			if code != ExitOK {
				t.Fatalf("s3load run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			m := verifyTableFilesLoaded(t, e.out, table, tt.rows)
			var cols []string
			for _, f := range m.Schema {
				cols = append(cols, f.Name+":"+f.Type)
			}
			if got := strings.Join(cols, ","); got != tt.columns {
				t.Errorf("columns %s, want %s", got, tt.columns)
			}
			for col, want := range tt.values {
				if got := strings.Join(columnValues(t, filepath.Join(e.out, table), m.Parts, col), "|"); got != want {
					t.Errorf("column %s holds %s, want %s", col, got, want)
				}
			}
			if len(m.Failed) != len(tt.failed) {
				t.Errorf("failed files %+v, want %v", m.Failed, tt.failed)
			}
			for _, f := range m.Failed {
				words, ok := tt.failed[strings.TrimPrefix(f.Source.Key, prefix)]
				if !ok {
					t.Errorf("%s failed: %s", f.Source.Key, f.Error)
					continue
				}
				mustContain(t, "the error of "+f.Source.Key, f.Error, words...)
				mustContain(t, "the report", stdout, f.Source.Key)
			}
		})
	}
}

// verifyTableFilesLoaded is verifyTable without a count of parts: how the
// files batch into parts is not what these tests are about.
func verifyTableFilesLoaded(t *testing.T, out, table string, wantRows int64) messages.Manifest {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, table, "_manifest.json"))
	if err != nil {
		t.Fatalf("table %s has no manifest: %v", table, err)
	}
	m, err := messages.Unmarshal[messages.Manifest](data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rows != wantRows {
		t.Errorf("table %s: %d rows, want %d", table, m.Rows, wantRows)
	}
	return m
}

// columnValues reads one column of a plain Parquet table's parts, in part
// order, each value as arrow prints it ("(null)" for a null).
func columnValues(t *testing.T, dir string, parts []messages.ManifestPart, column string) []string {
	t.Helper()
	var out []string
	for _, p := range parts {
		tbl := readPart(t, filepath.Join(dir, p.Path))
		idx := tbl.Schema().FieldIndices(column)
		if len(idx) != 1 {
			t.Fatalf("part %s has no column %q", p.Path, column)
		}
		for _, chunk := range tbl.Column(idx[0]).Data().Chunks() {
			for i := range chunk.Len() {
				out = append(out, valueString(chunk, i))
			}
		}
		tbl.Release()
	}
	return out
}

// readPart reads a whole Parquet part into an Arrow table; the caller
// releases it.
func readPart(t *testing.T, path string) arrow.Table {
	t.Helper()
	f, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pqarrow.NewFileReader(f, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := r.ReadTable(context.Background())
	if err != nil {
		t.Fatalf("reading part %s: %v", path, err)
	}
	return tbl
}

func valueString(arr arrow.Array, i int) string {
	if arr.IsNull(i) {
		return "(null)"
	}
	switch a := arr.(type) {
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC().Format("2006-01-02 15:04:05Z")
	case *array.Date32:
		return a.Value(i).FormattedString()
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	}
	return arr.ValueStr(i)
}

// TestPreflightOnWorkersRun: a table of more files than probe_local_max is
// probed by the workers, as probe tasks; a file among them that does not
// fit is failed before loading, and the report says how the schema was
// decided.
func TestPreflightOnWorkersRun(t *testing.T) {
	e := newLoadEnv(t)
	for i := range 40 {
		e.put(fmt.Sprintf("many/%02d.csv", i), fmt.Appendf(nil, "id,amount\n%d,%d\n", i, i))
	}
	e.put("many/40.csv", []byte("id,amount\n40,40.5\n"))
	e.put("many/41.csv", []byte("id,amount,extra\n41,1,x\n"))
	cfg := e.writeConfig("  - { name: many, prefix: many/ }", "max_failed_files: 1\ncoordinator: { probe_local_max: 10 }")
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("s3load run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	mustContain(t, "report", stdout, "many: schema decided from 42 files (3 distinct schemas; probed on the workers)",
		"many: widened: amount", "many/41.csv", `"extra"`)
	m := verifyTableFilesLoaded(t, e.out, "many", 41)
	if got := fmt.Sprint(m.Schema[1].Name, ":", m.Schema[1].Type); got != "amount:float64" {
		t.Errorf("column %s, want amount:float64", got)
	}
	if len(m.Failed) != 1 || !strings.HasSuffix(m.Failed[0].Source.Key, "41.csv") || m.Failed[0].Attempts != 0 {
		t.Errorf("failed %+v, want only many/41.csv, failed before any attempt", m.Failed)
	}
}

// TestPlanMatchesTheLoad: `s3load plan` shows, before anything loads, the
// schema the load then commits, and the files it then fails.
func TestPlanMatchesTheLoad(t *testing.T) {
	e := newLoadEnv(t)
	e.put("p/a.csv", []byte("id;amount\n1;10\n"))
	e.put("p/b.csv", []byte("id;amount\n2;2.5\n"))
	e.put("p/c.csv", []byte("id;amount;extra\n3;1;x\n"))
	e.put("p/d.json", []byte("[]"))
	cfg := e.writeConfig("  - { name: p, prefix: p/ }", "max_failed_files: 1")

	code, text, stderr := runCLI(t, "plan", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("plan exited %d\n%s\n%s", code, text, stderr)
	}
	mustContain(t, "plan", text, "table p: 4 files", "amount", "float64", `csv dialect (detected): delimiter ";"`,
		"widened: amount", "will fail: s3://src/p/c.csv", "1 files hold no rows")
	code, out, stderr := runCLI(t, "plan", "--config", cfg, "--json")
	if code != ExitOK {
		t.Fatalf("plan --json exited %d\n%s\n%s", code, out, stderr)
	}
	var plan struct {
		Tables []struct {
			Columns   []struct{ Name, Type string } `json:"columns"`
			Preflight messages.Preflight            `json:"preflight"`
		} `json:"tables"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, out)
	}

	reportPath := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr := runCLI(t, "run", "--config", cfg, "--report-json", reportPath)
	if code != ExitOK {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	m := verifyTableFilesLoaded(t, e.out, "p", 2)
	p := plan.Tables[0]
	var planned, loaded []string
	for _, c := range p.Columns {
		planned = append(planned, c.Name+":"+c.Type)
	}
	for _, f := range m.Schema {
		loaded = append(loaded, f.Name+":"+f.Type)
	}
	if fmt.Sprint(planned) != fmt.Sprint(loaded) {
		t.Errorf("plan's columns %v, the load's %v", planned, loaded)
	}
	var rejected, failed []string
	for _, f := range p.Preflight.Rejected {
		rejected = append(rejected, f.Source.Key)
	}
	for _, f := range m.Failed {
		failed = append(failed, f.Source.Key)
	}
	if fmt.Sprint(rejected) != fmt.Sprint(failed) || len(failed) != 1 {
		t.Errorf("plan rejects %v, the load failed %v", rejected, failed)
	}
	r := readReport(t, reportPath).Tables[0]
	if r.Preflight == nil {
		t.Fatal("the report says nothing of the pre-flight")
	}
	if r.Files != p.Preflight.Files || r.Empty != p.Preflight.Empty || r.Preflight.Schemas != p.Preflight.Schemas {
		t.Errorf("report: %d files, %d empty, %d schemas; plan: %d, %d, %d",
			r.Files, r.Empty, r.Preflight.Schemas, p.Preflight.Files, p.Preflight.Empty, p.Preflight.Schemas)
	}
}

// TestSmallFilesReadOnce: under s3load run, the pre-flight reads a small
// file whole and its load takes those bytes: one GET per file in all.
func TestSmallFilesReadOnce(t *testing.T) {
	e := newLoadEnv(t)
	for i := range 30 {
		e.put(fmt.Sprintf("once/%02d.csv", i), fmt.Appendf(nil, "id,amount\n%d,%d\n", i, i))
	}
	mark := len(e.s3.AccessLog(t))
	code, stdout, stderr := runCLI(t, "run", "--config", e.writeConfig("  - { name: once, prefix: once/ }", ""))
	if code != ExitOK {
		t.Fatalf("s3load run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	verifyTableFilesLoaded(t, e.out, "once", 30)
	got := map[string]int{}
	for _, a := range e.s3.AccessLog(t)[mark:] {
		if a.Operation == "GetObject" {
			got[a.Key]++
		}
	}
	for i := range 30 {
		if key := fmt.Sprintf("once/%02d.csv", i); got[key] != 1 {
			t.Errorf("%s read %d times, want once", key, got[key])
		}
	}
}

// TestColumnOverrideRejected: a type or format no decoder knows stops the
// run at once as a config error, naming the key.
func TestColumnOverrideRejected(t *testing.T) {
	e := newLoadEnv(t)
	e.put("bad/a.csv", []byte("id,day\n1,31.12.2024\n"))
	for _, tt := range []struct{ columns, want string }{
		{`{ day: { type: date, format: "%d.%Q.%Y" } }`, "tables[0].columns.day.format"},
		{`{ day: "dat" }`, "tables[0].columns.day: parsing type"},
	} {
		cfg := e.writeConfig("  - name: bad\n    prefix: bad/\n    columns: "+tt.columns+"\n", "")
		code, stdout, stderr := runCLI(t, "run", "--config", cfg)
		if code != ExitUsage || !strings.Contains(stderr, tt.want) {
			t.Errorf("columns %s: exit %d, want %d naming %q\n%s\n%s", tt.columns, code, ExitUsage, tt.want, stdout, stderr)
		}
	}
}

// TestPlanCountsWhatTheLoadDoes: the plan's files, bytes and skipped
// objects are the load's report's, its formats are listed, and its
// request estimate is what the load then asks of the store (exactly, for
// CSV files loaded whole: no retries happen here).
func TestPlanCountsWhatTheLoadDoes(t *testing.T) {
	e := newLoadEnv(t)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("id,amount\n3,3\n4,4\n"))
	zw.Close()
	e.put("q/a.csv", []byte("id,amount\n1,1\n"))
	e.put("q/b.csv.gz", gz.Bytes())
	e.put("q/sub/c.csv", []byte("id,amount\n5,5\n"))
	e.put("q/_SUCCESS", nil)
	e.put("q/notes.txt", []byte("not a table file"))
	e.put("q/sub/_SUCCESS", nil)
	cfg := e.writeConfig("  - { name: q, prefix: q/, glob: \"**/*.csv*\" }", "")

	code, text, stderr := runCLI(t, "plan", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("plan exited %d\n%s\n%s", code, text, stderr)
	}
	mustContain(t, "plan", text, "listed 6 objects: 3 files to load", "2 job success marker", "1 not matching the glob",
		"formats: csv: 2 files, csv+gzip: 1 files", "reusable: 0 files (the table has no committed load", "requests: 1 LIST, 3 GET", "/s measured on this machine")
	code, out, stderr := runCLI(t, "plan", "--config", cfg, "--json")
	if code != ExitOK {
		t.Fatalf("plan --json exited %d\n%s\n%s", code, out, stderr)
	}
	var plan struct{ Tables []coordinator.TablePlan }
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, out)
	}
	p := plan.Tables[0]
	if p.Reusable == nil || *p.Reusable != 0 || p.ReuseBasis == "" || p.Estimate == nil || p.Estimate.BytesPerSec <= 0 {
		t.Errorf("plan: reusable %v (%q), estimate %+v; want 0 (no load yet) and a measured estimate", p.Reusable, p.ReuseBasis, p.Estimate)
	}

	// requests counts the LIST and GET requests on the table since mark.
	requests := func(mark int) (lists, gets int) {
		for _, a := range e.s3.AccessLog(t)[mark:] {
			switch {
			case a.Operation == "ListObjectsV2" && strings.Contains(a.RequestURI, "prefix=q%2F"):
				lists++
			case a.Operation == "GetObject" && a.Bucket == "src" && strings.HasPrefix(a.Key, "q/"):
				gets++
			}
		}
		return lists, gets
	}
	mark := len(e.s3.AccessLog(t))
	reportPath := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr := runCLI(t, "run", "--config", cfg, "--report-json", reportPath)
	if code != ExitOK {
		t.Fatalf("run exited %d\n%s\n%s", code, stdout, stderr)
	}
	lists, gets := requests(mark)
	if lists != p.Requests.List || gets != p.Requests.Gets {
		t.Errorf("the load made %d LIST and %d GET requests on the table; the plan estimated %d and %d", lists, gets, p.Requests.List, p.Requests.Gets)
	}
	r := readReport(t, reportPath).Tables[0]
	if r.Preflight == nil {
		t.Fatal("the report says nothing of the pre-flight")
	}
	if r.Files != p.Files || r.Skipped != p.SkippedReported || r.Preflight.Bytes != p.Bytes {
		t.Errorf("report: %d files, %d skipped, %d bytes; plan: %d, %d, %d", r.Files, r.Skipped, r.Preflight.Bytes, p.Files, p.SkippedReported, p.Bytes)
	}

	// Once committed, the plan counts what a repeated load keeps: the
	// files the committed load holds with the same key and ETag. Like the
	// load, it reads only the changed file, and its estimate is what the
	// repeated load then asks.
	e.put("q/a.csv", []byte("id,amount\n1,2\n"))
	mark = len(e.s3.AccessLog(t))
	code, text, stderr = runCLI(t, "plan", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("plan after the load exited %d\n%s\n%s", code, text, stderr)
	}
	mustContain(t, "plan after the load", text, "reusable: 2 files (committed load ")
	for _, a := range e.s3.AccessLog(t)[mark:] {
		if a.Operation == "GetObject" && a.Bucket == "src" && a.Key != "q/a.csv" {
			t.Errorf("the plan of the repeated load read %s, which did not change", a.Key)
		}
	}
	code, out, stderr = runCLI(t, "plan", "--config", cfg, "--json")
	if code != ExitOK {
		t.Fatalf("plan --json after the load exited %d\n%s\n%s", code, out, stderr)
	}
	plan.Tables = nil
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		t.Fatalf("plan --json: %v\n%s", err, out)
	}
	p = plan.Tables[0]
	mark = len(e.s3.AccessLog(t))
	if code, stdout, stderr := runCLI(t, "run", "--config", cfg); code != ExitOK {
		t.Fatalf("the repeated run exited %d\n%s\n%s", code, stdout, stderr)
	}
	if lists, gets := requests(mark); lists != p.Requests.List || gets != p.Requests.Gets || gets != 1 {
		t.Errorf("the repeated load made %d LIST and %d GET requests on the table; the plan estimated %d and %d (%s)", lists, gets, p.Requests.List, p.Requests.Gets, p.Requests.Basis)
	}
}
