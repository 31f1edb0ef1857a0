// Package worker owns the policy of loading one task: claim the file's
// record, keep the task alive while the file loads, record the outcome, and
// settle the task (ack, retry or terminate) only after the output is
// durable. The queue, the state store and the loading pipeline are small
// interfaces that adapters under internal/ implement.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
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

// Queue hands out tasks one at a time.
type Queue interface {
	// Next waits a bounded time for a task; it returns an error (such as
	// "none available") rather than block past its own wait.
	Next(ctx context.Context) (Delivery, error)
}

// FileStore holds the durable record of each listed file.
type FileStore interface {
	File(ctx context.Context, load, table, token string) (messages.FileRecord, uint64, error)
	// PutFile writes rec if the stored revision is still rev, else it
	// returns messages.ErrConflict.
	PutFile(ctx context.Context, rec messages.FileRecord, rev uint64) (uint64, error)
}

// Loader fetches, decodes and writes a task's files into one part and
// returns one outcome per file, in order; the part is durable when any
// outcome is Loaded. A file that fails leaves no rows in the part.
type Loader interface {
	Load(ctx context.Context, task messages.Task) []Outcome
}

// Kind classifies what happened to one attempt at a file.
type Kind int

const (
	// Loaded: the part is durable.
	Loaded Kind = iota
	// Changed: the object's ETag no longer matches the listing.
	Changed
	// Permanent: the file itself is bad; trying again cannot help.
	Permanent
	// Transient: the network, the store or this worker failed; try again.
	Transient
	// Throttled: the store asked us to slow down; try again later without
	// spending one of the file's attempts.
	Throttled
)

func (k Kind) String() string {
	return [...]string{"loaded", "changed", "permanent", "transient", "throttled"}[k]
}

// Outcome is the result of one attempt at a file.
type Outcome struct {
	Kind Kind
	Part string // path relative to the table's directory
	// PartFiles counts the files whose rows the part holds.
	PartFiles int
	Rows      int64 // this file's rows
	Bytes     int64 // the part's size
	Err       error
}

// Policy bounds retries.
type Policy struct {
	// MaxAttempts counts attempts that ended Transient (or were lost with
	// their worker); throttling does not count.
	MaxAttempts int
	Backoff     time.Duration
	MaxBackoff  time.Duration
	// MaxDeliveries caps all deliveries, throttled ones included, so a store
	// that throttles forever still ends the file.
	MaxDeliveries int
}

// Action is what happens to a task after an attempt.
type Action int

const (
	Ack Action = iota
	Retry
	Terminate
)

// Disposition is Decide's verdict: the action, the delay before a retry, and
// the file state to record.
type Disposition struct {
	Action Action
	Delay  time.Duration
	State  messages.FileState
	// CountsAttempt says whether this outcome spends one of the file's attempts.
	CountsAttempt bool
}

// Decide is the one place that maps a file's outcome to ack, retry or
// terminate. attempts is the number of counted attempts including this one
// (an attempt whose worker died unrecorded counts too); delivered counts
// every delivery.
func Decide(o Outcome, attempts, delivered int, p Policy) Disposition {
	switch o.Kind {
	case Loaded:
		return Disposition{Action: Ack, State: messages.StateLoaded, CountsAttempt: true}
	case Changed:
		return Disposition{Action: Terminate, State: messages.StateChanged, CountsAttempt: true}
	case Permanent:
		return Disposition{Action: Terminate, State: messages.StateFailed, CountsAttempt: true}
	case Throttled:
		if delivered >= p.MaxDeliveries {
			return Disposition{Action: Terminate, State: messages.StateFailed}
		}
		// Back off harder than for errors: the store is overloaded, not broken.
		return Disposition{Action: Retry, Delay: backoff(attempts+delivered, p), State: messages.StateListed}
	default:
		if attempts >= p.MaxAttempts || delivered >= p.MaxDeliveries {
			return Disposition{Action: Terminate, State: messages.StateFailed, CountsAttempt: true}
		}
		return Disposition{Action: Retry, Delay: backoff(attempts, p), State: messages.StateListed, CountsAttempt: true}
	}
}

// backoff is exponential with full jitter, so retries of many files that
// failed together spread out.
func backoff(n int, p Policy) time.Duration {
	d := p.Backoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	return d/2 + rand.N(d/2+1)
}

// Config configures a Worker.
type Config struct {
	// ID names this worker in records and logs.
	ID     string
	Policy Policy
	// Heartbeat is how often a task in work is reported alive; keep it well
	// under the queue's ack wait.
	Heartbeat time.Duration
	// Slots is how many files this worker loads at once.
	Slots  int
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Policy.MaxAttempts == 0 {
		c.Policy.MaxAttempts = 5
	}
	if c.Policy.Backoff == 0 {
		c.Policy.Backoff = time.Second
	}
	if c.Policy.MaxBackoff == 0 {
		c.Policy.MaxBackoff = time.Minute
	}
	if c.Policy.MaxDeliveries == 0 {
		c.Policy.MaxDeliveries = c.Policy.MaxAttempts * 20
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = 15 * time.Second
	}
	if c.Slots == 0 {
		c.Slots = 1
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

func (c Config) validate() error {
	if c.ID == "" {
		return errors.New("worker: ID is required")
	}
	if c.Heartbeat <= 0 || c.Slots < 1 || c.Policy.MaxAttempts < 1 {
		return errors.New("worker: Heartbeat, Slots and Policy.MaxAttempts must be positive")
	}
	return nil
}

// Worker loads tasks from a queue until stopped.
type Worker struct {
	cfg    Config
	queue  Queue
	files  FileStore
	loader Loader
}

// New checks cfg and returns a worker.
func New(cfg Config, q Queue, files FileStore, loader Loader) (*Worker, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Worker{cfg: cfg, queue: q, files: files, loader: loader}, nil
}

// Run loads tasks until fetchCtx ends, then finishes the files in hand and
// returns. workCtx bounds those files: cancelling it abandons them (their
// tasks are redelivered elsewhere). Stopping fetch first is what makes a
// SIGTERM drain: the current file finishes, no new one starts.
func (w *Worker) Run(fetchCtx, workCtx context.Context) error {
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
	return first
}

func (w *Worker) slot(fetchCtx, workCtx context.Context) error {
	for fetchCtx.Err() == nil {
		d, err := w.queue.Next(fetchCtx)
		if err != nil {
			if fetchCtx.Err() != nil {
				return nil
			}
			// Nothing to do, or the queue is briefly away (NATS restarting):
			// pause a little instead of spinning.
			w.cfg.Logger.Debug("no task", "err", err)
			select {
			case <-fetchCtx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		w.Handle(workCtx, d)
	}
	return nil
}

// errSettled: the file needs no work from this delivery (already final,
// or unknown to its load). errGaveUp: the claim found the file out of
// attempts and recorded it failed.
var (
	errSettled = errors.New("file already settled")
	errGaveUp  = errors.New("file out of attempts")
)

// claimed is a file this delivery holds: its record as claimed and the
// revision that fences every other holder.
type claimed struct {
	rec messages.FileRecord
	rev uint64
}

// claim takes one file of the task. A first delivery trusts the task's
// revision and saves a read (the compare-and-set catches a record that
// moved on, and then the stored record decides); a redelivery reads the
// stored record. The claim spends an attempt up front so a file that kills
// its workers still runs out of attempts.
func (w *Worker) claim(ctx context.Context, d Delivery, task messages.Task, f messages.TaskFile, log *slog.Logger) (claimed, error) {
	trusted := d.Delivered() == 1 && f.Revision != 0
	for {
		rec, rev := messages.FileRecord{LoadID: task.LoadID, Table: task.Table, Source: f.Source, Range: f.Range, State: messages.StateListed}, f.Revision
		if !trusted {
			var err error
			rec, rev, err = w.files.File(ctx, task.LoadID, task.Table, messages.RecordToken(f.Source, f.Range))
			if errors.Is(err, messages.ErrNotFound) {
				// Published before its record was written cannot happen (the
				// coordinator records first); an old load's task can.
				log.Warn("task of an unknown file dropped", "file", f.Source.String(), "load", task.LoadID)
				return claimed{}, errSettled
			}
			if err != nil {
				return claimed{}, fmt.Errorf("reading the record of %s: %w", f.Source, err)
			}
		}
		if rec.State.Terminal() {
			// Settled by an earlier delivery: only the ack was lost.
			return claimed{}, errSettled
		}
		if rec.Attempts >= w.cfg.Policy.MaxAttempts {
			// Every earlier attempt was claimed and never recorded: its worker
			// died or hung on this file. Stop feeding it workers.
			rec.State, rec.Updated = messages.StateFailed, time.Now().UTC()
			rec.Error = fmt.Sprintf("%s: gave up after %d attempts that never finished (worker lost or stuck); last error: %s",
				f.Source, rec.Attempts, rec.Error)
			if _, err := w.files.PutFile(ctx, rec, rev); err != nil {
				return claimed{}, fmt.Errorf("recording %s failed: %w", f.Source, err)
			}
			log.Warn("file not loaded", "file", f.Source.String(), "err", rec.Error)
			return claimed{}, errGaveUp
		}
		rec.Worker = w.cfg.ID
		rec.Attempts++
		rec.Updated = time.Now().UTC()
		rev, err := w.files.PutFile(ctx, rec, rev)
		if errors.Is(err, messages.ErrConflict) && trusted {
			// The record moved on since the task was published (a duplicate
			// task, or a resumed load): decide again from what is stored.
			log.Debug("claim raced; reading the stored record", "file", f.Source.String())
			trusted = false
			continue
		}
		if err != nil {
			return claimed{}, fmt.Errorf("claiming %s: %w", f.Source, err)
		}
		return claimed{rec: rec, rev: rev}, nil
	}
}

// Handle loads one delivered task's files and settles it: each file's
// outcome is recorded, and the task is acked once every file is final, or
// retried when any is not.
func (w *Worker) Handle(ctx context.Context, d Delivery) {
	task := d.Task()
	log := w.cfg.Logger.With("table", task.Table, "delivery", d.Delivered())
	if len(task.Files) == 1 {
		log = log.With("file", task.Files[0].Source.String())
	} else {
		log = log.With("files", len(task.Files), "task", task.ID)
	}

	var held []claimed
	var terms []string
	for _, f := range task.Files {
		c, err := w.claim(ctx, d, task, f, log)
		if errors.Is(err, errSettled) {
			continue
		}
		if errors.Is(err, errGaveUp) {
			terms = append(terms, f.Source.String())
			continue
		}
		if err != nil {
			// The state store is away (NATS restarting) or another delivery
			// holds the file: try the task again later. Files claimed so far
			// spent an attempt; that is all.
			log.Warn("claiming files", "err", err)
			_ = d.Retry(ctx, w.cfg.Policy.Backoff)
			return
		}
		held = append(held, c)
	}
	if len(held) == 0 {
		if len(terms) == len(task.Files) {
			_ = d.Term(ctx, "not loaded: "+strings.Join(terms, ", "))
			return
		}
		w.ack(ctx, d, log)
		return
	}

	work := task
	work.Files = make([]messages.TaskFile, len(held))
	for i, c := range held {
		work.Files[i] = messages.TaskFile{Source: c.rec.Source, Range: c.rec.Range, Revision: c.rev}
	}
	outs := w.loadWithHeartbeat(ctx, d, work)
	if ctx.Err() != nil {
		// Stopped mid-task: leave it to be redelivered.
		log.Info("abandoned task on shutdown")
		return
	}

	var retry, fenced bool
	var delay time.Duration
	for i, c := range held {
		disp, ok, lost := w.record(ctx, d, c, outs[i], log)
		if lost {
			fenced = true
			continue
		}
		if !ok {
			// The outcome could not be recorded: the file must be tried again.
			retry, delay = true, max(delay, w.cfg.Policy.Backoff)
			continue
		}
		switch disp.Action {
		case Retry:
			retry, delay = true, max(delay, disp.Delay)
		case Terminate:
			terms = append(terms, c.rec.Source.String())
		}
	}
	switch {
	case fenced:
		// Another worker holds this task's message now (we were paused
		// past the ack wait); settling it is that worker's business.
	case retry:
		_ = d.Retry(ctx, delay)
	case len(terms) == len(task.Files):
		_ = d.Term(ctx, "not loaded: "+strings.Join(terms, ", "))
	default:
		w.ack(ctx, d, log)
	}
}

// record writes one file's outcome, fenced by its claim, and returns what
// Decide made of it; ok is false when it could not be recorded, and lost
// when another worker had claimed the file meanwhile.
func (w *Worker) record(ctx context.Context, d Delivery, c claimed, out Outcome, log *slog.Logger) (disp Disposition, ok, lost bool) {
	rec := c.rec
	log = log.With("file", rec.Source.String())
	disp = Decide(out, rec.Attempts, d.Delivered(), w.cfg.Policy)
	if !disp.CountsAttempt {
		rec.Attempts--
	}
	rec.State = disp.State
	rec.Updated = time.Now().UTC()
	rec.Error = ""
	if out.Err != nil {
		rec.Error = out.Err.Error()
	}
	if disp.State == messages.StateFailed && out.Kind == Throttled {
		rec.Error = fmt.Sprintf("still throttled after %d deliveries: %v", d.Delivered(), out.Err)
	}
	if disp.State == messages.StateLoaded {
		rec.Part, rec.PartFiles, rec.Rows, rec.Bytes = out.Part, out.PartFiles, out.Rows, out.Bytes
	}
	if _, err := w.files.PutFile(ctx, rec, c.rev); err != nil {
		if errors.Is(err, messages.ErrConflict) {
			// Another delivery claimed the file while we worked (we were
			// paused past the ack wait): its result stands, ours is dropped.
			log.Warn("fenced: file claimed by another worker; result discarded")
			return disp, false, true
		}
		log.Warn("recording outcome", "err", err)
		return disp, false, false
	}
	switch disp.Action {
	case Retry:
		log.Info("retrying file", "kind", out.Kind, "err", out.Err, "delay", disp.Delay, "attempts", rec.Attempts)
	case Terminate:
		log.Warn("file not loaded", "state", disp.State, "err", out.Err, "attempts", rec.Attempts)
	default:
		log.Debug("file loaded", "rows", out.Rows, "part", out.Part)
	}
	return disp, true, false
}

func (w *Worker) ack(ctx context.Context, d Delivery, log *slog.Logger) {
	if err := d.Ack(ctx); err != nil {
		// The records are already terminal, so a redelivery only acks again.
		log.Warn("acknowledging task", "err", err)
	}
}

// loadWithHeartbeat runs the loader while telling the queue, every
// Heartbeat, that the task is still in work.
func (w *Worker) loadWithHeartbeat(ctx context.Context, d Delivery, task messages.Task) []Outcome {
	hbCtx, stop := context.WithCancel(ctx)
	beats := make(chan struct{})
	go func() { // owned here: stop() ends it and we wait on beats.
		defer close(beats)
		t := time.NewTicker(w.cfg.Heartbeat)
		defer t.Stop()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
				_ = d.InProgress(hbCtx)
			}
		}
	}()
	outs := w.safeLoad(ctx, task)
	stop()
	<-beats
	return outs
}

// safeLoad turns a panic anywhere in the loader into a failed attempt, so
// one bad file never takes the worker down. A lone file fails for good; in
// a batch the panic cannot be pinned on one file, so each is tried again
// (until its attempts run out).
func (w *Worker) safeLoad(ctx context.Context, task messages.Task) (outs []Outcome) {
	defer func() {
		r := recover()
		if r == nil && len(outs) == len(task.Files) {
			return
		}
		kind, why := Permanent, fmt.Sprintf("loader panic: %v", r)
		if r == nil {
			kind, why = Transient, fmt.Sprintf("loader returned %d outcomes for %d files", len(outs), len(task.Files))
		} else if len(task.Files) > 1 {
			kind = Transient
		}
		outs = make([]Outcome, len(task.Files))
		for i, f := range task.Files {
			outs[i] = Outcome{Kind: kind, Err: fmt.Errorf("%s: %s", f.Source, why)}
		}
	}()
	return w.loader.Load(ctx, task)
}
