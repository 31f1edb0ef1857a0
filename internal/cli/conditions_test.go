package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/s3load/s3load/coordinator"
	"github.com/s3load/s3load/internal/natsq"
	"github.com/s3load/s3load/internal/testenv"
	"github.com/s3load/s3load/messages"
	"github.com/s3load/s3load/worker"
)

// The conditions of real loads, each run against real servers (versitygw,
// an embedded nats-server) with the real coordinator and workers: files
// that take longer than every timeout, outages, state lost from JetStream,
// two coordinators. Each asserts exactness: every file committed once with
// its rows.

// outageLength is how long the outage tests keep a server away: def, or
// $S3LOAD_TEST_OUTAGE (say 10m, to see an outage of minutes waited out).
func outageLength(t testing.TB, def time.Duration) time.Duration {
	v := os.Getenv("S3LOAD_TEST_OUTAGE")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("S3LOAD_TEST_OUTAGE: %v", err)
	}
	return d
}

// fast shortens the coordinator's check interval and lease for tests: what
// takes seconds by default takes a fraction here.
func fast(cfg *coordinator.Config, _ *coordinator.Ports) {
	cfg.CheckInterval, cfg.LeaseTTL = 300*time.Millisecond, 3*time.Second
}

// gate holds every task a wrapped loader gets until it is opened.
type gate struct {
	ch   chan struct{}
	once sync.Once
	held atomic.Int64
}

func newGate() *gate { return &gate{ch: make(chan struct{})} }

func (g *gate) open() { g.once.Do(func() { close(g.ch) }) }

func (g *gate) wrap(l worker.Loader) worker.Loader {
	return loaderFunc(func(ctx context.Context, task messages.Task, schema worker.Schemas, pr *worker.Progress) []worker.Outcome {
		g.held.Add(1)
		select {
		case <-g.ch:
		case <-ctx.Done():
		}
		return l.Load(ctx, task, schema, pr)
	})
}

// loadCounter counts how often each file is handed to the real loader.
type loadCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *loadCounter) wrap(l worker.Loader) worker.Loader {
	return loaderFunc(func(ctx context.Context, task messages.Task, schema worker.Schemas, pr *worker.Progress) []worker.Outcome {
		c.mu.Lock()
		if c.n == nil {
			c.n = map[string]int{}
		}
		for _, f := range task.Files {
			c.n[task.Table+"/"+f.Source.Key]++
		}
		c.mu.Unlock()
		return l.Load(ctx, task, schema, pr)
	})
}

func (c *loadCounter) count(tableKey string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[tableKey]
}

// runCoordinator runs the in-process coordinator to its end in the
// background.
func (p *inProcess) runCoordinator(adjust ...func(*coordinator.Config, *coordinator.Ports)) (wait func() (coordinator.Report, error)) {
	co := p.coordinator(nil, adjust...)
	type result struct {
		r   coordinator.Report
		err error
	}
	done := make(chan result, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute+outageLength(p.e.t, 0))
	go func() {
		r, err := co.Run(ctx)
		done <- result{r, err}
	}()
	p.e.t.Cleanup(cancel)
	return func() (coordinator.Report, error) {
		r := <-done
		return r.r, r.err
	}
}

func mustCommit(t *testing.T, r coordinator.Report, err error) {
	t.Helper()
	if err != nil || !r.OK() {
		var b strings.Builder
		_ = r.WriteText(&b)
		t.Fatalf("load did not commit every table: %v\n%s", err, b.String())
	}
}

// Progress is not a stall: a healthy file that takes many times the ack
// wait, the no-progress timeout and the coordinator's check interval is
// loaded once, by the worker that took it, and never handed to another.
func TestLongFileKeepsItsWorker(t *testing.T) {
	e := newLoadEnv(t)
	e.putCSVs("t/", 4, 100)
	p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }",
		"batch: { files: 1 }\nretry: { backoff: 100ms, max_backoff: 500ms, no_progress_timeout: 1s }"))
	var counts loadCounter
	const longFor = 10 * time.Second // > 3x ack_wait (3s), 10x no_progress_timeout, 30x the check interval
	slow := func(l worker.Loader) worker.Loader {
		return counts.wrap(loaderFunc(func(ctx context.Context, task messages.Task, schema worker.Schemas, pr *worker.Progress) []worker.Outcome {
			if task.Files[0].Source.Key == "t/f00.csv" {
				for end := time.Now().Add(longFor); time.Now().Before(end); {
					pr.AddBytes(1 << 10) // reading slowly, but reading
					select {
					case <-ctx.Done():
						return l.Load(ctx, task, schema, pr)
					case <-time.After(200 * time.Millisecond):
					}
				}
			}
			return l.Load(ctx, task, schema, pr)
		}))
	}
	p.startWorker("w1", slow)
	p.startWorker("w2", slow)
	started := time.Now()
	r, err := p.runCoordinator(fast)()
	mustCommit(t, r, err)
	t.Logf("load with a %s file took %s", longFor, time.Since(started).Round(time.Millisecond))
	verifyTable(t, e.out, "t", 400, 4)
	if n := counts.count("t/t/f00.csv"); n != 1 {
		t.Errorf("the long file was loaded %d times, want once: it was taken from its worker", n)
	}
}

// A stuck worker (alive, heartbeating nothing) loses its file to another
// worker: detected by progress, not by wall time alone.
func TestStuckFileMovesToAnotherWorker(t *testing.T) {
	e := newLoadEnv(t)
	e.put("t/a.csv", csvRows(0, 50, ",", true))
	p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }",
		"retry: { backoff: 100ms, max_backoff: 500ms, no_progress_timeout: 1s }"))
	var stuck atomic.Int64
	p.startWorker("stuck", func(l worker.Loader) worker.Loader {
		return loaderFunc(func(ctx context.Context, task messages.Task, schema worker.Schemas, pr *worker.Progress) []worker.Outcome {
			stuck.Add(1)
			<-ctx.Done() // no byte, no row: stuck until given up
			return l.Load(ctx, task, schema, pr)
		})
	})
	wait := p.runCoordinator(fast)
	waitFor(t, "the stuck worker to take the file", 30*time.Second, func() bool { return stuck.Load() > 0 })
	p.startWorker("healthy", nil)
	started := time.Now()
	r, err := wait()
	mustCommit(t, r, err)
	t.Logf("the stuck file was loaded elsewhere %s after the healthy worker started", time.Since(started).Round(time.Millisecond))
	verifyTable(t, e.out, "t", 50, 1)
}

// The S3 endpoint down for longer than the client's own retries: workers
// pause and probe, every file loads once, nothing fails.
func TestStoreOutageIsWaitedOut(t *testing.T) {
	e := newLoadEnv(t)
	proxy := e.viaProxy()
	const files = 30
	e.putCSVs("t/", files, 10)
	p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }",
		"batch: { files: 1 }\nretry: { backoff: 200ms, max_backoff: 2s }"))
	var loaded atomic.Int64
	var once sync.Once
	outage := outageLength(t, 25*time.Second)
	outageOver := make(chan struct{})
	wrap := func(l worker.Loader) worker.Loader {
		return loaderFunc(func(ctx context.Context, task messages.Task, schema worker.Schemas, pr *worker.Progress) []worker.Outcome {
			outs := l.Load(ctx, task, schema, pr)
			if outs[0].Kind == worker.Loaded && loaded.Add(1) == 5 {
				once.Do(func() {
					proxy.Down()
					go func() {
						time.Sleep(outage)
						proxy.Up()
						close(outageOver)
					}()
				})
			}
			return outs
		})
	}
	p.startWorker("w1", wrap)
	p.startWorker("w2", wrap)
	started := time.Now()
	r, err := p.runCoordinator(fast)()
	mustCommit(t, r, err)
	<-outageOver
	t.Logf("load through a %s outage of the S3 endpoint took %s", outage, time.Since(started).Round(time.Second))
	verifyTable(t, e.out, "t", files*10, files)
	if r.Tables[0].Failed != 0 {
		t.Errorf("%d files failed during the outage", r.Tables[0].Failed)
	}
}

// NATS down for a while mid-load: the coordinator and the workers wait it
// out, every file loads once.
func TestNATSOutageIsWaitedOut(t *testing.T) {
	e := newLoadEnv(t)
	const files = 20
	e.putCSVs("t/", files, 10)
	p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 1 }"))
	var loaded atomic.Int64
	var once sync.Once
	outage := outageLength(t, 8*time.Second)
	wrap := func(l worker.Loader) worker.Loader {
		return loaderFunc(func(ctx context.Context, task messages.Task, schema worker.Schemas, pr *worker.Progress) []worker.Outcome {
			if loaded.Add(1) == 5 {
				once.Do(func() {
					up := e.natsDown()
					go func() {
						time.Sleep(outage)
						up()
					}()
				})
			}
			return l.Load(ctx, task, schema, pr)
		})
	}
	p.startWorker("w1", wrap)
	p.startWorker("w2", wrap)
	started := time.Now()
	r, err := p.runCoordinator(fast)()
	mustCommit(t, r, err)
	t.Logf("load through a %s NATS outage took %s", outage, time.Since(started).Round(time.Second))
	verifyTable(t, e.out, "t", files*10, files)
}

// JetStream is transport: file records deleted from the KV bucket mid-load
// are restored, and their files load; nothing waits forever.
func TestDeletedRecordsAreRestored(t *testing.T) {
	e := newLoadEnv(t)
	const files = 12
	e.putCSVs("t/", files, 10)
	p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 1 }"))
	g := newGate()
	p.startWorker("w1", g.wrap)
	wait := p.runCoordinator(fast)
	waitFor(t, "the files to be published", 30*time.Second, func() bool { return g.held.Load() > 0 })
	load := p.currentLoad()
	kv, err := p.conn.js.KeyValue(context.Background(), natsq.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.ListKeysFiltered(context.Background(), "file."+load+".t.*")
	if err != nil {
		t.Fatal(err)
	}
	deleted := 0
	for k := range keys.Keys() {
		if deleted < 5 {
			if err := kv.Purge(context.Background(), k); err != nil {
				t.Fatal(err)
			}
			deleted++
		}
	}
	if deleted != 5 {
		t.Fatalf("deleted %d records, want 5", deleted)
	}
	g.open()
	r, err := wait()
	mustCommit(t, r, err)
	verifyTable(t, e.out, "t", files*10, files)
}

// The task stream deleted, or purged, mid-load: the coordinator notices
// within a few check intervals (not a stall timeout), recreates what is
// gone and publishes exactly the unfinished files again; the workers rebind
// their consumer.
func TestTaskStreamLost(t *testing.T) {
	for _, how := range []string{"deleted", "purged"} {
		t.Run(how, func(t *testing.T) {
			e := newLoadEnv(t)
			const files = 12
			e.putCSVs("t/", files, 10)
			p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 1 }"))
			g := newGate()
			p.startWorker("w1", g.wrap)
			wait := p.runCoordinator(fast)
			waitFor(t, "a task to be taken", 30*time.Second, func() bool { return g.held.Load() > 0 })
			ctx := context.Background()
			switch how {
			case "deleted":
				if err := p.conn.js.DeleteStream(ctx, natsq.TaskStream); err != nil {
					t.Fatal(err)
				}
			case "purged":
				s, err := p.conn.js.Stream(ctx, natsq.TaskStream)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Purge(ctx); err != nil {
					t.Fatal(err)
				}
			}
			lost := time.Now()
			g.open()
			r, err := wait()
			mustCommit(t, r, err)
			t.Logf("stream %s: the load ended %s later", how, time.Since(lost).Round(time.Millisecond))
			verifyTable(t, e.out, "t", files*10, files)
			if _, err := p.conn.js.Stream(ctx, natsq.TaskStream); err != nil {
				t.Errorf("the task stream was not recreated: %v", err)
			}
		})
	}
}

// The same object under two tables' prefixes loads in both: task and
// dedup IDs include the table.
func TestSameObjectInTwoTables(t *testing.T) {
	e := newLoadEnv(t)
	big := csvRows(0, 40_000, ",", true) // over batch.max_file_bytes: a task of its own
	if len(big) <= 1<<20 {
		t.Fatalf("test file is %d bytes, want over 1 MiB", len(big))
	}
	e.put("shared/big.csv", big)
	e.put("shared/small.csv", csvRows(40_000, 10, ",", true))
	cfg := e.writeConfig("  - { name: a, prefix: shared/ }\n  - { name: b, prefix: shared/ }", "")
	started := time.Now()
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	t.Logf("two tables of the same objects loaded in %s", time.Since(started).Round(time.Millisecond))
	verifyTable(t, e.out, "a", 40_010, 2)
	verifyTable(t, e.out, "b", 40_010, 2)
}

// A prefix typo or a glob matching nothing fails the table and keeps its
// previous commit, saying what matched nothing (and what was meant);
// allow_empty commits the empty table.
func TestEmptyListingKeepsTheTable(t *testing.T) {
	e := newLoadEnv(t)
	e.putCSVs("orders/", 3, 10)
	good := e.writeConfig("  - { name: orders, prefix: orders/ }\n  - { name: other, prefix: orders/ }", "")
	if code, stdout, stderr := runCLI(t, "run", "--config", good); code != ExitOK {
		t.Fatalf("first load: exit %d\n%s\n%s", code, stdout, stderr)
	}
	verifyTable(t, e.out, "orders", 30, 3)
	tests := []struct {
		name, table string
		want        []string
	}{
		{"prefix typo", "{ name: orders, prefix: order/ }", []string{`prefix "order/" matched no object`, `did you mean "orders/"?`, "previous commit stays", "allow_empty"}},
		{"glob matching nothing", `{ name: orders, prefix: orders/, glob: "*.parquet" }`, []string{`glob "*.parquet" matched no file`, "previous commit stays"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The other table of the load still commits.
			cfg := e.writeConfig("  - "+tt.table+"\n  - { name: other, prefix: orders/ }", "")
			code, stdout, stderr := runCLI(t, "run", "--config", cfg)
			if code != ExitNotComplete {
				t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitNotComplete, stdout, stderr)
			}
			mustContain(t, "report", stdout, append([]string{"NOT every table committed"}, tt.want...)...)
			verifyTable(t, e.out, "orders", 30, 3)
			verifyTable(t, e.out, "other", 30, 3)
		})
	}
	t.Run("allow_empty", func(t *testing.T) {
		cfg := e.writeConfig("  - { name: orders, prefix: order/, allow_empty: true }", "")
		if code, stdout, stderr := runCLI(t, "run", "--config", cfg); code != ExitOK {
			t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		verifyTable(t, e.out, "orders", 0, 0)
	})
}

// A load that did not commit is finished by the next run, not restarted:
// the files that loaded are kept (not read again), the ones that failed
// are tried again, and the table commits whole. --full-reload starts over.
func TestFailedLoadIsFinished(t *testing.T) {
	e := newLoadEnv(t)
	proxy := e.viaProxy()
	const files = 10
	e.putCSVs("t/", files, 10)
	denied := []string{"t/f02.csv", "t/f05.csv", "t/f07.csv"}
	for _, k := range denied {
		proxy.Fail(1000, 403, "AccessDenied", testenv.IsGet(k))
	}
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "")
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	if code != ExitNotComplete {
		t.Fatalf("first run: exit %d, want %d\n%s\n%s", code, ExitNotComplete, stdout, stderr)
	}
	mustContain(t, "first report", stdout, "NOT every table committed", "AccessDenied", "t/f05.csv")

	proxy.Clear()
	mark := len(e.s3.AccessLog(t))
	code, stdout, stderr = runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("second run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	verifyTable(t, e.out, "t", files*10, files)
	got := map[string]int{}
	for _, a := range e.s3.AccessLog(t)[mark:] {
		if a.Operation == "GetObject" {
			got[a.Key]++
		}
	}
	for i := range files {
		key := fmt.Sprintf("t/f%02d.csv", i)
		if wantRead := slices.Contains(denied, key); (got[key] > 0) != wantRead {
			t.Errorf("second run read %s %d times; want it read only if it had failed", key, got[key])
		}
	}
	mustContain(t, "second report", stdout, "every table committed")
	if !strings.Contains(stdout, " 7 ") {
		t.Errorf("the report does not count the 7 files kept:\n%s", stdout)
	}

	// After another load that did not commit, --full-reload starts over
	// and reads every file again. (The file is rewritten so that the load
	// reads it: an unchanged one keeps its committed part.)
	e.put(denied[0], csvRows(500, 10, ",", true))
	proxy.Fail(1000, 403, "AccessDenied", testenv.IsGet(denied[0]))
	if code, stdout, stderr = runCLI(t, "run", "--config", cfg); code != ExitNotComplete {
		t.Fatalf("third run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	proxy.Clear()
	mark = len(e.s3.AccessLog(t))
	if code, stdout, stderr = runCLI(t, "run", "--config", cfg, "--full-reload"); code != ExitOK {
		t.Fatalf("full reload: exit %d\n%s\n%s", code, stdout, stderr)
	}
	reads := 0
	for _, a := range e.s3.AccessLog(t)[mark:] {
		if a.Operation == "GetObject" {
			reads++
		}
	}
	if reads < files {
		t.Errorf("a full reload read %d objects, want all %d", reads, files)
	}
	verifyTable(t, e.out, "t", files*10, files)
}

// noRelease keeps a lease behind as a killed coordinator does: it is never
// released, only left to lapse.
type noRelease struct{ coordinator.LeaseStore }

func (noRelease) DeleteLease(context.Context, string, uint64) error { return nil }

// countingLeases counts reads of the lease.
type countingLeases struct {
	coordinator.LeaseStore
	n atomic.Int64
}

func (c *countingLeases) Lease(ctx context.Context, job string) (messages.LeaseRecord, uint64, error) {
	c.n.Add(1)
	return c.LeaseStore.Lease(ctx, job)
}

func holder(name string) func(*coordinator.Config, *coordinator.Ports) {
	return func(cfg *coordinator.Config, _ *coordinator.Ports) { cfg.Holder = name }
}

// One coordinator per job: a second one of the same config waits as a
// standby. If the first ends the load, the second reports it; if the first
// dies, the second takes the load over once its lease lapses.
func TestOneCoordinatorPerJob(t *testing.T) {
	t.Run("both started: one loads, the other reports", func(t *testing.T) {
		e := newLoadEnv(t)
		e.putCSVs("t/", 10, 10)
		p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", ""))
		g := newGate()
		p.startWorker("w1", g.wrap)
		first := p.runCoordinator(fast, holder("c1"))
		waitFor(t, "the first coordinator to publish", 30*time.Second, func() bool { return g.held.Load() > 0 })
		reads := &countingLeases{}
		second := p.runCoordinator(fast, holder("c2"), func(_ *coordinator.Config, ports *coordinator.Ports) {
			reads.LeaseStore = ports.Leases
			ports.Leases = reads
		})
		waitFor(t, "the second coordinator to find the lease taken", 30*time.Second, func() bool { return reads.n.Load() > 0 })
		g.open()
		r1, err1 := first()
		r2, err2 := second()
		mustCommit(t, r1, err1)
		mustCommit(t, r2, err2)
		if r1.LoadID != r2.LoadID || r1.Elsewhere == r2.Elsewhere {
			t.Fatalf("loads %s (elsewhere %v) and %s (elsewhere %v): want one load, carried by one of them",
				r1.LoadID, r1.Elsewhere, r2.LoadID, r2.Elsewhere)
		}
		verifyTable(t, e.out, "t", 100, 10)
	})
	t.Run("the leader dies: the standby takes over", func(t *testing.T) {
		e := newLoadEnv(t)
		e.putCSVs("t/", 10, 10)
		p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 1 }"))
		g := newGate()
		p.startWorker("w1", g.wrap)
		crashCtx, crash := context.WithCancel(context.Background())
		leader := p.coordinator(nil, fast, holder("leader"), func(_ *coordinator.Config, ports *coordinator.Ports) {
			ports.Leases = noRelease{ports.Leases}
		})
		leaderDone := make(chan error, 1)
		go func() { _, err := leader.Run(crashCtx); leaderDone <- err }()
		waitFor(t, "the leader to publish", 30*time.Second, func() bool { return g.held.Load() > 0 })
		standby := p.runCoordinator(fast, holder("standby"))
		crash()
		<-leaderDone
		died := time.Now()
		g.open()
		r, err := standby()
		mustCommit(t, r, err)
		t.Logf("the standby finished the load %s after the leader died", time.Since(died).Round(time.Millisecond))
		if r.Elsewhere {
			t.Fatal("the standby reports the load as another's: it should have carried it")
		}
		verifyTable(t, e.out, "t", 100, 10)
	})
}

// A worker started with a slightly different config than the
// coordinator's says so within seconds and names the difference, and so
// does the coordinator; a worker of the right config then loads.
func TestWorkerOfAnotherConfigSaysSo(t *testing.T) {
	e := newLoadEnv(t)
	e.putCSVs("t/", 3, 10)
	coordLog, workerLog := &logBuffer{t: t}, &logBuffer{t: t}
	right := e.inProcessLogging(e.writeConfig("  - { name: t, prefix: t/ }", ""), coordLog.logger())
	wrong := e.inProcessLogging(e.writeConfig("  - { name: t, prefix: t/, glob: \"*.csv\" }", ""), workerLog.logger())
	wrong.startWorker("w-wrong", nil)
	wait := right.runCoordinator(fast)
	started := time.Now()
	waitFor(t, "the worker to name the difference", time.Minute, func() bool {
		return strings.Contains(workerLog.String(), "no coordinator runs this worker's job") &&
			strings.Contains(workerLog.String(), `tables[0].glob: (absent) (coordinator) vs \"*.csv\" (this worker)`)
	})
	t.Logf("the worker named the difference after %s", time.Since(started).Round(time.Millisecond))
	waitFor(t, "the coordinator to name the difference", time.Minute, func() bool {
		return strings.Contains(coordLog.String(), "no worker runs this job") && strings.Contains(coordLog.String(), "tables[0].glob")
	})
	right.startWorker("w-right", nil)
	r, err := wait()
	mustCommit(t, r, err)
	verifyTable(t, e.out, "t", 30, 3)
}

// A table whose schema cannot be stored (a CSV header line over 1 MiB, more
// than NATS's max payload) fails alone, at once, saying why and what to
// change; the other tables of the load commit.
func TestRecordTooLargeFailsItsTableOnly(t *testing.T) {
	e := newLoadEnv(t)
	var header, row strings.Builder
	for i := range 120_000 {
		if i > 0 {
			header.WriteByte(',')
			row.WriteByte(',')
		}
		fmt.Fprintf(&header, "c%07d", i)
		row.WriteByte('1')
	}
	if header.Len() <= 1<<20 {
		t.Fatalf("header is %d bytes, want over 1 MiB", header.Len())
	}
	e.put("wide/a.csv", []byte(header.String()+"\n"+row.String()+"\n"))
	e.put("fine/a.csv", csvRows(0, 10, ",", true))
	cfg := e.writeConfig("  - { name: wide, prefix: wide/ }\n  - { name: fine, prefix: fine/ }", "")
	started := time.Now()
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	t.Logf("ended after %s", time.Since(started).Round(time.Millisecond))
	if code != ExitNotComplete {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitNotComplete, stdout, stderr)
	}
	mustContain(t, "report", stdout, "wide:", "max_payload")
	verifyTable(t, e.out, "fine", 10, 1)
}

// Records of files that had loaded, deleted from the KV bucket: their
// files are published again and their parts adopted, not read again.
func TestLoadedFilesWhoseRecordsWereLostAreAdopted(t *testing.T) {
	e := newLoadEnv(t)
	const files = 12
	e.putCSVs("t/", files, 10)
	p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 1 }"))
	g := newGate()
	p.startWorker("w1", func(l worker.Loader) worker.Loader {
		held := g.wrap(l)
		return loaderFunc(func(ctx context.Context, task messages.Task, schema worker.Schemas, pr *worker.Progress) []worker.Outcome {
			if task.Files[0].Source.Key >= "t/f06.csv" {
				return held.Load(ctx, task, schema, pr)
			}
			return l.Load(ctx, task, schema, pr)
		})
	})
	wait := p.runCoordinator(fast)
	load := ""
	waitFor(t, "six files to load", 30*time.Second, func() bool {
		if load == "" {
			load = p.currentLoad()
		}
		return load != "" && p.fileStates(load, "t")[messages.StateLoaded] >= 6
	})
	kv, err := p.conn.js.KeyValue(context.Background(), natsq.StateBucket)
	if err != nil {
		t.Fatal(err)
	}
	lost := []string{"t/f00.csv", "t/f01.csv", "t/f02.csv"}
	for _, k := range lost {
		src := messages.Source{Bucket: e.bucket, Key: k}
		if err := kv.Purge(context.Background(), "file."+load+".t."+src.Token()); err != nil {
			t.Fatal(err)
		}
	}
	mark := len(e.s3.AccessLog(t))
	g.open()
	r, err := wait()
	mustCommit(t, r, err)
	verifyTable(t, e.out, "t", files*10, files)
	for _, a := range e.s3.AccessLog(t)[mark:] {
		if a.Operation == "GetObject" && slices.Contains(lost, a.Key) {
			t.Errorf("%s was read again; its part should have been adopted", a.Key)
		}
	}
}

// The commit's PUT to an s3:// target failing, more often than the S3
// client's own retries, is retried, and the table commits: a passing error
// of the target does not end the load.
func TestS3CommitIsRetried(t *testing.T) {
	e := newLoadEnv(t)
	proxy := e.viaProxy()
	e.s3.CreateBucket(t, "out")
	e.putCSVs("t/", 4, 10)
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "")
	raw, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(strings.Replace(string(raw), "target: file://"+e.out, "target: s3://out/tables", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	const failures = 7 // the S3 client tries 5 times
	proxy.Fail(failures, 500, "InternalError", testenv.IsPut("/tables/t/_manifest.json"))
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	if n := proxy.Injected.Load(); n != failures {
		t.Fatalf("%d manifest PUTs failed, want %d: the fault was not exercised", n, failures)
	}
	m, err := messages.Unmarshal[messages.Manifest](getObject(t, e.s3, "out", "tables/t/_manifest.json"))
	if err != nil || m.Rows != 40 || len(m.Files) != 4 {
		t.Fatalf("manifest %+v (%v): want 4 files, 40 rows", m, err)
	}
}

// Two loads (of two configs) writing one table of one target: the second
// is told at once that the table is being loaded, and by whom; the first
// is not disturbed and commits; the second, run again later, commits.
func TestTwoLoadsOfOneTable(t *testing.T) {
	e := newLoadEnv(t)
	e.putCSVs("t/", 6, 10)
	first := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", ""))
	g := newGate()
	first.startWorker("w1", g.wrap)
	wait := first.runCoordinator(fast)
	waitFor(t, "the first load to hold the table", 30*time.Second, func() bool { return g.held.Load() > 0 })

	other := e.writeConfig(`  - { name: t, prefix: t/, glob: "f0[0-2].csv" }`, "")
	started := time.Now()
	code, stdout, stderr := runCLI(t, "run", "--config", other)
	t.Logf("the second load ended after %s", time.Since(started).Round(time.Millisecond))
	if code != ExitNotComplete {
		t.Fatalf("second load: exit %d, want %d\n%s\n%s", code, ExitNotComplete, stdout, stderr)
	}
	mustContain(t, "second load's report", stdout, "being loaded by another load", first.job)

	g.open()
	r, err := wait()
	mustCommit(t, r, err)
	verifyTable(t, e.out, "t", 60, 6)

	if code, stdout, stderr := runCLI(t, "run", "--config", other); code != ExitOK {
		t.Fatalf("second load, run again: exit %d\n%s\n%s", code, stdout, stderr)
	}
	verifyTable(t, e.out, "t", 30, 3)
}

// Another user can read the output: parts, manifests and directories are
// 0644 and 0755 but for the umask.
func TestOutputIsReadableByOthers(t *testing.T) {
	e := newLoadEnv(t)
	e.put("t/a.csv", csvRows(0, 10, ",", true))
	cfg := e.writeConfig("  - { name: t, prefix: t/ }", "")
	if code, stdout, stderr := runCLI(t, "run", "--config", cfg); code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	umask := syscall.Umask(0)
	syscall.Umask(umask)
	dir := filepath.Join(e.out, "t") + "/"
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		want := os.FileMode(0o644 &^ umask)
		if fi.IsDir() {
			want = os.FileMode(0o755 &^ umask)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s is %v, want %v", path, fi.Mode().Perm(), want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A permanent problem of one table (its prefix's listing denied) ends that
// table at once, naming the cause; the load's other tables commit.
func TestPermanentProblemEndsOneTable(t *testing.T) {
	e := newLoadEnv(t)
	proxy := e.viaProxy()
	e.put("open/a.csv", csvRows(0, 10, ",", true))
	e.put("secret/a.csv", csvRows(0, 10, ",", true))
	proxy.Fail(1000, 403, "AccessDenied", func(r *http.Request) bool {
		return r.Method == http.MethodGet && r.URL.Query().Get("prefix") == "secret/"
	})
	cfg := e.writeConfig("  - { name: open, prefix: open/ }\n  - { name: secret, prefix: secret/ }", "")
	started := time.Now()
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	t.Logf("ended after %s", time.Since(started).Round(time.Millisecond))
	if code != ExitNotComplete {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, ExitNotComplete, stdout, stderr)
	}
	mustContain(t, "report", stdout, "secret:", "AccessDenied")
	verifyTable(t, e.out, "open", 10, 1)
}

// gzBomb is a gzip stream of n bytes of head followed by zeros: tiny on the
// wire, huge once expanded.
func gzBomb(t *testing.T, head []byte, n int) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(head); err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for written := len(head); written < n; written += len(zeros) {
		if _, err := zw.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Hostile input is bounded: a compressed CSV and a compressed Parquet file
// that expand to hundreds of MB fail alone, quickly, naming the limit to
// raise, without filling the worker's temporary disk; the table's other
// files load.
func TestDecompressionBombsFailAlone(t *testing.T) {
	e := newLoadEnv(t)
	e.putCSVs("t/", 3, 10)
	csvBomb := gzBomb(t, []byte("id,name,amount,at,ok\n"), 300<<20)
	pqBomb := gzBomb(t, []byte("PAR1"), 300<<20)
	t.Logf("bombs: %d and %d bytes, 300 MiB each expanded", len(csvBomb), len(pqBomb))
	e.put("t/bomb.csv.gz", csvBomb)
	e.put("p/bomb.parquet.gz", pqBomb)
	e.put("p/good.parquet", parquetRows(t, 0, 20))
	temp := t.TempDir()
	cfg := e.writeConfig("  - { name: t, prefix: t/ }\n  - { name: p, prefix: p/ }",
		fmt.Sprintf("limits: { max_decompressed_bytes: 32MiB, max_temp_bytes: 64MiB, temp_dir: %s }\nmax_failed_files: 1", temp))
	started := time.Now()
	code, stdout, stderr := runCLI(t, "run", "--config", cfg)
	t.Logf("ended after %s", time.Since(started).Round(time.Millisecond))
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	mustContain(t, "report", stdout, "bomb.csv.gz", "bomb.parquet.gz", "limits.max_decompressed_bytes")
	verifyTable(t, e.out, "t", 30, 3)
	verifyTable(t, e.out, "p", 20, 1)
	if left, err := os.ReadDir(temp); err != nil || len(left) != 0 {
		t.Errorf("temporary files left behind: %v %v", left, err)
	}
}

// The whole state bucket deleted mid-load (the load's, tables' and files'
// records, and the coordinator's lease): it is created again, the records
// restored from what the coordinator knows and a listing, loaded files
// adopted, and the load ends exact.
func TestStateBucketDeleted(t *testing.T) {
	e := newLoadEnv(t)
	const files = 12
	e.putCSVs("t/", files, 10)
	p := e.inProcess(e.writeConfig("  - { name: t, prefix: t/ }", "batch: { files: 1 }"))
	g := newGate()
	p.startWorker("w1", g.wrap)
	wait := p.runCoordinator(fast)
	waitFor(t, "a task to be taken", 30*time.Second, func() bool { return g.held.Load() > 0 })
	if err := p.conn.js.DeleteKeyValue(context.Background(), natsq.StateBucket); err != nil {
		t.Fatal(err)
	}
	lost := time.Now()
	g.open()
	r, err := wait()
	mustCommit(t, r, err)
	t.Logf("the load ended %s after its state bucket was deleted", time.Since(lost).Round(time.Millisecond))
	verifyTable(t, e.out, "t", files*10, files)
}
