package cli

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/decode"
	"github.com/s3load/s3load/internal/demo"
	"github.com/s3load/s3load/internal/testenv"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

var skipReason = decode.SkipReason

// Every format and compression, loaded end to end by `s3load run` through a
// real S3 server and JetStream.
func TestFullLoadFormats(t *testing.T) {
	e := newLoadEnv(t)
	tricky := "\ufeffid,name,amount,at,ok\r\n" +
		"1,\"Smith, John\",1.5,2024-01-02T03:04:05Z,true\r\n" +
		"2,\"say \"\"hi\"\"\",2.5,2024-01-02T03:04:06Z,false\r\n" +
		"3,\"two\nlines\",3.5,2024-01-02T03:04:07Z,true\r\n"
	type table struct {
		name, yaml string
		files      map[string][]byte
		rows       int64
	}
	tables := []table{
		{"csv_plain", "prefix: csv_plain/", map[string][]byte{
			"csv_plain/tricky.csv": []byte(tricky), "csv_plain/b.csv": csvRows(10, 200, ",", true)}, 203},
		{"csv_gz", "prefix: csv_gz/", map[string][]byte{
			"csv_gz/a.csv.gz": gz(t, csvRows(0, 300, ",", true)), "csv_gz/b.csv.gz": gz(t, csvRows(300, 300, ",", true))}, 600},
		{"csv_zst", "prefix: csv_zst/", map[string][]byte{"csv_zst/a.csv.zst": zst(t, csvRows(0, 250, ",", true))}, 250},
		{"csv_bz2", "prefix: csv_bz2/", map[string][]byte{"csv_bz2/a.csv.bz2": bz2(t, csvRows(0, 120, ",", true))}, 120},
		{"tsv", "prefix: tsv/\n    format: csv\n    csv: { delimiter: \"\\t\", header: false }", map[string][]byte{
			"tsv/a.tsv": csvRows(0, 50, "\t", false), "tsv/b.tsv": csvRows(50, 70, "\t", false)}, 120},
		{"json", "prefix: json/", map[string][]byte{
			"json/a.jsonl": jsonLines(0, 100), "json/b.json": jsonArray(100, 40),
			"json/c.json.gz": gz(t, jsonLines(140, 60)), "json/d.jsonl.zst": zst(t, jsonLines(200, 10)),
			"json/e.json.bz2": bz2(t, jsonLines(210, 5))}, 215},
		{"pq", "prefix: pq/", map[string][]byte{
			"pq/a.parquet": parquetRows(t, 0, 1000), "pq/b.parquet": parquetRows(t, 1000, 10),
			"pq/c.parquet.gz": gz(t, parquetRows(t, 2000, 30))}, 1040},
	}
	var yaml strings.Builder
	for _, tb := range tables {
		yaml.WriteString("  - name: " + tb.name + "\n    " + tb.yaml + "\n")
		for k, v := range tb.files {
			e.put(k, v)
		}
	}
	// Markers beside the data: skipped and counted, never loaded or failed.
	e.put("csv_gz/_SUCCESS", nil)
	e.put("csv_gz/sub/", nil)
	e.put("json/.a.jsonl.crc", []byte("crc"))

	cfg := e.writeConfig(yaml.String(), "")
	report := filepath.Join(t.TempDir(), "report.json")
	code, stdout, stderr := runCLI(t, "run", "--config", cfg, "--report-json", report)
	if code != ExitOK {
		t.Fatalf("s3load run exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, tb := range tables {
		verifyTable(t, e.out, tb.name, tb.rows, len(tb.files))
	}
	var r coordinator.Report
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	for _, tr := range r.Tables {
		if tr.Name == "csv_gz" && tr.Skipped != 2 || tr.Name == "json" && tr.Skipped != 1 {
			t.Errorf("table %s: skipped %d", tr.Name, tr.Skipped)
		}
		if tr.Failed != 0 || tr.Bytes == 0 || tr.Rows == 0 {
			t.Errorf("table %s: report %+v", tr.Name, tr)
		}
	}
	mustContain(t, "report", stdout, "every table committed", "csv_plain", "MB/s")

	m := verifyTable(t, e.out, "csv_plain", 203, 2)
	wantSchema := map[string]string{"id": "int64", "name": "utf8", "amount": "float64", "ok": "bool"}
	for _, f := range m.Schema {
		if w, ok := wantSchema[f.Name]; ok && w != f.Type {
			t.Errorf("csv_plain column %s: type %s, want %s", f.Name, f.Type, w)
		}
	}
	if !strings.HasPrefix(m.Schema[0].Name, "id") {
		t.Errorf("BOM not stripped from the first column name: %q", m.Schema[0].Name)
	}
}

// The demo data set: three tables, markers skipped, all committed.
func TestMultiTableDemoLoad(t *testing.T) {
	e := newLoadEnv(t)
	ds, cfg := e.seedDemo(7, 5, 700)
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	for table, rows := range ds.Rows {
		verifyTable(t, e.out, table, rows, 5)
	}

	// A second full load replaces the first as a whole.
	first, _ := os.Readlink(filepath.Join(e.out, "orders"))
	code, stdout, stderr = runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("second load: exit %d\n%s\n%s", code, stdout, stderr)
	}
	second, _ := os.Readlink(filepath.Join(e.out, "orders"))
	if first == second {
		t.Errorf("second load did not commit a new table version (%s)", second)
	}
	verifyTable(t, e.out, "orders", ds.Rows["orders"], 5)
	if _, err := os.Stat(filepath.Join(e.out, first)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the first load's directory was not cleaned up: %v", err)
	}
}

// A worker stopped mid-file never acks; the task is redelivered after the
// ack wait, loaded once, and the stray partial output is not committed.
func TestWorkerStoppedMidFile(t *testing.T) {
	e := newLoadEnv(t)
	for i := range 4 {
		e.put("t/f"+string(rune('a'+i))+".csv", csvRows(i*100, 100, ",", true))
	}
	p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", ""))

	started := make(chan messages.Task, 1)
	stopA := p.startWorker("worker-a", func(l worker.Loader) worker.Loader {
		return loaderFunc(func(ctx context.Context, task messages.Task, schema worker.Schemas, pr *worker.Progress) []worker.Outcome {
			// Leave a half-written part behind, as a killed worker would.
			part, err := p.ad.target.CreatePart(ctx, task.Table, task.LoadID)
			if err == nil {
				_, _ = part.Write([]byte("PAR1 half a file"))
			}
			started <- task
			<-ctx.Done()
			outs := make([]worker.Outcome, len(task.Files))
			for i := range outs {
				outs[i] = worker.Outcome{Kind: worker.Transient, Err: ctx.Err()}
			}
			return outs
		})
	})

	co := p.coordinator(nil)
	type result struct {
		r   coordinator.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := co.Run(context.Background())
		done <- result{r, err}
	}()
	var stuck messages.Task
	select {
	case stuck = <-started:
	case <-time.After(time.Minute):
		t.Fatal("worker A never got a task")
	}
	stopA(false) // killed: no ack, no record

	p.startWorker("worker-b", nil)
	var res result
	select {
	case res = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("load did not finish after the redelivery")
	}
	if res.err != nil || !res.r.OK() {
		t.Fatalf("load: %v %+v", res.err, res.r)
	}
	if len(stuck.Files) != 4 {
		t.Errorf("the 4 small files came in %d-file tasks, want one batch", len(stuck.Files))
	}
	m := verifyTable(t, e.out, "t", 400, 4)
	for _, f := range m.Files {
		if f.Rows != 100 {
			t.Errorf("redelivered file %s has %d rows", f.Source.Key, f.Rows)
		}
	}
}

// A worker that dies between recording the files of its batch leaves a
// part holding rows of a file it never recorded. That file loads again
// elsewhere, so the part must not be committed: its recorded files are
// loaded again into parts of their own, and every row is in the table once.
func TestBatchWorkerDiesBetweenRecords(t *testing.T) {
	e := newLoadEnv(t)
	e.put("t/a.csv", csvRows(0, 10, ",", true))
	e.put("t/b.csv", csvRows(10, 20, ",", true))
	p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", ""))

	recorded := make(chan messages.Task, 1)
	stopA := p.startWorker("worker-a", func(l worker.Loader) worker.Loader {
		return loaderFunc(func(ctx context.Context, task messages.Task, schema worker.Schemas, pr *worker.Progress) []worker.Outcome {
			outs := l.Load(ctx, task, schema, pr) // the batch part, both files in it
			// Record the first file as the worker would, then "die".
			f := task.Files[0]
			rec := messages.FileRecord{LoadID: task.LoadID, Table: task.Table, Source: f.Source, State: messages.StateLoaded,
				Part: outs[0].Part, PartFiles: outs[0].PartFiles, Rows: outs[0].Rows, Bytes: outs[0].Bytes, Attempts: 1, Worker: "worker-a"}
			if _, err := p.conn.state.PutFile(ctx, rec, f.Revision); err != nil {
				t.Errorf("recording the first file: %v", err)
			}
			recorded <- task
			<-ctx.Done()
			return []worker.Outcome{{Kind: worker.Transient, Err: ctx.Err()}, {Kind: worker.Transient, Err: ctx.Err()}}
		})
	})
	done := make(chan error, 1)
	go func() {
		r, err := p.coordinator(nil).Run(context.Background())
		if err == nil && !r.OK() {
			err = fmt.Errorf("report: %+v", r)
		}
		done <- err
	}()
	var task messages.Task
	select {
	case task = <-recorded:
	case <-time.After(time.Minute):
		t.Fatal("worker A never got the batch")
	}
	if len(task.Files) != 2 {
		t.Fatalf("the batch has %d files, want 2", len(task.Files))
	}
	stopA(false)
	p.startWorker("worker-b", nil)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("load: %v", err)
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("load did not finish")
	}
	m := verifyTable(t, e.out, "t", 30, 2)
	for _, f := range m.Files {
		if want := messages.PartName(f.Source, nil); f.Path != want {
			t.Errorf("%s committed in %s, want a part of its own (%s)", f.Source.Key, f.Path, want)
		}
	}
}

type loaderFunc func(ctx context.Context, task messages.Task, schema worker.Schemas, p *worker.Progress) []worker.Outcome

func (f loaderFunc) Load(ctx context.Context, task messages.Task, schema worker.Schemas, p *worker.Progress) []worker.Outcome {
	return f(ctx, task, schema, p)
}

// crashingPublisher lets n publishes through, then stops the coordinator
// dead, as a kill mid-publish would.
type crashingPublisher struct {
	coordinator.Queue
	n     int64
	seen  atomic.Int64
	crash context.CancelFunc
}

func (c *crashingPublisher) Publish(ctx context.Context, tasks ...messages.Task) error {
	for _, task := range tasks {
		if c.seen.Add(1) > c.n {
			c.crash()
			return context.Canceled
		}
		if err := c.Queue.Publish(ctx, task); err != nil {
			return err
		}
	}
	return nil
}

// A coordinator that dies mid-publish and is started again resumes the same
// load: nothing is skipped, nothing loads twice.
func TestCoordinatorRestartMidLoad(t *testing.T) {
	e := newLoadEnv(t)
	const files = 30
	for i := range files {
		e.put(filepath.Join("t", "day="+string(rune('a'+i%5)), "f"+string(rune('A'+i))+".csv"), csvRows(i*10, 10, ",", true))
	}
	// Batches of 4 files: a resumed listing makes new batches of what is
	// left, and a file must still load once.
	p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 4 }"))

	// 3 tasks (12 files) get out before the crash.
	ctx, crash := context.WithCancel(context.Background())
	_, err := p.coordinator(&crashingPublisher{Queue: p.conn.queue, n: 3, crash: crash}).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("first coordinator: %v, want it stopped mid-publish", err)
	}
	load := p.currentLoad()
	if load == "" {
		t.Fatal("no load recorded before the crash")
	}

	// Workers load what was published; then the coordinator comes back.
	p.startWorker("w1", nil)
	p.startWorker("w2", nil)
	waitFor(t, "the published files to load", time.Minute, func() bool {
		return p.fileStates(load, "t")[messages.StateLoaded] >= 12
	})
	r, err := p.coordinator(nil).Run(context.Background())
	if err != nil || !r.OK() {
		t.Fatalf("restarted coordinator: %v %+v", err, r)
	}
	if r.LoadID != load {
		t.Errorf("restart began a new load %s instead of resuming %s", r.LoadID, load)
	}
	verifyTable(t, e.out, "t", files*10, files)
	if sum := p.loadSummary(t); len(sum.Tables) != 1 || sum.Tables[0].Loaded != files || sum.State != messages.LoadCompleted {
		t.Errorf("load record after resume: %+v", sum)
	}
}

// An object overwritten after listing is reported as changed, not loaded.
func TestFileChangedAfterListing(t *testing.T) {
	e := newLoadEnv(t)
	// Larger than what the pre-flight reads whole and keeps for the load
	// (a kept file loads as it was listed, whatever the store holds now).
	for _, k := range []string{"a", "b", "c"} {
		e.put("t/"+k+".csv", csvRows(0, 10_000, ",", true))
	}
	p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", "max_failed_files: 1\n"))
	co := p.coordinator(nil)
	done := make(chan coordinator.Report, 1)
	go func() {
		r, err := co.Run(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- r
	}()
	// Listed and published, no worker yet: now the object changes.
	waitFor(t, "the listing", time.Minute, func() bool {
		load := p.currentLoad()
		return load != "" && len(p.fileStates(load, "t")) > 0 && p.fileStates(load, "t")[messages.StateListed] == 3
	})
	e.put("t/b.csv", csvRows(0, 99, ",", true))
	p.startWorker("w", nil)
	var r coordinator.Report
	select {
	case r = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("load did not finish")
	}
	if !r.OK() || r.Tables[0].Changed != 1 {
		t.Fatalf("report: %+v", r.Tables)
	}
	m := verifyTable(t, e.out, "t", 20_000, 2)
	if len(m.Failed) != 1 || m.Failed[0].State != messages.StateChanged || m.Failed[0].Source.Key != "t/b.csv" {
		t.Errorf("manifest failures: %+v", m.Failed)
	}
}

// A file whose columns differ fails, naming the file and each column; the
// other files of the table load. With max_failed_files 0 the table is not
// committed and the exit code says so.
func TestSchemaInconsistentFile(t *testing.T) {
	e := newLoadEnv(t)
	e.put("t/1.csv", csvRows(0, 10, ",", true))
	e.put("t/2.csv", csvRows(10, 10, ",", true))
	e.put("t/3-odd.csv", []byte("id,name,amount,extra\nx,n,1.5,7\n"))

	code, stdout, stderr := runCLI(t, "run", "--config", e.writeConfig("  - { name: t, prefix: t/ }", ""))
	if code != ExitNotComplete {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitNotComplete, stdout, stderr)
	}
	mustContain(t, "report", stdout, "NOT every table committed", "s3://src/t/3-odd.csv", `"extra"`, `"at"`)
	if _, err := os.Stat(filepath.Join(e.out, "t")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a table over max_failed_files was committed: %v", err)
	}

	code, stdout, stderr = runCLI(t, "run", "--config", e.writeConfig("  - { name: t, prefix: t/ }", "max_failed_files: 1\n"))
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	m := verifyTable(t, e.out, "t", 20, 2)
	if len(m.Failed) != 1 || !strings.Contains(m.Failed[0].Error, "3-odd.csv") {
		t.Errorf("failures: %+v", m.Failed)
	}
}

// Stopping a worker (SIGTERM's path) drains it: the file in hand finishes and
// is recorded, and no new file starts.
func TestWorkerDrainsOnStop(t *testing.T) {
	e := newLoadEnv(t)
	for _, k := range []string{"a", "b", "c"} {
		e.put("t/"+k+".csv", csvRows(0, 10, ",", true))
	}
	// One file per task, so there are files left to not start.
	p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 1 }"))
	started := make(chan struct{}, 3)
	release := make(chan struct{})
	stop := p.startWorker("w", func(l worker.Loader) worker.Loader {
		return loaderFunc(func(ctx context.Context, task messages.Task, schema worker.Schemas, pr *worker.Progress) []worker.Outcome {
			started <- struct{}{}
			<-release
			return l.Load(ctx, task, schema, pr)
		})
	})
	co := p.coordinator(nil)
	// The coordinator runs until the test ends: it is stopped and awaited
	// then, so it never logs into a finished test.
	coCtx, stopCo := context.WithCancel(context.Background())
	coDone := make(chan struct{})
	go func() { defer close(coDone); _, _ = co.Run(coCtx) }()
	t.Cleanup(func() { stopCo(); <-coDone })
	select {
	case <-started:
	case <-time.After(time.Minute):
		t.Fatal("no file started")
	}
	stopped := make(chan struct{})
	go func() { stop(true); close(stopped) }()
	// The stop must wait for the file in hand.
	select {
	case <-stopped:
		t.Fatal("the worker stopped before its file finished")
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	select {
	case <-stopped:
	case <-time.After(time.Minute):
		t.Fatal("the worker did not stop after its file finished")
	}
	load := p.currentLoad()
	if st := p.fileStates(load, "t"); st[messages.StateLoaded] != 1 || st[messages.StateListed] != 2 {
		t.Errorf("after the drain: %v, want 1 loaded and 2 untouched", st)
	}
	if len(started) != 0 {
		t.Errorf("a new file started during the drain")
	}
}

// A Parquet file whose columns are already the table's becomes its part
// byte for byte; the copy is still decoded, so a corrupt page fails the
// file as it would without the copy.
func TestParquetCopiedWhenItMatches(t *testing.T) {
	e := newLoadEnv(t)
	good := parquetRows(t, 0, 300) // three row groups
	e.put("p/a.parquet", good)
	bad := parquetRows(t, 300, 300)
	for i := 4; i < 12; i++ { // the first page header
		bad[i] = 0xff
	}
	e.put("p/b-bad.parquet", bad)
	cfg := e.writeConfig("  - { name: p, prefix: p/ }", "max_failed_files: 1\nbatch: { files: 1 }\n")
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	m := verifyTable(t, e.out, "p", 300, 1)
	part, err := os.ReadFile(filepath.Join(e.out, "p", m.Files[0].Path))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(part, good) {
		t.Errorf("the matching file was re-encoded (%d bytes, source %d), not copied", len(part), len(good))
	}
	if len(m.Failed) != 1 || !strings.Contains(m.Failed[0].Error, "b-bad.parquet") || !strings.Contains(m.Failed[0].Error, "row group 0") {
		t.Errorf("failures: %+v", m.Failed)
	}
}

// Big files are split into ranges loaded by separate tasks, each into its
// own part: CSV and JSON lines by lines, Parquet by row groups. A CSV whose
// quoted newline sits at a cut fails its range and is loaded again whole.
// Every row lands once.
func TestBigFilesSplit(t *testing.T) {
	e := newLoadEnv(t)
	const rangeBytes = 1 << 20
	wide := demo.WideCSV(0, 50_000)
	e.put("c/wide.csv", wide)
	jl := demo.WideJSONLines(0, 25_000)
	e.put("j/wide.jsonl", jl)
	pq := parquetRows(t, 0, 600_000)
	e.put("p/rows.parquet", pq)
	e.put("pc/rows.parquet", pq) // in the table's own columns: copied whole, not split
	var q strings.Builder
	q.WriteString("id,note\n")
	for i := range 40_000 {
		fmt.Fprintf(&q, "%d,\"row %d line one\nline two\nline three\"\n", i, i)
	}
	quoted := []byte(q.String())
	if !cutInsideQuotes(quoted, rangeBytes) {
		t.Fatal("test data: no cut of the quoted file falls inside quotes")
	}
	e.put("q/quoted.csv", quoted)
	// Table p declares id nullable where the file has it required: the
	// file must be converted, so it is split.
	cfg := e.writeConfig(`  - { name: c, prefix: c/ }
  - { name: j, prefix: j/ }
  - { name: p, prefix: p/, schema: [{ name: id, type: int64 }, { name: name, type: string }] }
  - { name: pc, prefix: pc/ }
  - { name: q, prefix: q/ }`, fmt.Sprintf("split: { range_bytes: %d }\n", rangeBytes))
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	// As the coordinator cuts: ranges of about rangeBytes, the last of
	// three or more cut in four.
	ranges := func(size int) int {
		n := (size + rangeBytes - 1) / rangeBytes
		if n >= 3 {
			n += 3
		}
		return n
	}
	for _, tc := range []struct {
		table  string
		rows   int64
		ranges int
	}{
		{"c", 50_000, ranges(len(wide))},
		{"j", 25_000, ranges(len(jl))},
		{"p", 600_000, ranges(len(pq))},
		{"pc", 600_000, 1},
		{"q", 40_000, 1}, // loaded again whole
	} {
		if tc.ranges < 2 && tc.table != "q" && tc.table != "pc" {
			t.Fatalf("test data: %s is not bigger than one range", tc.table)
		}
		m := verifyTable(t, e.out, tc.table, tc.rows, tc.ranges)
		for _, f := range m.Files {
			switch {
			case tc.table == "pc" && f.Range != nil:
				t.Errorf("pc: a Parquet file in the table's columns was split: %+v", f.Range)
			case tc.table != "pc" && f.Range == nil:
				t.Errorf("%s: %s loaded without a range", tc.table, f.Source.Key)
			case tc.table == "q" && (f.Range.Start != 0 || f.Range.End != f.Source.Size):
				t.Errorf("q: the quoted file was not loaded whole: %+v", f.Range)
			}
		}
	}
	mustContain(t, "report", stdout, "every table committed")
	mustContain(t, "log", stderr, "split files with a failed range loaded again whole")
}

// cutInsideQuotes says whether some cut of data into ranges of about
// rangeBytes (as the coordinator cuts) ends a range inside a quoted field.
func cutInsideQuotes(data []byte, rangeBytes int) bool {
	n := (len(data) + rangeBytes - 1) / rangeBytes
	for i := 1; i < n; i++ {
		end := len(data) * i / n
		nl := end - 1 + bytes.IndexByte(data[end-1:], '\n')
		if bytes.Count(data[:nl], []byte(`"`))%2 == 1 {
			return true
		}
	}
	return false
}

// parquet_encodings reaches the workers' writers: by default the integer
// and timestamp columns of a part are DELTA_BINARY_PACKED, with plain
// every column is PLAIN, with compact floats are BYTE_STREAM_SPLIT too;
// the rows are the same either way.
func TestParquetEncodingsSetting(t *testing.T) {
	for _, tc := range []struct {
		setting              string
		wantDelta, wantSplit []string
	}{
		{"", []string{"id", "at"}, nil},
		{"parquet_encodings: plain", nil, nil},
		{"parquet_encodings: compact", []string{"id", "at"}, []string{"amount"}},
	} {
		t.Run(cmp.Or(tc.setting, "default"), func(t *testing.T) {
			e := newLoadEnv(t)
			e.put("o/a.csv", csvRows(0, 500, ",", true))
			cfg := e.writeConfig("  - { name: o, prefix: o/ }", tc.setting)
			if code, stdout, stderr := runCLI(t, "run", "--config", cfg); code != ExitOK {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			m := verifyTable(t, e.out, "o", 500, 1)
			pf, err := file.OpenParquetFile(filepath.Join(e.out, "o", m.Files[0].Path), false)
			if err != nil {
				t.Fatal(err)
			}
			defer pf.Close()
			delta := testenv.EncodedColumns(t, pf, parquet.Encodings.DeltaBinaryPacked)
			split := testenv.EncodedColumns(t, pf, parquet.Encodings.ByteStreamSplit)
			if !slices.Equal(delta, tc.wantDelta) || !slices.Equal(split, tc.wantSplit) {
				t.Errorf("DELTA_BINARY_PACKED columns %v, want %v; BYTE_STREAM_SPLIT %v, want %v", delta, tc.wantDelta, split, tc.wantSplit)
			}
		})
	}
}
