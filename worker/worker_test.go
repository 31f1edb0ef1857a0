package worker

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/s3load/s3load/messages"
)

func TestDecide(t *testing.T) {
	p := Policy{MaxDuration: 30 * time.Minute, MaxAttempts: 3, Backoff: time.Second, MaxBackoff: 4 * time.Second}
	tests := []struct {
		name       string
		kind       Kind
		failingFor time.Duration
		want       Action
		state      messages.FileState
		counts     bool
		failing    bool
	}{
		{"loaded", Loaded, 0, Ack, messages.StateLoaded, true, false},
		{"loaded after failures clears the run", Loaded, time.Minute, Ack, messages.StateLoaded, true, false},
		{"changed ends at once", Changed, 0, Terminate, messages.StateChanged, true, false},
		{"bad file ends at once", Permanent, 0, Terminate, messages.StateFailed, true, false},
		{"transient retries without spending an attempt", Transient, 0, Retry, messages.StateListed, false, true},
		{"transient still retries after 29 minutes", Transient, 29 * time.Minute, Retry, messages.StateListed, false, true},
		{"transient fails once the budget is spent", Transient, 30 * time.Minute, Terminate, messages.StateFailed, false, false},
		{"throttling retries", Throttled, 5 * time.Minute, Retry, messages.StateListed, false, true},
		{"throttling fails once the budget is spent", Throttled, time.Hour, Terminate, messages.StateFailed, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Decide(Outcome{Kind: tt.kind}, History{Attempts: 1, FailingFor: tt.failingFor}, p)
			if d.Action != tt.want || d.State != tt.state || d.CountsAttempt != tt.counts || d.Failing != tt.failing {
				t.Fatalf("Decide = %+v, want action %v state %s counts %v failing %v", d, tt.want, tt.state, tt.counts, tt.failing)
			}
			if d.Action == Retry && (d.Delay <= 0 || d.Delay > p.MaxBackoff) {
				t.Fatalf("retry delay %v outside (0, %v]", d.Delay, p.MaxBackoff)
			}
			if d.OutOfTime != (d.Action == Terminate && (tt.kind == Transient || tt.kind == Throttled)) {
				t.Fatalf("OutOfTime = %v", d.OutOfTime)
			}
		})
	}
	// The delay grows with the time a file has been failing, up to the cap.
	if d := Decide(Outcome{Kind: Transient}, History{FailingFor: 0}, p); d.Delay > p.Backoff {
		t.Errorf("first retry after %v, want at most the backoff %v", d.Delay, p.Backoff)
	}
	if d := Decide(Outcome{Kind: Transient}, History{FailingFor: 10 * time.Minute}, p); d.Delay < p.MaxBackoff/2 {
		t.Errorf("retry after 10 minutes of failures waits %v, want at least half of %v", d.Delay, p.MaxBackoff)
	}
}

// Fakes for the unit tests below; the integration tests run the same code
// against real NATS and S3 servers.

type fakeDelivery struct {
	task      messages.Task
	delivered int
	mu        sync.Mutex
	settled   []string
}

func (d *fakeDelivery) Task() messages.Task                { return d.task }
func (d *fakeDelivery) Delivered() int                     { return d.delivered }
func (d *fakeDelivery) InProgress(context.Context) error   { d.note("progress"); return nil }
func (d *fakeDelivery) Ack(context.Context) error          { d.note("ack"); return nil }
func (d *fakeDelivery) Term(context.Context, string) error { d.note("term"); return nil }
func (d *fakeDelivery) Retry(context.Context, time.Duration) error {
	d.note("retry")
	return nil
}
func (d *fakeDelivery) note(s string) { d.mu.Lock(); d.settled = append(d.settled, s); d.mu.Unlock() }
func (d *fakeDelivery) last() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := len(d.settled) - 1; i >= 0; i-- {
		if d.settled[i] != "progress" {
			return d.settled[i]
		}
	}
	return ""
}

type memFiles struct {
	mu     sync.Mutex
	recs   map[string]messages.FileRecord
	revs   map[string]uint64
	probes []messages.ProbeRecord
}

func (m *memFiles) PutProbe(_ context.Context, rec messages.ProbeRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.probes = append(m.probes, rec)
	return nil
}

func newMemFiles(recs ...messages.FileRecord) *memFiles {
	m := &memFiles{recs: map[string]messages.FileRecord{}, revs: map[string]uint64{}}
	for _, r := range recs {
		m.recs[r.Source.Token()] = r
		m.revs[r.Source.Token()] = 1
	}
	return m
}

func (m *memFiles) File(_ context.Context, _, _, token string) (messages.FileRecord, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[token]
	if !ok {
		return r, 0, messages.ErrNotFound
	}
	return r, m.revs[token], nil
}

func (m *memFiles) Table(_ context.Context, load, table string) (messages.TableRecord, uint64, error) {
	if load != "l" || table != "t" {
		return messages.TableRecord{}, 0, messages.ErrNotFound
	}
	return messages.TableRecord{LoadID: load, Table: table, Schema: []byte("schema")}, 1, nil
}

func (m *memFiles) PutFile(_ context.Context, rec messages.FileRecord, rev uint64) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tok := rec.Source.Token()
	if m.revs[tok] != rev {
		return 0, messages.ErrConflict
	}
	m.recs[tok] = rec
	m.revs[tok]++
	return m.revs[tok], nil
}

// loaderFunc loads a one-file task.
type loaderFunc func(ctx context.Context, task messages.Task) Outcome

func (f loaderFunc) Load(ctx context.Context, task messages.Task, _ Schemas, _ *Progress) []Outcome {
	return []Outcome{f(ctx, task)}
}

// batchLoader loads a task of many files.
type batchLoader func(ctx context.Context, task messages.Task) []Outcome

func (f batchLoader) Load(ctx context.Context, task messages.Task, _ Schemas, _ *Progress) []Outcome {
	return f(ctx, task)
}

// progressLoader is a loader that sees its progress counter.
type progressLoader func(ctx context.Context, task messages.Task, p *Progress) Outcome

func (f progressLoader) Load(ctx context.Context, task messages.Task, _ Schemas, p *Progress) []Outcome {
	return []Outcome{f(ctx, task, p)}
}

func newTestWorker(t *testing.T, files FileStore, l Loader, adjust ...func(*Config)) *Worker {
	t.Helper()
	cfg := Config{ID: "w1", Heartbeat: time.Millisecond, Policy: Policy{MaxAttempts: 2}}
	for _, a := range adjust {
		a(&cfg)
	}
	w, err := New(cfg, nil, files, l)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

var src = messages.Source{Bucket: "b", Key: "t/a.csv", ETag: "e1", Size: 10}

func listed() messages.FileRecord {
	return messages.FileRecord{LoadID: "l", Table: "t", Source: src, State: messages.StateListed}
}

func TestHandle(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		out       Outcome
		panics    bool
		delivered int
		wantState messages.FileState
		wantLast  string
		attempts  int
	}{
		{"loaded is recorded then acked", Outcome{Kind: Loaded, Part: "p", Rows: 3, Bytes: 9}, false, 1, messages.StateLoaded, "ack", 1},
		{"transient is retried and spends no attempt", Outcome{Kind: Transient, Err: boom}, false, 1, messages.StateListed, "retry", 0},
		{"bad file is terminated", Outcome{Kind: Permanent, Err: boom}, false, 1, messages.StateFailed, "term", 1},
		{"loader panic fails the file, not the worker", Outcome{}, true, 1, messages.StateFailed, "term", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := newMemFiles(listed())
			w := newTestWorker(t, files, loaderFunc(func(context.Context, messages.Task) Outcome {
				if tt.panics {
					panic("decoder exploded")
				}
				return tt.out
			}))
			d := &fakeDelivery{task: messages.Task{LoadID: "l", Table: "t", Files: []messages.TaskFile{{Source: src}}}, delivered: tt.delivered}
			w.Handle(context.Background(), d)
			rec, _, _ := files.File(context.Background(), "l", "t", src.Token())
			if rec.State != tt.wantState || d.last() != tt.wantLast {
				t.Fatalf("state %s, settled %v; want %s, %s", rec.State, d.settled, tt.wantState, tt.wantLast)
			}
			if rec.State == messages.StateLoaded && (rec.Rows != 3 || rec.Part != "p" || rec.Bytes != 9) {
				t.Fatalf("loaded record lost its figures: %+v", rec)
			}
			if rec.Attempts != tt.attempts {
				t.Fatalf("attempts = %d, want %d", rec.Attempts, tt.attempts)
			}
			if failing := !rec.FailingSince.IsZero(); failing != (tt.out.Kind == Transient) {
				t.Fatalf("FailingSince = %v after a %v outcome", rec.FailingSince, tt.out.Kind)
			}
		})
	}
}

func TestHandleAcksAnAlreadySettledFile(t *testing.T) {
	rec := listed()
	rec.State = messages.StateLoaded
	files := newMemFiles(rec)
	w := newTestWorker(t, files, loaderFunc(func(context.Context, messages.Task) Outcome {
		t.Fatal("a settled file must not be loaded again")
		return Outcome{}
	}))
	d := &fakeDelivery{task: messages.Task{LoadID: "l", Table: "t", Files: []messages.TaskFile{{Source: src}}}, delivered: 2}
	w.Handle(context.Background(), d)
	if d.last() != "ack" {
		t.Fatalf("settled %v, want ack", d.settled)
	}
}

// A worker paused past the ack wait comes back after another worker claimed
// the file: its result must not overwrite the newer one.
func TestHandleFencesAZombie(t *testing.T) {
	files := newMemFiles(listed())
	var w *Worker
	w = newTestWorker(t, files, loaderFunc(func(ctx context.Context, task messages.Task) Outcome {
		// While we "pause", the task is redelivered and another worker
		// claims and finishes the file.
		rec, rev, _ := files.File(ctx, "l", "t", src.Token())
		rec.Worker, rec.State, rec.Rows = "w2", messages.StateLoaded, 7
		if _, err := files.PutFile(ctx, rec, rev); err != nil {
			t.Fatal(err)
		}
		return Outcome{Kind: Loaded, Rows: 999}
	}))
	d := &fakeDelivery{task: messages.Task{LoadID: "l", Table: "t", Files: []messages.TaskFile{{Source: src}}}, delivered: 1}
	w.Handle(context.Background(), d)
	rec, _, _ := files.File(context.Background(), "l", "t", src.Token())
	if rec.Worker != "w2" || rec.Rows != 7 {
		t.Fatalf("zombie overwrote the newer result: %+v", rec)
	}
	if d.last() == "ack" || d.last() == "term" {
		t.Fatalf("zombie settled a task it no longer owns: %v", d.settled)
	}
}

func TestHandleGivesUpOnAFileThatKillsWorkers(t *testing.T) {
	rec := listed()
	rec.Attempts = 2 // two claims that never recorded an outcome
	files := newMemFiles(rec)
	w := newTestWorker(t, files, loaderFunc(func(context.Context, messages.Task) Outcome {
		t.Fatal("must not try again")
		return Outcome{}
	}))
	d := &fakeDelivery{task: messages.Task{LoadID: "l", Table: "t", Files: []messages.TaskFile{{Source: src}}}, delivered: 3}
	w.Handle(context.Background(), d)
	got, _, _ := files.File(context.Background(), "l", "t", src.Token())
	if got.State != messages.StateFailed || d.last() != "term" {
		t.Fatalf("state %s settled %v; want failed, term", got.State, d.settled)
	}
}

// A first delivery claims with the task's revision, without a read; if the
// record moved on meanwhile, the claim fails and the stored record decides.
func TestHandleFirstDeliveryWithAStaleRevision(t *testing.T) {
	rec := listed()
	files := newMemFiles(rec) // revision 1
	done := rec
	done.State = messages.StateLoaded
	if _, err := files.PutFile(context.Background(), done, 1); err != nil { // now revision 2
		t.Fatal(err)
	}
	w := newTestWorker(t, files, loaderFunc(func(context.Context, messages.Task) Outcome {
		t.Fatal("a finished file must not be loaded again")
		return Outcome{}
	}))
	d := &fakeDelivery{task: messages.Task{LoadID: "l", Table: "t", Files: []messages.TaskFile{{Source: src, Revision: 1}}}, delivered: 1}
	w.Handle(context.Background(), d)
	if d.last() != "ack" {
		t.Fatalf("settled %v, want ack", d.settled)
	}
}

func TestHandleFirstDeliverySkipsTheRead(t *testing.T) {
	files := &countingFiles{memFiles: newMemFiles(listed())}
	w := newTestWorker(t, files, loaderFunc(func(context.Context, messages.Task) Outcome {
		return Outcome{Kind: Loaded, Part: "p", Rows: 1, Bytes: 1}
	}))
	d := &fakeDelivery{task: messages.Task{LoadID: "l", Table: "t", Files: []messages.TaskFile{{Source: src, Revision: 1}}}, delivered: 1}
	w.Handle(context.Background(), d)
	if files.reads != 0 || d.last() != "ack" {
		t.Fatalf("reads %d, settled %v; want 0 reads and an ack", files.reads, d.settled)
	}
}

type countingFiles struct {
	*memFiles
	reads int
}

func (c *countingFiles) File(ctx context.Context, load, table, token string) (messages.FileRecord, uint64, error) {
	c.reads++
	return c.memFiles.File(ctx, load, table, token)
}

func fileNamed(key string) messages.FileRecord {
	return messages.FileRecord{LoadID: "l", Table: "t", Source: messages.Source{Bucket: "b", Key: key, ETag: "e", Size: 10}, State: messages.StateListed}
}

func batchTask(recs ...messages.FileRecord) messages.Task {
	task := messages.Task{LoadID: "l", Table: "t"}
	for _, r := range recs {
		task.Files = append(task.Files, messages.TaskFile{Source: r.Source})
	}
	return task
}

// A batch records each file's own outcome: one bad file fails alone, and a
// file to retry sends the whole task back (its loaded files then ack at once).
func TestHandleBatch(t *testing.T) {
	boom := errors.New("boom")
	a, b, c := fileNamed("t/a.csv"), fileNamed("t/b.csv"), fileNamed("t/c.csv")
	tests := []struct {
		name       string
		kinds      []Kind
		panics     bool
		wantStates []messages.FileState
		wantLast   string
	}{
		{"all loaded: acked", []Kind{Loaded, Loaded, Loaded}, false,
			[]messages.FileState{messages.StateLoaded, messages.StateLoaded, messages.StateLoaded}, "ack"},
		{"one bad file fails alone", []Kind{Loaded, Permanent, Loaded}, false,
			[]messages.FileState{messages.StateLoaded, messages.StateFailed, messages.StateLoaded}, "ack"},
		{"one transient file retries the task", []Kind{Loaded, Permanent, Transient}, false,
			[]messages.FileState{messages.StateLoaded, messages.StateFailed, messages.StateListed}, "retry"},
		{"all bad: terminated", []Kind{Permanent, Changed, Permanent}, false,
			[]messages.FileState{messages.StateFailed, messages.StateChanged, messages.StateFailed}, "term"},
		{"a panic cannot be pinned on one file: all retry", nil, true,
			[]messages.FileState{messages.StateListed, messages.StateListed, messages.StateListed}, "retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := newMemFiles(a, b, c)
			w := newTestWorker(t, files, batchLoader(func(_ context.Context, task messages.Task) []Outcome {
				if tt.panics {
					panic("writer exploded")
				}
				outs := make([]Outcome, len(task.Files))
				for i, k := range tt.kinds {
					outs[i] = Outcome{Kind: k, Part: "batch", PartFiles: 2, Rows: int64(i + 1), Bytes: 50}
					if k != Loaded {
						outs[i].Err = boom
					}
				}
				return outs
			}))
			d := &fakeDelivery{task: batchTask(a, b, c), delivered: 1}
			w.Handle(context.Background(), d)
			for i, r := range []messages.FileRecord{a, b, c} {
				got, _, _ := files.File(context.Background(), "l", "t", r.Source.Token())
				wantAttempts := 1
				if got.State == messages.StateListed {
					wantAttempts = 0 // a passing failure gives its attempt back
				}
				if got.State != tt.wantStates[i] || got.Attempts != wantAttempts {
					t.Errorf("%s: state %s attempts %d, want %s and %d", r.Source.Key, got.State, got.Attempts, tt.wantStates[i], wantAttempts)
				}
				if got.State == messages.StateLoaded && (got.Part != "batch" || got.PartFiles != 2 || got.Rows != int64(i+1) || got.Bytes != 50) {
					t.Errorf("%s: loaded record lost its figures: %+v", r.Source.Key, got)
				}
			}
			if d.last() != tt.wantLast {
				t.Fatalf("settled %v, want %s last", d.settled, tt.wantLast)
			}
		})
	}
}

// A redelivered batch loads only the files that are not final yet.
func TestHandleBatchRedeliveryLoadsOnlyUnfinishedFiles(t *testing.T) {
	a, b := fileNamed("t/a.csv"), fileNamed("t/b.csv")
	a.State, a.Part, a.Rows = messages.StateLoaded, "batch", 1
	files := newMemFiles(a, b)
	var got []string
	w := newTestWorker(t, files, batchLoader(func(_ context.Context, task messages.Task) []Outcome {
		for _, f := range task.Files {
			got = append(got, f.Source.Key)
		}
		return []Outcome{{Kind: Loaded, Part: "part-b", PartFiles: 1, Rows: 2}}
	}))
	d := &fakeDelivery{task: batchTask(a, b), delivered: 2}
	w.Handle(context.Background(), d)
	if len(got) != 1 || got[0] != "t/b.csv" || d.last() != "ack" {
		t.Fatalf("loaded %v, settled %v; want only t/b.csv, then ack", got, d.settled)
	}
	rec, _, _ := files.File(context.Background(), "l", "t", a.Source.Token())
	if rec.Part != "batch" {
		t.Fatalf("the finished file's record changed: %+v", rec)
	}
}

// A batch's files are claimed together: when one is in work on a live
// worker, every other claim (including those after it) is given back, its
// attempt uncounted, nothing is loaded, and the task is asked for again
// after an ack wait. Otherwise the loader gets each file with the
// committed part its rows may be copied from.
func TestHandleBatchClaims(t *testing.T) {
	a, b, c := fileNamed("t/a.csv"), fileNamed("t/b.csv"), fileNamed("t/c.csv")
	b.Worker, b.Attempts = "w2", 1
	files := newMemFiles(a, b, c)
	reg := &fakeRegistry{workers: map[string]messages.WorkerRecord{"w2": {ID: "w2", Updated: time.Now(),
		Holding: []messages.Holding{{LoadID: "l", Table: "t", Token: b.Source.Token(), Key: b.Source.Key}}}}}
	var got []messages.TaskFile
	w := newTestWorker(t, files, batchLoader(func(_ context.Context, task messages.Task) []Outcome {
		got = task.Files
		outs := make([]Outcome, len(task.Files))
		for i := range outs {
			outs[i] = Outcome{Kind: Loaded, Part: "batch", PartFiles: len(outs), Rows: 1, Bytes: 50}
		}
		return outs
	}), func(c *Config) { c.Registry, c.Heartbeat = reg, time.Second })
	task := batchTask(a, b, c)
	for i := range task.Files {
		task.Files[i].From = "old/batch.parquet"
	}
	d := &retryDelays{fakeDelivery: fakeDelivery{task: task, delivered: 2}}
	w.Handle(context.Background(), d)
	if got != nil || len(d.delays) != 1 || d.delays[0] < 4*time.Second {
		t.Fatalf("loaded %v, retries %v: want nothing loaded and the task asked for again after an ack wait", got, d.delays)
	}
	for _, r := range []messages.FileRecord{a, b, c} {
		rec, _, _ := files.File(context.Background(), "l", "t", r.Source.Token())
		if rec.State != messages.StateListed || rec.Worker != r.Worker || rec.Attempts != r.Attempts {
			t.Errorf("%s: %+v, want its record as it was (worker %q, %d attempts)", r.Source.Key, rec, r.Worker, r.Attempts)
		}
	}

	// w2 is gone: the next delivery loads all three, From and all.
	reg.workers = nil
	d = &retryDelays{fakeDelivery: fakeDelivery{task: task, delivered: 3}}
	w.Handle(context.Background(), d)
	if len(got) != 3 || got[0].From != "old/batch.parquet" || got[2].From != "old/batch.parquet" {
		t.Fatalf("the loader got %+v, want the 3 files with their committed part", got)
	}
	for _, r := range []messages.FileRecord{a, b, c} {
		if rec, _, _ := files.File(context.Background(), "l", "t", r.Source.Token()); rec.State != messages.StateLoaded {
			t.Errorf("%s: %s, want loaded", r.Source.Key, rec.State)
		}
	}
}

// A file's record names the committed part its rows were copied from, and
// names none when the loader read the file from the source instead (the
// part was gone): the load reports the one reused, the other loaded.
func TestRecordSaysWhereRowsCameFrom(t *testing.T) {
	for _, fetched := range []bool{false, true} {
		a := fileNamed("t/a.csv")
		files := newMemFiles(a)
		w := newTestWorker(t, files, batchLoader(func(_ context.Context, task messages.Task) []Outcome {
			return []Outcome{{Kind: Loaded, Part: "new", PartFiles: 1, Rows: 1, Bytes: 50, Fetched: fetched}}
		}))
		task := batchTask(a)
		task.Files[0].From = "old/batch.parquet"
		w.Handle(context.Background(), &fakeDelivery{task: task, delivered: 1})
		rec, _, _ := files.File(context.Background(), "l", "t", a.Source.Token())
		want := "old/batch.parquet"
		if fetched {
			want = ""
		}
		if rec.State != messages.StateLoaded || rec.From != want {
			t.Errorf("fetched %t: record %s from %q, want loaded from %q", fetched, rec.State, rec.From, want)
		}
	}
}
