package worker

import (
	"context"
	"errors"
	"strings"
	"sync"

	"sync/atomic"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

func oneFileTask() messages.Task {
	return messages.Task{ID: "t1", LoadID: "l", Table: "t", Files: []messages.TaskFile{{Source: src}}}
}

func (d *fakeDelivery) count(s string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, x := range d.settled {
		if x == s {
			n++
		}
	}
	return n
}

// A file that keeps failing for a passing reason is retried until the retry
// budget has passed since its failures began, then fails saying so.
func TestRetryBudgetEndsAFailingFile(t *testing.T) {
	rec := listed()
	rec.FailingSince = time.Now().Add(-31 * time.Minute)
	files := newMemFiles(rec)
	w := newTestWorker(t, files, loaderFunc(func(context.Context, messages.Task) Outcome {
		return Outcome{Kind: Transient, Err: errors.New("connection refused")}
	}))
	d := &fakeDelivery{task: oneFileTask(), delivered: 7}
	w.Handle(context.Background(), d)
	got, _, _ := files.File(context.Background(), "l", "t", src.Token())
	if got.State != messages.StateFailed || d.last() != "term" {
		t.Fatalf("state %s settled %v; want failed, term", got.State, d.settled)
	}
	mustContain(t, got.Error, "still failing after 31m", "retry.max_duration", "connection refused")
}

// Progress is not a stall: a file that takes many times the no-progress
// timeout keeps its heartbeats while it reads. The loader reads until it
// has seen 20 heartbeats (far more than fit in the timeout), or gives up at
// a deadline a loaded machine never reaches.
func TestLongFileKeepsItsTask(t *testing.T) {
	const beats = 20
	files := newMemFiles(listed())
	d := &fakeDelivery{task: oneFileTask(), delivered: 1}
	w := newTestWorker(t, files, progressLoader(func(ctx context.Context, _ messages.Task, p *Progress) Outcome {
		deadline := time.Now().Add(10 * time.Second)
		for d.count("progress") < beats {
			if time.Now().After(deadline) || ctx.Err() != nil {
				return Outcome{Kind: Transient, Err: errors.New("heartbeats stopped while the file was read")}
			}
			p.AddBytes(1 << 10)
			time.Sleep(5 * time.Millisecond)
		}
		return Outcome{Kind: Loaded, Part: "p", Rows: 1, Bytes: 1}
	}), func(c *Config) { c.Heartbeat, c.NoProgressTimeout = 2*time.Millisecond, 20*time.Millisecond })
	w.Handle(context.Background(), d)
	if d.last() != "ack" {
		t.Fatalf("settled %v, want ack after %d heartbeats", d.settled, beats)
	}
}

// A stuck file (no bytes, no rows) loses its heartbeats and its load, and
// is handed back for another worker.
func TestStuckFileIsGivenUp(t *testing.T) {
	files := newMemFiles(listed())
	w := newTestWorker(t, files, loaderFunc(func(ctx context.Context, _ messages.Task) Outcome {
		<-ctx.Done()
		return Outcome{Kind: Transient, Err: ctx.Err()}
	}), func(c *Config) { c.Heartbeat, c.NoProgressTimeout = 2*time.Millisecond, 30*time.Millisecond })
	d := &fakeDelivery{task: oneFileTask(), delivered: 1}
	done := make(chan struct{})
	go func() { w.Handle(context.Background(), d); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a stuck load was never given up")
	}
	got, _, _ := files.File(context.Background(), "l", "t", src.Token())
	if d.last() != "retry" || got.State != messages.StateListed {
		t.Fatalf("settled %v state %s; want retry, listed", d.settled, got.State)
	}
	mustContain(t, got.Error, "no progress for 30ms")
	if n := d.count("progress"); n > 20 {
		t.Fatalf("%d heartbeats sent for a stuck file", n)
	}
}

// An outcome whose write timed out but landed is not taken for a fence.
func TestRecordSurvivesALostReply(t *testing.T) {
	files := &lossyFiles{memFiles: newMemFiles(listed())}
	w := newTestWorker(t, files, loaderFunc(func(context.Context, messages.Task) Outcome {
		files.loseNext.Store(true)
		return Outcome{Kind: Loaded, Part: "p", Rows: 3, Bytes: 9}
	}))
	d := &fakeDelivery{task: oneFileTask(), delivered: 1}
	w.Handle(context.Background(), d)
	got, _, _ := files.File(context.Background(), "l", "t", src.Token())
	if got.State != messages.StateLoaded || d.last() != "ack" {
		t.Fatalf("state %s settled %v; want loaded, ack", got.State, d.settled)
	}
}

// lossyFiles lands the next write but loses its reply, as a write does that
// times out during a NATS leader election.
type lossyFiles struct {
	*memFiles
	loseNext atomic.Bool
}

func (l *lossyFiles) PutFile(ctx context.Context, rec messages.FileRecord, rev uint64) (uint64, error) {
	r, err := l.memFiles.PutFile(ctx, rec, rev)
	if err == nil && l.loseNext.CompareAndSwap(true, false) {
		return 0, context.DeadlineExceeded
	}
	return r, err
}

// A stopping worker hands its task back at once, with the attempt it had
// counted given back, so a resumed load does not wait out the ack wait.
func TestAbandonHandsTheTaskBackAtOnce(t *testing.T) {
	files := newMemFiles(listed())
	started := make(chan struct{})
	w := newTestWorker(t, files, loaderFunc(func(ctx context.Context, _ messages.Task) Outcome {
		close(started)
		<-ctx.Done()
		return Outcome{Kind: Transient, Err: ctx.Err()}
	}))
	d := &retryDelays{fakeDelivery: fakeDelivery{task: oneFileTask(), delivered: 1}}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; cancel() }()
	w.Handle(ctx, d)
	got, _, _ := files.File(context.Background(), "l", "t", src.Token())
	if len(d.delays) != 1 || d.delays[0] != 0 {
		t.Fatalf("task handed back with delays %v, want one retry with no delay", d.delays)
	}
	if got.State != messages.StateListed || got.Attempts != 0 {
		t.Fatalf("record after the stop: %+v; want listed with its attempt given back", got)
	}
}

type retryDelays struct {
	fakeDelivery
	delays []time.Duration
}

func (d *retryDelays) Retry(_ context.Context, delay time.Duration) error {
	d.delays = append(d.delays, delay)
	return nil
}

// A store that keeps failing pauses the worker after a few failures: it
// takes no task until its probe gets an answer.
func TestBreakerPausesUntilTheStoreAnswers(t *testing.T) {
	files := newMemFiles()
	q := &endlessQueue{files: files}
	var storeUp atomic.Bool
	probe := probeFunc(func(context.Context) error {
		if storeUp.Load() {
			return nil
		}
		return errors.New("connection refused")
	})
	w := newTestWorker(t, files, loaderFunc(func(context.Context, messages.Task) Outcome {
		if storeUp.Load() {
			return Outcome{Kind: Loaded, Part: "p", Rows: 1, Bytes: 1}
		}
		return Outcome{Kind: Transient, Err: errors.New("connection refused")}
	}), func(c *Config) { c.Probe = probe })
	w.queue = q
	w.breaker.first, w.breaker.most = 20*time.Millisecond, 50*time.Millisecond
	fetchCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(fetchCtx, context.Background()) }()

	waitUntil(t, "the breaker to open", func() bool { _, p := w.breaker.pausedSince(); return p })
	n := q.handed.Load()
	time.Sleep(10 * w.breaker.first) // paused: nothing more may be taken meanwhile
	if got := q.handed.Load(); got != n {
		t.Fatalf("a paused worker took %d more tasks", got-n)
	}
	if ok, detail := w.Health(); !ok || !strings.Contains(detail, "paused") {
		t.Fatalf("Health() = %v, %q; want healthy and saying it is paused", ok, detail)
	}
	storeUp.Store(true)
	waitUntil(t, "tasks to flow again", func() bool { return q.handed.Load() > n+3 })
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n > breakerTrips+1 {
		t.Fatalf("%d tasks were taken before pausing, want about %d", n, breakerTrips)
	}
}

type probeFunc func(context.Context) error

func (f probeFunc) Probe(ctx context.Context) error { return f(ctx) }

// endlessQueue hands out a new one-file task on every call.
type endlessQueue struct {
	files  *memFiles
	handed atomic.Int64
}

func (q *endlessQueue) Next(ctx context.Context) (Delivery, error) {
	n := q.handed.Add(1)
	rec := fileNamed("t/" + strings.Repeat("x", int(n%50)) + time.Now().Format("150405.000000000"))
	q.files.mu.Lock()
	q.files.recs[rec.Source.Token()] = rec
	q.files.revs[rec.Source.Token()] = 1
	q.files.mu.Unlock()
	return &fakeDelivery{task: batchTask(rec), delivered: 1}, nil
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDisagreement(t *testing.T) {
	now := time.Now()
	mine := messages.JobSpec{"source.bucket": "raw", "tables[0].prefix": "order/"}
	theirs := messages.JobSpec{"source.bucket": "raw", "tables[0].prefix": "orders/"}
	lease := func(spec messages.JobSpec, age time.Duration) messages.LeaseRecord {
		return messages.LeaseRecord{Job: spec.ID(), Holder: "coord-1", Host: "h1", Renewed: now.Add(-age), Spec: spec}
	}
	tests := []struct {
		name   string
		leases []messages.LeaseRecord
		want   []string
	}{
		{"no coordinator yet", nil, nil},
		{"ours runs", []messages.LeaseRecord{lease(theirs, 0), lease(mine, time.Second)}, nil},
		{"only another job runs", []messages.LeaseRecord{lease(theirs, time.Second)},
			[]string{"no coordinator runs this worker's job " + mine.ID(), `tables[0].prefix: "orders/" (coordinator) vs "order/" (this worker)`, "coord-1"}},
		{"a stale lease is no coordinator", []messages.LeaseRecord{lease(theirs, time.Hour)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := disagreement(mine.ID(), mine, tt.leases, now)
			if len(tt.want) == 0 {
				if got != "" {
					t.Fatalf("disagreement = %q, want none", got)
				}
				return
			}
			mustContain(t, got, tt.want...)
		})
	}
}

func TestHealthReportsFailingPulls(t *testing.T) {
	w := newTestWorker(t, newMemFiles(), nil)
	if ok, _ := w.Health(); !ok {
		t.Fatal("a new worker is unhealthy")
	}
	w.pulled(errors.New("nats: no responders available for request"))
	w.mu.Lock()
	w.pull.failingSince = time.Now().Add(-time.Minute)
	w.mu.Unlock()
	ok, detail := w.Health()
	if ok || !strings.Contains(detail, "cannot pull tasks") || !strings.Contains(detail, "no responders") {
		t.Fatalf("Health() = %v, %q; want unhealthy naming the pull error", ok, detail)
	}
	w.pulled(nil)
	if ok, _ := w.Health(); !ok {
		t.Fatal("still unhealthy after a pull succeeded")
	}
}

func mustContain(t *testing.T, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%q lacks %q", s, sub)
		}
	}
}

// fakeRegistry holds announcements in memory.
type fakeRegistry struct {
	mu      sync.Mutex
	workers map[string]messages.WorkerRecord
}

func (r *fakeRegistry) PutWorker(_ context.Context, rec messages.WorkerRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.workers[rec.ID] = rec
	return nil
}
func (r *fakeRegistry) DeleteWorker(_ context.Context, _, id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.workers, id)
	return nil
}
func (r *fakeRegistry) Worker(_ context.Context, _, id string) (messages.WorkerRecord, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rec, ok := r.workers[id]
	if !ok {
		return rec, messages.ErrNotFound
	}
	return rec, nil
}
func (r *fakeRegistry) Leases(context.Context) ([]messages.LeaseRecord, error) { return nil, nil }

// A duplicate delivery of a file a live worker is loading leaves it there:
// it neither claims the file (which would fence that worker's work) nor
// spends an attempt; a holder that stopped announcing loses the file.
func TestDuplicateDeliveryLeavesALiveHolderAlone(t *testing.T) {
	for _, tt := range []struct {
		name     string
		age      time.Duration
		wantLoad bool
	}{
		{"holder alive", 0, false},
		{"holder gone quiet", time.Minute, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := listed()
			rec.Worker, rec.Attempts = "w2", 1
			files := newMemFiles(rec)
			reg := &fakeRegistry{workers: map[string]messages.WorkerRecord{"w2": {ID: "w2", Updated: time.Now().Add(-tt.age),
				Holding: []messages.Holding{{LoadID: "l", Table: "t", Token: src.Token(), Key: src.Key}}}}}
			loaded := false
			w := newTestWorker(t, files, loaderFunc(func(context.Context, messages.Task) Outcome {
				loaded = true
				return Outcome{Kind: Loaded, Part: "p", Rows: 1, Bytes: 1}
			}), func(c *Config) { c.Registry, c.Heartbeat = reg, time.Second })
			d := &retryDelays{fakeDelivery: fakeDelivery{task: oneFileTask(), delivered: 2}}
			w.Handle(context.Background(), d)
			got, _, _ := files.File(context.Background(), "l", "t", src.Token())
			if loaded != tt.wantLoad {
				t.Fatalf("loaded = %v, want %v", loaded, tt.wantLoad)
			}
			if !tt.wantLoad {
				if got.Worker != "w2" || got.Attempts != 1 || len(d.delays) != 1 || d.delays[0] < 4*time.Second {
					t.Fatalf("record %+v, retries %v: want w2's claim untouched and the task asked for again after an ack wait", got, d.delays)
				}
			} else if got.State != messages.StateLoaded || got.Attempts != 2 {
				t.Fatalf("record %+v: want loaded, the dead holder's attempt counted", got)
			}
		})
	}
}
