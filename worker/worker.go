// Package worker owns the policy of loading tasks: claim each file's record,
// keep the task alive while the file makes progress, record the outcome,
// and settle the task (ack, retry or terminate) only after the output is
// durable. It also owns how a worker behaves as a member of a fleet: it
// announces itself and what it holds, pauses while the store keeps failing
// instead of burning every file's retry budget, says so when no coordinator
// runs its job, and on shutdown hands its tasks back at once.
//
// The queue, the state store, the loading pipeline and the store probe are
// small interfaces that adapters under internal/ implement.
package worker

import (
	"cmp"
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/s3load/s3load/messages"
)

// Delivery is one received task and the handle to settle it.
type Delivery interface {
	Task() messages.Task
	// Delivered counts deliveries of this task, 1 the first time.
	Delivered() int
	InProgress(ctx context.Context) error
	// Ack settles the task.
	Ack(ctx context.Context) error
	Retry(ctx context.Context, delay time.Duration) error
	Term(ctx context.Context, reason string) error
}

// ErrNoTask: no task came within the queue's wait. Queues wrap it.
var ErrNoTask = errors.New("no task available")

// Queue hands out tasks one at a time.
type Queue interface {
	// Next waits a bounded time for a task, and returns an error wrapping
	// ErrNoTask when none came: it never blocks past its own wait.
	Next(ctx context.Context) (Delivery, error)
}

// FileStore holds the durable records of a load.
type FileStore interface {
	File(ctx context.Context, load, table, token string) (messages.FileRecord, uint64, error)
	// PutFile writes rec if the stored revision is still rev, else it
	// returns messages.ErrConflict.
	PutFile(ctx context.Context, rec messages.FileRecord, rev uint64) (uint64, error)
	// Table reads a table's record, which holds its schema.
	Table(ctx context.Context, load, table string) (messages.TableRecord, uint64, error)
	// PutProbe records what a probe task found, replacing any earlier
	// record of the same task.
	PutProbe(ctx context.Context, rec messages.ProbeRecord) error
}

// Schemas are a table's Arrow IPC schemas within a load: files are decoded
// into Decode and parts written in Write (Decode itself when empty).
type Schemas struct {
	Decode, Write []byte
	// Rejects, when set, is where rows skipped under on_error: skip_row
	// are written.
	Rejects *messages.RejectsPlan
}

// Loader fetches, decodes and writes a task's files into one part, in the
// table's schemas, and returns one outcome per file, in
// order; the part is durable when any outcome is Loaded. A file that fails
// leaves no rows in the part. It adds what it reads and decodes to progress.
type Loader interface {
	Load(ctx context.Context, task messages.Task, schemas Schemas, progress *Progress) []Outcome
}

// Registry is where workers announce themselves and find the coordinators.
type Registry interface {
	PutWorker(ctx context.Context, rec messages.WorkerRecord) error
	DeleteWorker(ctx context.Context, job, id string) error
	// Worker reads one worker's announcement (messages.ErrNotFound: none).
	Worker(ctx context.Context, job, id string) (messages.WorkerRecord, error)
	// Leases returns every job's coordinator lease.
	Leases(ctx context.Context) ([]messages.LeaseRecord, error)
}

// StoreProbe tells whether the source store answers again after a run of
// failures, with one cheap request.
type StoreProbe interface {
	Probe(ctx context.Context) error
}

// Config configures a Worker. Zero values take the defaults.
type Config struct {
	// ID names this worker in records and logs.
	ID string
	// Job is the job this worker's config describes, Spec its details.
	Job  string
	Spec messages.JobSpec
	// Host, PID and Version are announced in the worker's record.
	Host    string
	PID     int
	Version string
	Policy  Policy
	// Heartbeat is how often a task in work is reported alive and the
	// worker announces itself; keep it well under the queue's ack wait.
	Heartbeat time.Duration
	// NoProgressTimeout: a task whose loading has read and decoded nothing
	// for this long is stuck; the worker stops its heartbeats and gives it
	// up, so it goes to another worker. A long file that keeps moving is
	// never given up, however long it takes.
	NoProgressTimeout time.Duration
	// Slots is how many tasks this worker loads at once.
	Slots int
	// Registry, if set, is where the worker announces itself and checks
	// that a coordinator runs its job.
	Registry Registry
	// Probe, if set, lets the worker pause while the store keeps failing.
	Probe StoreProbe
	// Prober reads files' schemas for probe tasks; nil leaves them to
	// the coordinator.
	Prober SchemaProber
	// Observer, if set, is told what the worker does (for metrics).
	Observer Observer
	// HoldingLog is how often a worker with files in hand logs them.
	HoldingLog time.Duration
	Logger     *slog.Logger
}

func (c Config) withDefaults() Config {
	c.Policy.MaxDuration = cmp.Or(c.Policy.MaxDuration, DefaultMaxDuration)
	c.Policy.MaxAttempts = cmp.Or(c.Policy.MaxAttempts, DefaultMaxAttempts)
	c.Policy.Backoff = cmp.Or(c.Policy.Backoff, DefaultBackoff)
	c.Policy.MaxBackoff = cmp.Or(c.Policy.MaxBackoff, DefaultMaxBackoff)
	c.Heartbeat = cmp.Or(c.Heartbeat, DefaultHeartbeat)
	c.NoProgressTimeout = cmp.Or(c.NoProgressTimeout, DefaultNoProgressTimeout)
	c.Slots = cmp.Or(c.Slots, 1)
	c.HoldingLog = cmp.Or(c.HoldingLog, DefaultHoldingLog)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	return c
}

func (c Config) validate() error {
	if c.ID == "" {
		return errors.New("worker: ID is required")
	}
	if c.Heartbeat <= 0 || c.Slots < 1 || c.Policy.MaxAttempts < 1 || c.Policy.MaxDuration <= 0 || c.NoProgressTimeout <= 0 {
		return errors.New("worker: Heartbeat, Slots, NoProgressTimeout, Policy.MaxAttempts and Policy.MaxDuration must be positive")
	}
	return nil
}

// Worker loads tasks from a queue until stopped.
type Worker struct {
	cfg     Config
	queue   Queue
	files   FileStore
	loader  Loader
	breaker *breaker
	started time.Time

	mu      sync.Mutex
	holding map[*hold]struct{}
	schemas map[string]Schemas // "load/table" -> schemas
	pull    pullState
	lastJob time.Time // when a task last came
	note    string    // why the worker may not be doing what its user thinks
}

// New checks cfg and returns a worker.
func New(cfg Config, q Queue, files FileStore, loader Loader) (*Worker, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Worker{
		cfg: cfg, queue: q, files: files, loader: loader,
		breaker: newBreaker(cfg.Probe != nil),
		started: time.Now(), lastJob: time.Now(),
		holding: map[*hold]struct{}{}, schemas: map[string]Schemas{},
	}, nil
}

// Run loads tasks until fetchCtx ends, then finishes the tasks in hand and
// returns. workCtx bounds those tasks: cancelling it gives them back to the
// queue at once. Stopping fetch first is what makes a SIGTERM drain: the
// current file finishes, no new one starts.
func (w *Worker) Run(fetchCtx, workCtx context.Context) error {
	sideCtx, stopSide := context.WithCancel(workCtx)
	var side sync.WaitGroup
	for _, actor := range []func(context.Context){w.announce, w.probe, w.checkAgreement, w.logHoldings} {
		side.Add(1)
		go func() { // owned by Run: stopped and awaited below.
			defer side.Done()
			actor(sideCtx)
		}()
	}
	errs := make(chan error, w.cfg.Slots)
	for range w.cfg.Slots {
		go func() { // owned by Run: it waits for every slot below.
			errs <- w.slot(fetchCtx, workCtx)
		}()
	}
	var first error
	for range w.cfg.Slots {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	stopSide()
	side.Wait()
	w.withdraw(workCtx)
	return first
}

func (w *Worker) slot(fetchCtx, workCtx context.Context) error {
	for fetchCtx.Err() == nil {
		if err := w.breaker.wait(fetchCtx); err != nil {
			return nil
		}
		d, err := w.queue.Next(fetchCtx)
		if err != nil {
			if fetchCtx.Err() != nil {
				return nil
			}
			if errors.Is(err, ErrNoTask) {
				w.pulled(nil)
				continue
			}
			// The queue is away (NATS restarting, the stream being
			// recreated): pause a little instead of spinning.
			w.pulled(err)
			select {
			case <-fetchCtx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		w.pulled(nil)
		w.mu.Lock()
		w.lastJob = time.Now()
		w.mu.Unlock()
		w.cfg.Observer.TaskStarted()
		w.Handle(workCtx, d)
		w.cfg.Observer.TaskEnded()
	}
	return nil
}
