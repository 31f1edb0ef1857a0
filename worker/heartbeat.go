package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/s3load/s3load/messages"
)

// errNoProgress ends a load whose task stopped moving.
var errNoProgress = errors.New("no progress")

// loadWithHeartbeat runs the loader while telling the queue, every
// Heartbeat, that the task is still in work, as long as it makes progress.
// A task that reads and decodes nothing for NoProgressTimeout is stuck: its
// heartbeats stop and its load is cancelled, so the queue gives it to
// another worker; stuck reports that.
func (w *Worker) loadWithHeartbeat(ctx context.Context, d Delivery, task messages.Task, schemas Schemas, p *Progress) (outs []Outcome, stuck bool) {
	loadCtx, cancelLoad := context.WithCancelCause(ctx)
	defer cancelLoad(nil)
	hbCtx, stop := context.WithCancel(ctx)
	beats := make(chan struct{})
	go func() { // owned here: stop() ends it and we wait on beats.
		defer close(beats)
		t := time.NewTicker(w.cfg.Heartbeat)
		defer t.Stop()
		last, moved := p.mark(), time.Now()
		for {
			select {
			case <-hbCtx.Done():
				return
			case <-t.C:
			}
			if now := p.mark(); now != last {
				last, moved = now, time.Now()
			}
			if time.Since(moved) >= w.cfg.NoProgressTimeout {
				w.cfg.Logger.Warn("task made no progress; giving it up", "task", task.ID, "for", w.cfg.NoProgressTimeout,
					"bytes", last[0], "rows", last[1])
				cancelLoad(errNoProgress)
				return
			}
			_ = d.InProgress(hbCtx)
		}
	}()
	outs = w.safeLoad(loadCtx, task, schemas, p)
	stop()
	<-beats
	return outs, errors.Is(context.Cause(loadCtx), errNoProgress)
}

// safeLoad turns a panic anywhere in the loader into a failed attempt, so
// one bad file never takes the worker down. A lone file fails for good; in
// a batch the panic cannot be pinned on one file, so each is tried again.
func (w *Worker) safeLoad(ctx context.Context, task messages.Task, schemas Schemas, p *Progress) (outs []Outcome) {
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
	return w.loader.Load(ctx, task, schemas, p)
}

// hold is a task in a slot, announced with its progress.
type hold struct {
	task     messages.Task
	since    time.Time
	progress *Progress
}

func (w *Worker) hold(task messages.Task) *hold {
	h := &hold{task: task, since: time.Now().UTC(), progress: &Progress{}}
	w.mu.Lock()
	w.holding[h] = struct{}{}
	w.mu.Unlock()
	return h
}

func (w *Worker) release(h *hold) {
	w.mu.Lock()
	delete(w.holding, h)
	w.mu.Unlock()
}

// holdings lists what the worker holds now, a line per file.
func (w *Worker) holdings() []messages.Holding {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []messages.Holding
	for h := range w.holding {
		for _, f := range h.task.Files {
			out = append(out, messages.Holding{
				LoadID: h.task.LoadID, Table: h.task.Table, Token: messages.RecordToken(f.Source, f.Range), Key: f.Source.Key,
				Bytes: h.progress.Bytes(), Rows: h.progress.Rows(), Since: h.since,
			})
		}
	}
	return out
}
