package worker

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/s3load/s3load/messages"
)

// announce writes the worker's record at once and then every heartbeat:
// who it is, the job it runs, what it holds and how far each file got.
func (w *Worker) announce(ctx context.Context) {
	if w.cfg.Registry == nil {
		return
	}
	t := time.NewTicker(w.cfg.Heartbeat)
	defer t.Stop()
	for {
		rec := messages.WorkerRecord{
			ID: w.cfg.ID, Job: w.cfg.Job, Host: w.cfg.Host, PID: w.cfg.PID, Version: w.cfg.Version, Slots: w.cfg.Slots,
			Started: w.started.UTC(), Updated: time.Now().UTC(), Spec: w.cfg.Spec, Holding: w.holdings(),
		}
		if since, paused := w.breaker.pausedSince(); paused {
			rec.Paused = fmt.Sprintf("the store keeps failing; probing it since %s", since.UTC().Format(time.RFC3339))
		}
		if err := w.cfg.Registry.PutWorker(ctx, rec); err != nil && ctx.Err() == nil {
			w.cfg.Logger.Debug("announcing the worker", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// withdraw removes the worker's record as it stops, so nobody counts it.
func (w *Worker) withdraw(ctx context.Context) {
	if w.cfg.Registry == nil {
		return
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abandonTimeout)
	defer cancel()
	_ = w.cfg.Registry.DeleteWorker(dctx, w.cfg.Job, w.cfg.ID)
}

// Agreement check timing: how long a worker may sit without a task before
// it looks for its coordinator, how often it looks, and how old a lease may
// be and still count as a coordinator at work.
const (
	agreementIdle     = 5 * time.Second
	agreementInterval = 5 * time.Second
	agreementRepeat   = time.Minute
	leaseFresh        = 2 * time.Minute
)

// checkAgreement warns, within seconds, when the worker sits idle and no
// coordinator runs its job while coordinators of other jobs do: its config
// differs from theirs, and the warning names the difference. Without it a
// worker started with a slightly different config waits forever, silently.
func (w *Worker) checkAgreement(ctx context.Context) {
	if w.cfg.Registry == nil {
		return
	}
	var said string
	var saidAt time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(agreementInterval):
		}
		w.mu.Lock()
		idle := time.Since(w.lastJob) >= agreementIdle && len(w.holding) == 0
		w.mu.Unlock()
		if !idle {
			w.setNote("")
			continue
		}
		leases, err := w.cfg.Registry.Leases(ctx)
		if err != nil {
			continue
		}
		note := disagreement(w.cfg.Job, w.cfg.Spec, leases, time.Now())
		w.setNote(note)
		if note != "" && (note != said || time.Since(saidAt) >= agreementRepeat) {
			w.cfg.Logger.Warn(note)
			said, saidAt = note, time.Now()
		}
	}
}

// disagreement describes why no coordinator will give this worker tasks,
// or returns "" when one runs its job or none runs at all (the coordinator
// may simply not have started yet).
func disagreement(job string, spec messages.JobSpec, leases []messages.LeaseRecord, now time.Time) string {
	var others []string
	for _, l := range leases {
		if now.Sub(l.Renewed) > leaseFresh {
			continue
		}
		if l.Job == job {
			return ""
		}
		diff := messages.DescribeDiff(messages.Diff(l.Spec, spec), "coordinator", "this worker", 4)
		others = append(others, fmt.Sprintf("coordinator %s on %s runs job %s, whose config differs: %s", l.Holder, l.Host, l.Job, diff))
	}
	if len(others) == 0 {
		return ""
	}
	return fmt.Sprintf("no coordinator runs this worker's job %s, so it gets no task; %s. Start the worker with the coordinator's config",
		job, strings.Join(others, "; "))
}

func (w *Worker) setNote(s string) {
	w.mu.Lock()
	w.note = s
	w.mu.Unlock()
}

// pullState follows whether the worker can pull tasks.
type pullState struct {
	failingSince time.Time
	err          error
	warned       bool
}

// pullUnhealthyAfter is how long pulls may fail before the worker reports
// itself unhealthy: a NATS restart takes a second or two.
const pullUnhealthyAfter = 10 * time.Second

// pulled notes the result of one pull: nil for a task or an empty wait.
func (w *Worker) pulled(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := &w.pull
	if err == nil {
		if p.warned {
			w.cfg.Logger.Info("pulling tasks again", "after", time.Since(p.failingSince).Round(time.Second))
		}
		*p = pullState{}
		return
	}
	if p.failingSince.IsZero() {
		p.failingSince = time.Now()
	}
	p.err = err
	if !p.warned && time.Since(p.failingSince) >= pullUnhealthyAfter {
		p.warned = true
		w.cfg.Logger.Warn("cannot pull tasks; retrying", "err", err, "for", time.Since(p.failingSince).Round(time.Second))
	}
}

// Health says whether the worker can do its job now, and what is worth
// knowing: it is unhealthy while it cannot pull tasks; paused or idle for
// want of its coordinator, it is healthy (restarting it would not help)
// and says so.
func (w *Worker) Health() (ok bool, detail string) {
	w.mu.Lock()
	p, note := w.pull, w.note
	w.mu.Unlock()
	if !p.failingSince.IsZero() && time.Since(p.failingSince) >= pullUnhealthyAfter {
		return false, fmt.Sprintf("cannot pull tasks for %s: %v", time.Since(p.failingSince).Round(time.Second), p.err)
	}
	var parts []string
	if since, paused := w.breaker.pausedSince(); paused {
		parts = append(parts, fmt.Sprintf("paused for %s: the store keeps failing", time.Since(since).Round(time.Second)))
	}
	if note != "" {
		parts = append(parts, note)
	}
	return true, strings.Join(parts, "; ")
}
