package worker

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/s3load/s3load/messages"
)

// recordConcurrency bounds the outcomes of one task written at once.
const recordConcurrency = 8

// errSettled: the file needs no work from this delivery (already final,
// or unknown to its load). errGaveUp: the claim found the file out of
// attempts and recorded it failed. errHeld: a live worker is loading the
// file now (this delivery is a duplicate): it is not taken from it.
var (
	errSettled = errors.New("file already settled")
	errGaveUp  = errors.New("file out of attempts")
	errHeld    = errors.New("file in work on a live worker")
)

// claimed is a file this delivery holds: its record as claimed and the
// revision that fences every other holder.
type claimed struct {
	rec messages.FileRecord
	rev uint64
	// from is the task's committed part holding the file's rows, if any.
	from string
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

	if d.Delivered() > 1 {
		w.cfg.Observer.Redelivered(task.Table)
	}
	if task.Probe {
		w.handleProbe(ctx, d, task, log)
		return
	}
	schema, err := w.schema(ctx, task.LoadID, task.Table)
	if errors.Is(err, messages.ErrNotFound) {
		// No such table in that load: the task of a load that ended (its
		// records are gone). Nothing to do.
		log.Warn("task of an unknown load or table dropped", "load", task.LoadID)
		w.ack(ctx, d, log)
		return
	}
	if err != nil {
		log.Warn("reading the table's schema", "err", err)
		_ = d.Retry(ctx, w.cfg.Policy.Backoff)
		return
	}

	// The files are claimed a few at a time, as their outcomes are
	// recorded: each claim is a round trip to the state store, and a batch
	// of small files waited on them one by one.
	claims := make([]struct {
		c   claimed
		err error
	}, len(task.Files))
	forEach(len(task.Files), recordConcurrency, func(i int) {
		claims[i].c, claims[i].err = w.claim(ctx, d, task, task.Files[i], log)
	})
	var held []claimed
	var terms []string
	var heldElsewhere string
	var failed error
	for i, f := range task.Files {
		switch c, err := claims[i].c, claims[i].err; {
		case errors.Is(err, errSettled):
		case errors.Is(err, errGaveUp):
			terms = append(terms, f.Source.String())
		case errors.Is(err, errHeld):
			heldElsewhere = cmp.Or(heldElsewhere, f.Source.String())
		case err != nil:
			failed = cmp.Or(failed, err)
		default:
			held = append(held, c)
		}
	}
	if heldElsewhere != "" {
		// A duplicate of a task a live worker is working on: ask again
		// after an ack wait, when that worker has finished or is gone. The
		// files this delivery claimed are given back.
		log.Info("file in work on another live worker; leaving it there", "file", heldElsewhere)
		w.giveBack(ctx, d, held, 4*w.cfg.Heartbeat, log)
		return
	}
	if failed != nil {
		// The state store is away (NATS restarting): try the task again
		// later. The files claimed are given back.
		log.Warn("claiming files", "err", failed)
		w.giveBack(ctx, d, held, w.cfg.Policy.Backoff, log)
		return
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
		work.Files[i] = messages.TaskFile{Source: c.rec.Source, Range: c.rec.Range, Revision: c.rev, From: c.from}
	}
	work.Reissued = task.Reissued || d.Delivered() > 1
	h := w.hold(work)
	outs, stuck := w.loadWithHeartbeat(ctx, d, work, schema, h.progress)
	w.release(h)
	w.observePart(task.Table, outs)
	if ctx.Err() != nil {
		// Stopped mid-task: record what did load, give the rest back now
		// rather than after the ack wait.
		w.abandon(ctx, d, held, outs, log)
		return
	}
	if stuck {
		for i := range outs {
			if outs[i].Kind != Loaded {
				outs[i] = Outcome{Kind: Transient, Err: fmt.Errorf("%s: no progress for %s (worker %s): given up to be tried again",
					held[i].rec.Source, w.cfg.NoProgressTimeout, w.cfg.ID)}
			}
		}
	}

	// The outcomes are recorded a few at a time: each is a round trip to
	// the state store, and a batch of small files waited on them one by
	// one.
	type recorded struct {
		disp     Disposition
		ok, lost bool
	}
	res := make([]recorded, len(held))
	for i := range held {
		w.breaker.observe(outs[i].Kind)
	}
	forEach(len(held), recordConcurrency, func(i int) {
		res[i].disp, res[i].ok, res[i].lost = w.record(ctx, d, held[i], outs[i], log)
	})
	var retry, fenced bool
	var delay time.Duration
	for i, c := range held {
		disp, ok, lost := res[i].disp, res[i].ok, res[i].lost
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

// schema returns the table's schemas, read once per load and table.
func (w *Worker) schema(ctx context.Context, load, table string) (Schemas, error) {
	key := load + "/" + table
	w.mu.Lock()
	s, ok := w.schemas[key]
	w.mu.Unlock()
	if ok {
		return s, nil
	}
	rec, _, err := w.files.Table(ctx, load, table)
	if err != nil {
		return Schemas{}, err
	}
	if len(rec.Schema) == 0 {
		return Schemas{}, fmt.Errorf("table %s of load %s has no schema yet", table, load)
	}
	s = Schemas{Decode: rec.Schema, Write: rec.WriteSchema, Rejects: rec.Rejects}
	w.mu.Lock()
	if len(w.schemas) > 64 { // one entry per table of the loads in flight
		clear(w.schemas)
	}
	w.schemas[key] = s
	w.mu.Unlock()
	return s, nil
}

// claim takes one file of the task. A first delivery trusts the task's
// revision and saves a read (the compare-and-set catches a record that
// moved on, and then the stored record decides); a redelivery reads the
// stored record. The claim counts an attempt up front so a file that kills
// its workers still runs out of attempts.
func (w *Worker) claim(ctx context.Context, d Delivery, task messages.Task, f messages.TaskFile, log *slog.Logger) (claimed, error) {
	trusted := d.Delivered() == 1 && f.Revision != 0
	for {
		rec, rev := messages.FileRecord{LoadID: task.LoadID, Table: task.Table, Source: f.Source, Range: f.Range, State: messages.StateListed}, f.Revision
		if !trusted {
			var err error
			rec, rev, err = w.files.File(ctx, task.LoadID, task.Table, messages.RecordToken(f.Source, f.Range))
			if errors.Is(err, messages.ErrNotFound) {
				// The coordinator records before it publishes, so this is an
				// old load's task, or a record lost from the store (the
				// coordinator notices and publishes the file again).
				log.Warn("task of an unknown file dropped", "file", f.Source.String(), "load", task.LoadID)
				return claimed{}, errSettled
			}
			if err != nil {
				return claimed{}, fmt.Errorf("reading the record of %s: %w", f.Source, err)
			}
			if rec.Source.Identity() != f.Source.Identity() {
				// The record was listed again with a new version of the object
				// (a resumed load): this task is for the old one.
				return claimed{}, errSettled
			}
		}
		if rec.State.Terminal() {
			// Settled by an earlier delivery: only the ack was lost.
			return claimed{}, errSettled
		}
		if rec.Worker != "" && w.holdsNow(ctx, task, f, rec.Worker) {
			return claimed{}, errHeld
		}
		if rec.Attempts >= w.cfg.Policy.MaxAttempts {
			// Every earlier attempt was claimed and never recorded: its worker
			// died or hung on this file. Stop feeding it workers.
			rec.State, rec.Updated = messages.StateFailed, time.Now().UTC()
			rec.Error = fmt.Sprintf("%s: gave up after %d attempts that never finished (their workers died or hung on it; retry.max_attempts); last error: %s",
				f.Source, rec.Attempts, cmp.Or(rec.Error, "none recorded"))
			if _, err := w.files.PutFile(ctx, rec, rev); err != nil {
				return claimed{}, fmt.Errorf("recording %s failed: %w", f.Source, err)
			}
			log.Warn("file not loaded", "file", f.Source.String(), "err", rec.Error)
			w.cfg.Observer.FileSettled(rec.Table, rec.State, 0, 0)
			return claimed{}, errGaveUp
		}
		rec.Worker = w.cfg.ID
		rec.Attempts++
		rec.Updated = time.Now().UTC()
		rec.From = f.From // how this delivery loads it
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
		return claimed{rec: rec, rev: rev, from: f.From}, nil
	}
}

// holdsNow says whether worker id is alive and loading the file right now:
// its announcement is fresh and lists it. A file that keeps making
// progress is never taken from its worker; a worker that stopped
// announcing (dead, paused, cut off) loses it.
func (w *Worker) holdsNow(ctx context.Context, task messages.Task, f messages.TaskFile, id string) bool {
	token := messages.RecordToken(f.Source, f.Range)
	if id == w.cfg.ID {
		for _, h := range w.holdings() {
			if h.LoadID == task.LoadID && h.Table == task.Table && h.Token == token {
				return true
			}
		}
		return false
	}
	if w.cfg.Registry == nil {
		return false
	}
	rec, err := w.cfg.Registry.Worker(ctx, w.cfg.Job, id)
	if err != nil || time.Since(rec.Updated) > 4*w.cfg.Heartbeat {
		return false
	}
	for _, h := range rec.Holding {
		if h.LoadID == task.LoadID && h.Table == task.Table && h.Token == token {
			return true
		}
	}
	return false
}

// record writes one file's outcome, fenced by its claim, and returns what
// Decide made of it; ok is false when it could not be recorded, and lost
// when another worker had claimed the file meanwhile. The write is retried
// while the store is away: the result is in hand and worth keeping.
func (w *Worker) record(ctx context.Context, d Delivery, c claimed, out Outcome, log *slog.Logger) (disp Disposition, ok, lost bool) {
	rec := c.rec
	log = log.With("file", rec.Source.String())
	now := time.Now().UTC()
	hist := History{Attempts: rec.Attempts}
	if !rec.FailingSince.IsZero() {
		hist.FailingFor = now.Sub(rec.FailingSince)
	}
	disp = Decide(out, hist, w.cfg.Policy)
	if !disp.CountsAttempt {
		rec.Attempts--
	}
	rec.State, rec.Updated, rec.Error = disp.State, now, ""
	if !disp.State.Terminal() {
		rec.Worker = "" // nobody holds it until the next claim
	}
	if out.Err != nil {
		rec.Error = out.Err.Error()
	}
	switch {
	case disp.OutOfTime:
		rec.Error = fmt.Sprintf("still failing after %s (retry.max_duration is %s): %v",
			hist.FailingFor.Round(time.Second), w.cfg.Policy.MaxDuration, out.Err)
	case disp.Failing && rec.FailingSince.IsZero():
		rec.FailingSince = now
	case !disp.Failing:
		rec.FailingSince = time.Time{}
	}
	if disp.State == messages.StateLoaded {
		rec.Part, rec.PartFiles, rec.Rows, rec.Bytes, rec.Stats = out.Part, out.PartFiles, out.Rows, out.Bytes, out.Stats
		rec.Rejected, rec.Rejects = out.Rejected, out.Rejects
		if out.Fetched {
			rec.From = ""
		}
	}
	if err := w.putOwn(ctx, rec, c.rev); err != nil {
		if errors.Is(err, messages.ErrConflict) {
			// Another delivery claimed the file while we worked (we were
			// paused past the ack wait): its result stands, ours is dropped.
			log.Warn("fenced: file claimed by another worker; result discarded")
			return disp, false, true
		}
		log.Warn("recording outcome", "err", err)
		return disp, false, false
	}
	if disp.State == messages.StateLoaded {
		w.cfg.Observer.FileSettled(rec.Table, disp.State, rec.Rows, sourceBytes(rec))
	} else if disp.State.Terminal() {
		w.cfg.Observer.FileSettled(rec.Table, disp.State, 0, 0)
	}
	switch disp.Action {
	case Retry:
		log.Info("retrying file", "kind", out.Kind, "err", out.Err, "delay", disp.Delay, "failing_for", hist.FailingFor.Round(time.Second))
	case Terminate:
		log.Warn("file not loaded", "state", disp.State, "err", rec.Error, "attempts", rec.Attempts)
	default:
		log.Debug("file loaded", "rows", out.Rows, "part", out.Part)
	}
	return disp, true, false
}

// putOwn writes rec over rev, retrying while the store is away (up to the
// retry budget). A try that timed out may still have landed, and its retry
// then meets its own write as a conflict: so a conflict after a failed try
// reads the record back, and finding exactly rec there counts as success.
func (w *Worker) putOwn(ctx context.Context, rec messages.FileRecord, rev uint64) error {
	deadline := time.Now().Add(w.cfg.Policy.MaxDuration)
	wait := 100 * time.Millisecond
	failed := false
	token := rec.Token()
	for {
		_, err := w.files.PutFile(ctx, rec, rev)
		if errors.Is(err, messages.ErrConflict) && failed {
			if stored, _, gerr := w.files.File(ctx, rec.LoadID, rec.Table, token); gerr == nil && sameFileRecord(stored, rec) {
				return nil
			}
		}
		if err == nil || errors.Is(err, messages.ErrConflict) || errors.Is(err, messages.ErrNotFound) ||
			ctx.Err() != nil || time.Now().After(deadline) {
			return err
		}
		failed = true
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
}

func sameFileRecord(a, b messages.FileRecord) bool {
	ab, aerr := messages.Marshal(a)
	bb, berr := messages.Marshal(b)
	return aerr == nil && berr == nil && bytes.Equal(ab, bb)
}

func (w *Worker) ack(ctx context.Context, d Delivery, log *slog.Logger) {
	if err := d.Ack(ctx); err != nil {
		// The records are already terminal, so a redelivery only acks again.
		log.Warn("acknowledging task", "err", err)
	}
}

// giveBack returns claimed files (their attempts did not really start)
// and asks for the task again after delay.
func (w *Worker) giveBack(ctx context.Context, d Delivery, held []claimed, delay time.Duration, log *slog.Logger) {
	for _, c := range held {
		rec := c.rec
		rec.Attempts--
		rec.Worker = ""
		if _, err := w.files.PutFile(ctx, rec, c.rev); err != nil {
			log.Debug("giving back a claim", "file", rec.Source.String(), "err", err)
		}
	}
	_ = d.Retry(ctx, delay)
}

// abandon is the quick, honest stop of a task whose work context was
// cancelled (SIGINT, SIGTERM past the drain): what loaded is recorded,
// the other files' attempts are given back, and the task is handed back to
// the queue at once, so a resumed load does not wait out the ack wait.
func (w *Worker) abandon(ctx context.Context, d Delivery, held []claimed, outs []Outcome, log *slog.Logger) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
	defer cancel()
	var rest []claimed
	for i, c := range held {
		if i < len(outs) && outs[i].Kind == Loaded {
			if _, ok, _ := w.record(actx, d, c, outs[i], log); ok {
				continue
			}
		}
		rest = append(rest, c)
	}
	for _, c := range rest {
		rec := c.rec
		rec.Attempts--
		rec.Worker, rec.Updated = "", time.Now().UTC()
		_, _ = w.files.PutFile(actx, rec, c.rev)
	}
	if err := d.Retry(actx, 0); err != nil {
		log.Debug("handing the task back", "err", err)
	}
	log.Info("task handed back on shutdown", "files", len(rest))
}

// abandonTimeout bounds the writes of a stopping worker: it should exit
// promptly even if the store has gone.
const abandonTimeout = 3 * time.Second
