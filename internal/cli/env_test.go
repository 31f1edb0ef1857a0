package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"log/slog"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/config"
	"github.com/s3load/s3load/internal/demo"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/internal/testenv"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

// loadEnv is one integration test's world: a real versitygw S3 server with a
// source bucket, a real embedded JetStream server, and a target directory.
type loadEnv struct {
	t      testing.TB
	s3     *testenv.S3Server
	bucket string
	// endpoint is the S3 endpoint configs point at: the server, or a
	// proxy in front of it.
	endpoint string
	natsURL  string
	natsDir  string
	nats     *natsq.Embedded
	out      string
}

func newLoadEnv(t testing.TB) *loadEnv {
	t.Helper()
	e := &loadEnv{t: t, s3: testenv.Versity(t), bucket: "src", out: t.TempDir(), natsDir: t.TempDir()}
	e.endpoint = e.s3.Endpoint
	e.s3.CreateBucket(t, e.bucket)
	srv, err := natsq.StartEmbedded(e.natsDir, "127.0.0.1", 0)
	if err != nil {
		t.Fatal(err)
	}
	e.nats = srv
	t.Cleanup(func() { e.nats.Shutdown() })
	e.natsURL = srv.URL()
	t.Setenv("TEST_S3_KEY", e.s3.AccessKeyID)
	t.Setenv("TEST_S3_SECRET", e.s3.SecretAccessKey)
	return e
}

// seedDemo puts the demo data set in the source bucket and returns it with
// the path of a config that loads its three tables.
func (e *loadEnv) seedDemo(seed uint64, files, rows int) (demo.Dataset, string) {
	e.t.Helper()
	ds, err := demo.Build(seed, files, rows)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, o := range ds.Objects {
		e.put(o.Key, o.Data)
	}
	return ds, e.writeConfig(`  - { name: orders, prefix: orders/, glob: "**/*.csv.gz" }
  - { name: events, prefix: events/ }
  - { name: products, prefix: products/ }`, "")
}

// putCSVs puts n CSV files of rows rows each under prefix, named f00.csv,
// f01.csv...; ids are unique across them.
func (e *loadEnv) putCSVs(prefix string, n, rows int) {
	for i := range n {
		e.put(fmt.Sprintf("%sf%02d.csv", prefix, i), csvRows(i*rows, rows, ",", true))
	}
}

func (e *loadEnv) put(key string, data []byte) messages.Source {
	return e.s3.Put(e.t, e.bucket, key, data)
}

// viaProxy puts a fault-injecting proxy between s3load and the S3 server:
// configs written after it point at the proxy.
func (e *loadEnv) viaProxy() *testenv.Proxy {
	p := testenv.NewProxy(e.t, e.s3.Endpoint)
	e.endpoint = p.Endpoint
	return p
}

// natsDown stops the NATS server (its storage kept) until the returned up
// is called, which starts it again on the same port.
func (e *loadEnv) natsDown() (up func()) {
	e.t.Helper()
	u, err := url.Parse(e.natsURL)
	if err != nil {
		e.t.Fatal(err)
	}
	port, _ := strconv.Atoi(u.Port())
	e.nats.Shutdown()
	return func() {
		e.t.Helper()
		var err error
		deadline := time.Now().Add(10 * time.Second)
		for {
			var srv *natsq.Embedded
			if srv, err = natsq.StartEmbedded(e.natsDir, "127.0.0.1", port); err == nil {
				e.nats = srv
				return
			}
			if time.Now().After(deadline) {
				e.t.Fatalf("starting NATS again on port %d: %v", port, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// writeConfig writes a config with the given tables (YAML list items) and
// extra top-level keys, and returns its path. A retry block in extra
// replaces the tests' default one.
func (e *loadEnv) writeConfig(tables, extra string) string {
	e.t.Helper()
	retry := "retry: { backoff: 100ms, max_backoff: 500ms }"
	if strings.Contains(extra, "retry:") {
		retry = ""
	}
	// These tests read tables as plain Parquet unless they ask otherwise.
	if !strings.Contains(extra, "table_format:") {
		extra += "\ntable_format: parquet"
	}
	doc := fmt.Sprintf(`source:
  region: %s
  bucket: %s
  endpoint: %s
  path_style: true
  access_key_id: ${TEST_S3_KEY}
  secret_access_key: ${TEST_S3_SECRET}
tables:
%s
target: file://%s
nats:
  url: %s
  ack_wait: 3s
workers: 2
%s
%s`, e.s3.Region, e.bucket, e.endpoint, tables, e.out, e.natsURL, retry, extra)
	path := filepath.Join(e.t.TempDir(), "load.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		e.t.Fatal(err)
	}
	return path
}

func (e *loadEnv) config(path string) config.Config {
	e.t.Helper()
	c, err := config.Load(path)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// runCLI runs the s3load command line in-process.
func runCLI(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	code = Main(ctx, args, &out, &errb)
	return code, out.String(), errb.String()
}

// inProcess builds the real coordinator and workers of a config, so a test
// can stop, wrap or restart each of them.
type inProcess struct {
	e *loadEnv
	*session
}

func (e *loadEnv) inProcess(cfgPath string) *inProcess {
	e.t.Helper()
	return e.inProcessLogging(cfgPath, testLogger(e.t))
}

// inProcessLogging is inProcess with its own logger, for tests that read
// what was said.
func (e *loadEnv) inProcessLogging(cfgPath string, log *slog.Logger) *inProcess {
	e.t.Helper()
	c := e.config(cfgPath)
	ctx := context.Background()
	s, err := openSession(ctx, c, log, e.natsURL, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(s.close)
	return &inProcess{e: e, session: s}
}

// testLogger logs to the test's output, so a failing test shows what the
// coordinator and workers said.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// logBuffer collects log lines for a test to read, and shows them in the
// test's output too.
type logBuffer struct {
	t  testing.TB
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// coordinator builds the real coordinator; q, if given, replaces its queue.
func (p *inProcess) coordinator(q coordinator.Queue, adjust ...func(*coordinator.Config, *coordinator.Ports)) *coordinator.Coordinator {
	p.e.t.Helper()
	if q != nil {
		adjust = append(adjust, func(_ *coordinator.Config, ports *coordinator.Ports) { ports.Queue = q })
	}
	if err := p.ad.openLake(context.Background(), p.cfg, p.job, p.log); err != nil {
		p.e.t.Fatal(err)
	}
	co, err := p.newCoordinator(false, adjust...)
	if err != nil {
		p.e.t.Fatal(err)
	}
	return co
}

// startWorker runs a worker until the returned stop is called. wrap, if
// given, wraps the real pipeline. stop(true) drains; stop(false) abandons
// files in hand, as a killed process would.
func (p *inProcess) startWorker(id string, wrap func(worker.Loader) worker.Loader) (stop func(drain bool)) {
	p.e.t.Helper()
	w, err := p.newWorker(id, 1, wrap)
	if err != nil {
		p.e.t.Fatal(err)
	}
	fetchCtx, stopFetch := context.WithCancel(context.Background())
	workCtx, stopWork := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = w.Run(fetchCtx, workCtx)
	}()
	var once sync.Once
	stop = func(drain bool) {
		once.Do(func() {
			stopFetch()
			if !drain {
				stopWork()
			}
			<-done
			stopWork()
		})
	}
	p.e.t.Cleanup(func() { stop(false) })
	return stop
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// fileStates counts the table's file records by state.
func (p *inProcess) fileStates(load, table string) map[messages.FileState]int {
	recs, err := p.conn.state.Files(context.Background(), load, table)
	if err != nil {
		p.e.t.Fatal(err)
	}
	out := map[messages.FileState]int{}
	for _, r := range recs {
		out[r.State]++
	}
	return out
}

// loadSummary reads the job's load record.
func (p *inProcess) loadSummary(t *testing.T) messages.LoadRecord {
	t.Helper()
	rec, _, err := p.conn.state.Load(context.Background(), p.job)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func (p *inProcess) currentLoad() string {
	rec, _, err := p.conn.state.Load(context.Background(), p.job)
	if err != nil {
		if errors.Is(err, messages.ErrNotFound) {
			return ""
		}
		p.e.t.Fatal(err)
	}
	return rec.LoadID
}

// verifyTable checks a committed table: the directory holds exactly the
// manifest's files and _manifest.json, every part's footer agrees with the
// manifest, and the rows add up to want.
func verifyTable(t *testing.T, out, table string, wantRows int64, wantFiles int) messages.Manifest {
	t.Helper()
	dir := filepath.Join(out, table)
	data, err := os.ReadFile(filepath.Join(dir, "_manifest.json"))
	if err != nil {
		t.Fatalf("table %s has no manifest: %v", table, err)
	}
	m, err := messages.Unmarshal[messages.Manifest](data)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var onDisk, listed []string
	for _, en := range entries {
		onDisk = append(onDisk, en.Name())
	}
	listed = append(listed, "_manifest.json")
	var rows int64
	sources := map[string]bool{}
	named := map[string]int64{} // part -> rows of the files recorded in it
	for _, f := range m.Files {
		key := f.Source.Key
		if f.Range != nil {
			key += fmt.Sprintf(" range %d of %d", f.Range.Index, f.Range.Count)
		}
		if sources[key] {
			t.Errorf("table %s: source %s listed twice", table, key)
		}
		sources[key] = true
		named[f.Path] += f.Rows
	}
	for _, p := range m.Parts {
		listed = append(listed, p.Path)
		r, err := file.OpenParquetFile(filepath.Join(dir, p.Path), false)
		if err != nil {
			t.Fatalf("table %s: part %s: %v", table, p.Path, err)
		}
		if r.NumRows() != p.Rows || named[p.Path] != p.Rows {
			t.Errorf("table %s: part %s has %d rows, manifest says %d, its files %d", table, p.Path, r.NumRows(), p.Rows, named[p.Path])
		}
		delete(named, p.Path)
		rows += r.NumRows()
		r.Close()
	}
	if len(named) > 0 {
		t.Errorf("table %s: files name parts the manifest does not list: %v", table, named)
	}
	sort.Strings(onDisk)
	sort.Strings(listed)
	if !slices.Equal(onDisk, listed) {
		t.Errorf("table %s: directory holds %v, manifest lists %v", table, onDisk, listed)
	}
	if rows != m.Rows || rows != wantRows {
		t.Errorf("table %s: parts hold %d rows, manifest says %d, want %d", table, rows, m.Rows, wantRows)
	}
	if len(m.Files) != wantFiles {
		t.Errorf("table %s: %d files committed, want %d", table, len(m.Files), wantFiles)
	}
	if m.Table != table || m.LoadID == "" || m.CommittedAt.IsZero() {
		t.Errorf("table %s: manifest header incomplete: %+v", table, m)
	}
	return m
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q:\n%s", what, sub, s)
		}
	}
}
